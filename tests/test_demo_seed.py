"""`flask seed-demo` loads the shared demo data, and a second run changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.catalog.models import Facility, Product, ProductImage, Region
from shop.certification.models import Certification
from shop.extensions import db


def snapshot() -> dict:
    rows = {}
    for model in (Region, Facility, Product, ProductImage, Certification):
        for row in db.session.scalars(select(model)):
            rows[(model.__name__, row.id)] = {c.key: getattr(row, c.key) for c in model.__table__.columns}
    return rows


def test_seed_demo_loads_facilities_and_products_and_is_idempotent(app):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    db.session.expire_all()
    before = snapshot()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()

    assert snapshot() == before
    assert db.session.scalar(select(func.count(Facility.id))) == 9
    assert db.session.scalar(select(func.count(Product.id))) == 14
    palu = db.session.scalar(select(Facility).where(Facility.slug == "lapas-perempuan-palu"))
    assert palu.name == "Lapas Perempuan Kelas III Palu" and palu.region.name == "Sulawesi Tengah"
    bawang = db.session.scalar(select(Product).where(Product.slug == "bawang-goreng-palu-200g"))
    assert bawang.price == 45_000 and len(bawang.images) == 1
    assert {c.cert_type.value for c in bawang.certifications} == {"halal", "pirt"}


def test_demo_shop_pages_render(app, client):
    app.test_cli_runner().invoke(args=["seed-demo", "--no-images"])

    home = client.get("/").get_data(as_text=True)
    teri = client.get("/produk/ikan-asin-teri").get_data(as_text=True)

    assert "Bawang Goreng Khas Palu 200 g" in home
    assert "Segera hadir" in teri  # its P-IRT expired on 2025-10-01


def test_demo_sales_give_the_finance_desk_a_history_that_reconciles(app, client):
    from shop.finance import reconciliation
    from shop.finance.models import PnbpDeposit
    from shop.ledger.models import LedgerEntry, PeriodClose
    from shop.orders.models import Order

    runner = app.test_cli_runner()
    seeded = runner.invoke(args=["seed-demo", "--no-images", "--with-sales"])
    assert seeded.exit_code == 0, seeded.output
    assert "FROZEN_NOW" not in app.config  # the clock is back to the real one
    orders = db.session.scalar(select(func.count(Order.id)))
    assert orders >= 10 and "demo orders" in seeded.output
    assert db.session.scalar(select(func.count(PnbpDeposit.id))) > 0
    assert db.session.scalar(select(func.count(PeriodClose.id))) > 0
    from shop.ledger.models import Channel
    from shop.sales.models import DirectSale

    assert db.session.scalar(select(func.count(DirectSale.id))) >= 5  # #28: a gallery's and a bazaar's sales
    assert db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.channel == Channel.DIRECT)) > 0
    verify = runner.invoke(args=["ledger", "verify"])
    assert verify.exit_code == 0, verify.output
    states = {row.state.value for row in reconciliation.overview()}
    assert {"closed", "outstanding"} <= states
    entries = db.session.scalar(select(func.count(LedgerEntry.id)))

    again = runner.invoke(args=["seed-demo", "--no-images", "--with-sales"])
    assert again.exit_code == 0, again.output
    assert (db.session.scalar(select(func.count(Order.id))), db.session.scalar(select(func.count(LedgerEntry.id)))) \
        == (orders, entries)
    from shop.finance import reports

    reports.clear_impact_cache()
    impact = client.get("/dampak").get_data(as_text=True)
    assert "Belum ada penjualan" not in impact and 'id="impact-premi">Rp0<' not in impact


def test_every_demo_product_has_a_description_in_both_languages_and_its_net_content(app, client):
    """#23.4–5: what a buyer decides on comes first on the product page; "200 g" is the net content, and the
    250 g shipped with the packaging is named as such."""
    from tests.helpers import text_of

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    for product in db.session.scalars(select(Product)):
        assert product.description_id and product.description_en and product.net_content, product.slug

    page = text_of(client.get("/produk/bawang-goreng-palu-200g"))

    assert "Isi bersih 200 g" in page and "Berat kirim 250 g dengan kemasan" in page
    assert page.index("Komposisi: bawang merah") < page.index("Isi bersih")  # the description first
    client.get("/bahasa/en")
    assert "Ingredients: shallots, palm oil, salt" in text_of(client.get("/produk/bawang-goreng-palu-200g"))
