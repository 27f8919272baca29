"""#28 in Chromium: sales recorded at an exhibition while the connection is down wait on the phone (IndexedDB), are
shown as waiting, and are sent when it is back, each exactly once; the screen fits a phone and a laptop, axe clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from shop.catalog.models import Product
from shop.extensions import db
from shop.sales import service as svc
from shop.sales.models import DirectSale, PointKind
from tests import factories as f
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_first_visit import axe_page  # noqa: F401 (the fixture: a page axe can be injected into)
from tests.helpers import VIEWPORTS, fits, log_in_browser
from tests.ledger.factories import rule

pytestmark = pytest.mark.browser


def sales_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(DirectSale))


@pytest.mark.parametrize("device", VIEWPORTS)
def test_sales_made_offline_wait_on_the_phone_and_are_sent_once_when_the_connection_is_back(
        app, axe_page, live_server, device):  # noqa: F811 (the imported fixture)
    page = axe_page
    page.set_viewport_size(VIEWPORTS[device])
    rule()
    bag = f.product(name_id="Tas Rajut Biru", price=125_000, stock=3)
    f.product(name_id="Bawang Goreng Palu", price=35_000, stock=20)
    seller = f.user("fulfilment", email="kasir@koperasi.id")
    point = svc.save_point(svc.PointInput(name="Bazar HBP Palu", kind=PointKind.EXHIBITION, seller_ids=[seller.id]),
                           actor=None)
    db.session.commit()

    log_in_browser(page, live_server, seller.email)
    page.goto(f"{live_server}/staf/penjualan/{point.id}")
    expect(page.get_by_label("Cari produk yang dijual")).to_be_visible()  # the script runs: search, total, queue
    fits(page)
    assert serious_violations(page) == []

    page.context.set_offline(True)
    page.get_by_label("Cari produk yang dijual").fill("rajut")
    expect(page.locator(".sale-product", has_text="Bawang Goreng Palu")).to_be_hidden()
    page.locator(".sale-product", has_text="Tas Rajut Biru").get_by_role("button", name="Tambah satu").click()
    expect(page.locator("#sale-total")).to_have_text("Rp125.000")
    page.get_by_role("button", name="Catat penjualan").click()
    queue = page.locator("#sale-queue")
    expect(queue).to_be_visible()
    expect(queue.locator(".queue-state")).to_contain_text("Tidak ada koneksi")
    expect(queue.locator(".queue-item.waiting")).to_have_count(1)

    page.locator(".sale-product", has_text="Tas Rajut Biru").get_by_label("Jumlah").fill("1")
    page.get_by_label("Transfer bank").check()
    page.get_by_role("button", name="Catat penjualan").click()
    expect(queue.locator(".queue-item.waiting")).to_have_count(2)
    assert sales_count() == 0  # nothing reached the shop yet
    fits(page)

    page.context.set_offline(False)  # the browser says "online": the phone sends what waits
    expect(queue.locator(".queue-item.sent")).to_have_count(2, timeout=15_000)
    expect(queue.locator(".queue-item.waiting")).to_have_count(0)
    assert sales_count() == 2
    db.session.expire_all()
    assert db.session.get(Product, bag.id).stock == 1

    page.locator(".queue-send").evaluate("button => button.click()")  # sending again sends nothing twice
    page.reload()
    expect(page.locator(".sale-list li")).to_have_count(2)
    assert sales_count() == 2
    methods = sorted(m.value for m in db.session.scalars(select(DirectSale.method)))
    assert methods == ["cash", "transfer"]


def test_a_sale_refused_for_stock_stays_on_the_phone_with_its_reason_until_removed(app, page, live_server):
    rule()
    bag = f.product(name_id="Tas Rajut Biru", price=125_000, stock=1)
    seller = f.user("fulfilment", email="kasir2@koperasi.id")
    point = svc.save_point(svc.PointInput(name="Galeri Uji", kind=PointKind.EXHIBITION, seller_ids=[seller.id]),
                           actor=None)
    db.session.commit()
    log_in_browser(page, live_server, seller.email)
    page.goto(f"{live_server}/staf/penjualan/{point.id}")
    expect(page.get_by_label("Cari produk yang dijual")).to_be_visible()
    page.context.set_offline(True)
    page.locator(".sale-product", has_text="Tas Rajut Biru").get_by_label("Jumlah").fill("1")
    page.get_by_role("button", name="Catat penjualan").click()
    expect(page.locator(".queue-item.waiting")).to_have_count(1)
    # Meanwhile the last bag sold online: the stock on record is 0 when the phone comes back.
    db.session.get(Product, bag.id).stock = 0
    db.session.commit()
    page.context.set_offline(False)
    refused = page.locator(".queue-item.refused")
    expect(refused).to_have_count(1, timeout=15_000)
    expect(refused).to_contain_text("Tas Rajut Biru")
    expect(refused).to_contain_text("stok tercatat 0")
    assert sales_count() == 0
    refused.get_by_role("button", name="Hapus").click()
    expect(page.locator(".queue-item")).to_have_count(0)
