"""What people see of the split: buyers on the product and order pages and in the mail, finance staff on the
ledger and rules screens, and the export an auditor is handed."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from shop.extensions import db
from shop.i18n import format_day
from shop.ledger.models import LedgerEntry, Part, SplitRule
from shop.ledger.service import accounting_month
from shop.timeutil import today
from tests import factories as f
from tests.helpers import buyer_client, logged_in, text_of
from tests.ledger.factories import paid, rule


def test_the_product_page_shows_where_each_rupiah_of_the_price_goes(client):
    rule()
    shallots = f.product(price=45_000, name_id="Bawang Goreng")
    db.session.commit()

    page = text_of(client.get(f"/produk/{shallots.slug}"))

    assert "Ke mana uang Anda" in page and "Dari Rp45.000 yang Anda bayar untuk produk ini" in page
    assert "Rp6.750 PNBP (penerimaan negara)" in page and "Rp24.750 Koperasi" in page
    assert "Rp6.750 Premi pembuat" in page and "Rp6.750 Modal produksi" in page
    english = client.get("/bahasa/en", follow_redirects=True)
    assert english.status_code == 200
    assert "IDR 6,750 PNBP (state revenue)" in text_of(client.get(f"/produk/{shallots.slug}"))
    assert "Where your money goes" in text_of(client.get("/ke-mana-uang-anda"))


def test_the_order_page_and_the_confirmation_mail_show_the_split_of_the_whole_order(app, smtp_inbox):
    rule()
    order, _ = paid({f.product(price=45_000): 2})
    from shop.checkout.mail import queue_confirmation
    from shop.outbox.service import deliver_due

    page = text_of(buyer_client(app, order.number).get(f"/pesanan/{order.number}"))
    with app.test_request_context():
        queue_confirmation(order)
        db.session.commit()
        deliver_due()

    assert "Dari Rp90.000 yang Anda bayar untuk barang pesanan ini" in page and "Rp13.500 PNBP" in page
    plain = smtp_inbox.messages[0].get_payload()[0].get_payload(decode=True).decode()
    assert "PNBP (penerimaan negara): Rp13.500" in plain


def test_finance_adds_a_new_version_of_a_rule_and_sees_why_a_product_splits_as_it_does(app):
    old = rule()
    palu = f.facility(name="Lapas Perempuan Kelas III Palu")
    bag = f.product(facility=palu, price=100_000, name_id="Tas Rajut")
    db.session.commit()
    finance = logged_in(app, "finance")

    wrong = finance.post("/staf/keuangan/aturan", data={
        "facility_id": palu.id, "effective_from": "2026-01-01", "base": "gross",
        "pnbp": "20", "premi": "20", "cooperative": "50", "production_capital": "5"})
    assert "tepat 100 %" in text_of(wrong) and 'value="50"' in wrong.get_data(as_text=True)  # typed values stay
    finance.post("/staf/keuangan/aturan", data={
        "facility_id": palu.id, "effective_from": "2026-01-01", "base": "gross", "note": "PKS 2026",
        "pnbp": "22,5", "premi": "20", "cooperative": "50", "production_capital": "7.5"})

    new = db.session.scalar(select(SplitRule).where(SplitRule.facility_id == palu.id))
    assert (new.pnbp_bp, new.production_capital_bp) == (2250, 750)
    why = text_of(finance.get(f"/staf/keuangan/aturan?product={bag.id}"))
    assert f"aturan #{new.id}" in why and "PNBP (penerimaan negara): Rp22.500" in why
    assert db.session.get(SplitRule, old.id) is not None  # the earlier version stays


def test_an_unused_rule_can_be_removed_and_a_used_one_cannot(app):
    used = rule()
    paid({f.product(price=10_000): 1})
    spare = rule(since=used.effective_from.replace(year=2099))
    db.session.commit()
    finance = logged_in(app, "finance")

    refused = finance.post(f"/staf/keuangan/aturan/{used.id}/hapus", follow_redirects=True)
    finance.post(f"/staf/keuangan/aturan/{spare.id}/hapus")

    assert "aturan ini tetap" in text_of(refused)
    assert [r.id for r in db.session.scalars(select(SplitRule))] == [used.id]


def test_finance_browses_the_ledger_by_facility_month_and_part_with_links_to_orders(app):
    rule()
    palu, tungkal = f.facility(), f.facility()
    first, _ = paid({f.product(facility=palu, price=100_000): 1})
    second, _ = paid({f.product(facility=tungkal, price=40_000): 1})
    month = accounting_month(first.paid_at)
    finance = logged_in(app, "finance")

    page = finance.get(f"/staf/keuangan/buku-besar?facility={palu.id}&month={month}&part=pnbp")

    html = page.get_data(as_text=True)
    assert f'href="/staf/pesanan/{first.number}"' in html and second.number not in html
    assert "Rp15.000" in text_of(page)
    assert logged_in(app, "fulfilment").get("/staf/keuangan/buku-besar").status_code == 403


def test_the_ledger_export_reads_in_words_with_facility_names_local_times_and_a_total_per_part(app, tmp_path):
    """#21.20: the ledger browser exports what it shows, in the reader's words (kinds and parts named, facilities by
    name, the booking time in the facility's zone and said so, the accounting day), XLSX first, with a total per
    part; the command writes the same, and a missing folder is an error message, not a traceback."""
    rule()
    palu = f.facility(name="Lapas Perempuan Kelas III Palu")
    order, _ = paid({f.product(facility=palu, price=45_000): 2, f.product(facility=palu, price=12_345): 1})
    month = accounting_month(order.paid_at)
    finance = logged_in(app, "finance")
    in_ledger = db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.part == Part.PNBP))

    page = finance.get(f"/staf/keuangan/buku-besar?month={month}").get_data(as_text=True)
    assert page.index("ekspor.xlsx") < page.index("ekspor.csv")
    sheet = load_workbook(io.BytesIO(finance.get(f"/staf/keuangan/buku-besar/ekspor.xlsx?month={month}").data)).active
    values = list(sheet.iter_rows(values_only=True))
    header = list(values[0])
    assert header[:8] == ["No.", "Bulan", "Hari akuntansi", "Dibukukan (waktu setempat UPT)", "Zona", "Jenis",
                          "Bagian", "Jumlah (Rp)"]
    body = [r for r in values[1:] if r[0] != "Total"]
    assert {r[10] for r in body} - {None} == {palu.name} and {r[4] for r in body} == {"WITA"}  # fees: no facility
    assert header[8:10] == ["Pesanan atau penjualan", "Kanal"] and {r[9] for r in body} == {"daring"}  # #28
    assert {r[5] for r in body} >= {"penjualan"} and "PNBP (penerimaan negara)" in {r[6] for r in body}
    assert ("Total", "PNBP (penerimaan negara)", in_ledger) in {(r[0], r[6], r[7]) for r in values[1:]}
    assert sheet["D2"].number_format == "yyyy-mm-dd hh:mm" and sheet["H2"].number_format.startswith('"Rp"')

    runner = app.test_cli_runner()
    for fmt in ("csv", "xlsx"):
        result = runner.invoke(args=["ledger", "export", "--month", month, "--format", fmt,
                                     "--output", str(tmp_path / f"buku.{fmt}")])
        assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO((tmp_path / "buku.csv").read_bytes().decode("utf-8-sig"))))
    assert rows[0][5:8] == ["Jenis", "Bagian", "Jumlah (Rp)"]
    assert ["Total", "PNBP (penerimaan negara)", str(in_ledger)] in [[r[0], r[6], r[7]] for r in rows]
    refused = runner.invoke(args=["ledger", "export", "--month", "11-2026", "--output", str(tmp_path / "x.csv")])
    missing = runner.invoke(args=["ledger", "export", "--month", month, "--output", str(tmp_path / "no" / "x.csv")])
    assert refused.exit_code != 0 and "YYYY-MM" in refused.output
    assert missing.exit_code == 2 and "does not exist" in missing.output and "Traceback" not in missing.output


def test_the_demo_seed_loads_the_demo_rule_and_a_facility_rule(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo", "--no-images"])
    runner.invoke(args=["seed-demo", "--no-images"])

    rules = db.session.scalars(select(SplitRule).order_by(SplitRule.id)).all()
    assert len(rules) == 2
    assert rules[0].facility_id is None and rules[0].shares[Part.PNBP] == 1500
    assert rules[1].facility.slug == "lapas-kuala-tungkal" and rules[1].facility.timezone == "Asia/Jakarta"


def test_a_bank_charge_recorded_when_confirming_a_transfer_is_booked_as_the_fee(app):
    from shop.orders import service as orders
    from shop.payments.models import Payment, PaymentMethod

    rule()
    order = f.order({f.product(price=100_000): 1})
    payment = Payment(order=order, method=PaymentMethod.BANK_TRANSFER, amount=order.total)
    db.session.add(payment)
    db.session.commit()
    staff = logged_in(app, "fulfilment")

    too_much = staff.post(f"/staf/pembayaran/{payment.id}/konfirmasi", data={"reference": "BRI 9", "fee": "999999"},
                          follow_redirects=True)
    assert "Biaya bank harus lebih kecil" in text_of(too_much)
    staff.post(f"/staf/pembayaran/{payment.id}/konfirmasi", data={"reference": "BRI 9", "fee": "6500"})

    db.session.expire_all()
    assert order.status is orders.OrderStatus.PAID and (payment.fee, payment.net) == (6_500, order.total - 6_500)
    fees = dict(db.session.execute(select(LedgerEntry.part, LedgerEntry.amount).where(
        LedgerEntry.set_key == f"fee:P{payment.id}")).tuples().all())
    assert fees == {Part.FEE: 6_500, Part.COOPERATIVE: -6_500}


def test_a_rule_cannot_reach_back_over_booked_sales_and_the_confirmation_says_from_when(app):
    """#21.2: sales booked on or after the date keep their rule, so a rule from before them is refused; a rule
    from today is accepted and the message names its day."""
    rule(since=date(2026, 1, 1))
    bag = f.product(price=100_000)
    paid({bag: 1})
    db.session.commit()
    finance = logged_in(app, "finance")
    form = {"effective_from": "2026-06-01", "base": "gross", "pnbp": "20", "premi": "20", "cooperative": "50",
            "production_capital": "10"}

    refused = finance.post("/staf/keuangan/aturan", data=form)

    assert "Sudah ada penjualan yang dibukukan pada atau setelah tanggal itu" in text_of(refused)
    assert db.session.scalar(select(func.count(SplitRule.id))) == 1
    saved = finance.post("/staf/keuangan/aturan", data={**form, "effective_from": today().isoformat()},
                         follow_redirects=True)
    assert f"Penjualan yang dibayar sejak {format_day(today())}" in text_of(saved)
    assert db.session.scalar(select(func.count(SplitRule.id))) == 2
