"""The PNBP desk as its users see it: finance records deposits and closes months in the browser's forms,
facility staff read their own facility only, the exports read back with openpyxl match the ledger, the
command-line report, and the public impact page."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

from openpyxl import load_workbook
from sqlalchemy import func, select

from shop.extensions import db
from shop.finance import deposits, reports
from shop.finance.deposits import DepositInput
from shop.finance.models import PnbpDeposit
from shop.ledger.models import LedgerEntry, Part
from tests import factories as f
from tests.helpers import logged_in, text_of
from tests.ledger.factories import paid, rule

PDF = f.PDF


def two_facilities(app):
    """Sales in Palu (WITA) and Kuala Tungkal (WIB) in September and October 2026; today is 3 November."""
    rule()
    palu = f.facility(name="Lapas Perempuan Kelas III Palu", slug="lapas-perempuan-palu")
    jambi = f.facility(name="Lapas Kelas IIB Kuala Tungkal", slug="lapas-kuala-tungkal", timezone="Asia/Jakarta")
    bag, fish = f.product(facility=palu, price=100_000, stock=99), f.product(facility=jambi, price=40_000, stock=99)
    app.config["FROZEN_NOW"] = datetime(2026, 9, 10, 3, 0, tzinfo=UTC)
    paid({bag: 1, fish: 2})
    app.config["FROZEN_NOW"] = datetime(2026, 10, 14, 3, 0, tzinfo=UTC)
    paid({bag: 2}, fee=0)
    app.config["FROZEN_NOW"] = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    return palu, jambi


def form(facility, **changes) -> dict:
    values = {"facility_id": str(facility.id), "amount": "30.000", "month_1": "2026-10", "amount_1": "30000",
              "billing_code": "820261015000123", "billing_expires_on": "2026-11-06", "deposited_on": "2026-11-03",
              "ntpn": "0a1b 2c3d 4e5f 6g7h", "ntb": "BRI000123456", "bank": "BRI Unit Palu",
              "receipt": (io.BytesIO(PDF), "setoran.pdf")}
    values.update(changes)
    return values


def pnbp_booked(facility_id: int | None = None, month: str | None = None) -> int:
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.part == Part.PNBP)
    if facility_id:
        query = query.where(LedgerEntry.facility_id == facility_id)
    if month:
        query = query.where(LedgerEntry.month == month)
    return int(db.session.scalar(query))


def test_finance_records_a_deposit_in_the_form_and_bad_input_keeps_what_was_typed(app):
    palu, _ = two_facilities(app)
    finance = logged_in(app, "finance")

    refused = finance.post("/staf/keuangan/setoran", data=form(palu, billing_code="8202610150001", ntpn="SHORT"),
                           content_type="multipart/form-data")
    page = text_of(refused)
    assert refused.status_code == 400
    assert "Kode billing terdiri dari tepat 15 angka." in page and "NTPN terdiri dari tepat 16 huruf dan angka." in page
    html = refused.get_data(as_text=True)
    assert 'value="BRI Unit Palu"' in html and 'value="30.000"' in html and 'value="2026-11-03"' in html
    assert db.session.scalar(select(func.count()).select_from(PnbpDeposit)) == 0

    done = finance.post("/staf/keuangan/setoran", data=form(palu), content_type="multipart/form-data")
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10")
    month = text_of(finance.get(done.headers["Location"]))
    assert "Setoran 0A1B2C3D4E5F6G7H dicatat." in month and "seimbang" in month
    deposit = db.session.scalars(select(PnbpDeposit)).one()
    with finance.get(f"/staf/keuangan/setoran/{deposit.id}/bukti") as receipt:
        assert receipt.data == PDF

    duplicate = finance.post("/staf/keuangan/setoran", data=form(palu), content_type="multipart/form-data")
    assert "Setoran dengan NTPN ini sudah tercatat." in text_of(duplicate)


def test_finance_closes_a_balanced_month_and_an_admin_reopens_it_with_a_reason(app):
    palu, _ = two_facilities(app)
    deposits.record_deposit(DepositInput(facility_id=palu.id, amount=30_000, months={"2026-10": 30_000},
                                         billing_code="820261015000123", billing_expires_on=date(2026, 11, 6),
                                         ntpn="0A1B2C3D4E5F6G7H", ntb="1", deposited_on=date(2026, 11, 3),
                                         bank="BRI"), PDF, actor=None)
    db.session.commit()
    finance, admin = logged_in(app, "finance"), logged_in(app, "admin")
    url = "/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10"

    closed = text_of(finance.post(f"{url}/tutup", follow_redirects=True))
    assert "2026-10 ditutup untuk Lapas Perempuan Kelas III Palu." in closed and "ditutup" in closed
    assert finance.post(f"{url}/buka", data={"reason": "salah"}).status_code == 403
    no_reason = text_of(admin.post(f"{url}/buka", data={"reason": ""}, follow_redirects=True))
    assert "Sebutkan alasannya." in no_reason
    reopened = text_of(admin.post(f"{url}/buka", data={"reason": "NTPN salah"}, follow_redirects=True))
    assert "2026-10 dibuka kembali" in reopened and "seimbang" in reopened
    september = text_of(finance.post("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-09/tutup", follow_redirects=True))
    assert "Bulan ini belum seimbang" in september


def test_facility_staff_read_their_own_facilitys_reconciliation_only(app):
    palu, jambi = two_facilities(app)
    treasurer = logged_in(app, "facility", facility_id=jambi.id)

    overview = text_of(treasurer.get("/staf/keuangan/pnbp"))
    assert "Lapas Kelas IIB Kuala Tungkal" in overview and "Lapas Perempuan Kelas III Palu" not in overview
    assert treasurer.get(f"/staf/keuangan/pnbp?facility={palu.id}").status_code == 200
    assert "Lapas Perempuan Kelas III Palu" not in text_of(treasurer.get(f"/staf/keuangan/pnbp?facility={palu.id}"))
    assert treasurer.get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10").status_code == 403
    own = treasurer.get("/staf/keuangan/pnbp/lapas-kuala-tungkal/2026-09")
    assert own.status_code == 200 and "Tutup 2026-09" not in text_of(own) and "Catat setoran" not in text_of(own)
    assert treasurer.post("/staf/keuangan/setoran", data=form(jambi)).status_code == 403
    assert treasurer.post("/staf/keuangan/pnbp/lapas-kuala-tungkal/2026-09/tutup").status_code == 403
    sheet = load_workbook(io.BytesIO(treasurer.get("/staf/keuangan/pnbp/ekspor.xlsx").data)).active
    assert {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"Lapas Kelas IIB Kuala Tungkal", None}
    assert logged_in(app, "fulfilment").get("/staf/keuangan/pnbp").status_code == 403


def test_the_month_page_drills_down_to_the_entries_and_deposits_behind_its_figures(app):
    palu, _ = two_facilities(app)
    finance = logged_in(app, "finance")

    page = finance.get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10")
    text = text_of(page)
    order_numbers = db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.part == Part.PNBP, LedgerEntry.facility_id == palu.id, LedgerEntry.month == "2026-10")).all()
    assert order_numbers and all(entry.order.number in text for entry in order_numbers)
    assert "Rp30.000" in text and "Belum ada setoran untuk bulan ini." in text
    assert f"/staf/keuangan/setoran?facility={palu.id}&amp;month=2026-10&amp;amount=30000" in \
        page.get_data(as_text=True)
    prefilled = finance.get(f"/staf/keuangan/setoran?facility={palu.id}&month=2026-10&amount=30000")
    assert 'value="2026-10"' in prefilled.get_data(as_text=True)


def test_a_month_with_more_entries_than_a_page_pages_through_them(app, monkeypatch):
    from shop.finance import views as pnbp_views

    palu, _ = two_facilities(app)
    app.config["FROZEN_NOW"] = datetime(2026, 10, 20, 3, 0, tzinfo=UTC)
    paid({f.product(facility=palu, price=50_000): 1})  # October now has two PNBP entries
    app.config["FROZEN_NOW"] = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    monkeypatch.setattr(pnbp_views, "ENTRIES_PER_PAGE", 1)
    finance = logged_in(app, "finance")

    first = finance.get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10")
    assert first.status_code == 200 and "Halaman 1 dari" in text_of(first)
    assert 'href="/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10?page=2"' in first.get_data(as_text=True)
    second = finance.get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10?page=2")
    assert second.status_code == 200 and "Halaman 2 dari" in text_of(second)


def test_the_overview_queries_do_not_grow_with_facilities_or_months(app, count_queries):
    two_facilities(app)
    finance = logged_in(app, "finance")
    finance.get("/staf/keuangan/pnbp")
    with count_queries() as few:
        assert finance.get("/staf/keuangan/pnbp").status_code == 200
    for n in range(4):
        app.config["FROZEN_NOW"] = datetime(2026, 6 + n, 5, 3, 0, tzinfo=UTC)
        paid({f.product(facility=f.facility(), price=10_000): 1})
    app.config["FROZEN_NOW"] = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    with count_queries() as many:
        assert finance.get("/staf/keuangan/pnbp").status_code == 200
    assert many.count == few.count


def test_every_export_reads_back_with_totals_that_match_the_ledger(app):
    palu, jambi = two_facilities(app)
    deposits.record_deposit(DepositInput(facility_id=palu.id, amount=45_000, months={"2026-09": 15_000,
                                                                                      "2026-10": 30_000},
                                         billing_code="820261015000123", billing_expires_on=date(2026, 11, 6),
                                         ntpn="0A1B2C3D4E5F6G7H", ntb="1", deposited_on=date(2026, 11, 3),
                                         bank="BRI"), PDF, actor=None)
    db.session.commit()
    finance = logged_in(app, "finance")

    book = load_workbook(io.BytesIO(finance.get("/staf/keuangan/pnbp/ekspor.xlsx?year=2026").data))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]][:6] == ["Bulan", "Wilayah", "UPT", "PNBP terutang", "PNBP disetor",
                                                "Kurang setor"]
    body, totals = list(sheet.iter_rows(min_row=2))[:-1], list(sheet.iter_rows(min_row=2))[-1]
    assert totals[0].value == "Jumlah" and totals[3].value == pnbp_booked() == 15_000 + 12_000 + 30_000
    assert totals[4].value == 45_000 and totals[5].value == pnbp_booked() - 45_000
    assert all(isinstance(row[3].value, int) and row[3].number_format == reports.RUPIAH_FORMAT for row in body)
    assert all(isinstance(row[12].value, datetime) and row[12].number_format == "yyyy-mm-dd" for row in body)
    # #21.15: deposited on 3 November, the September sale was due on 11 September and October's on the 15th
    late = {(row[0].value, row[2].value): (row[8].value, row[9].value) for row in body}
    assert late[("2026-09", palu.name)] == (15_000, 53) and late[("2026-10", palu.name)] == (30_000, 19)
    assert [c.value for c in sheet[1]][8:10] == ["Disetor terlambat", "Hari terlambat (paling lama)"]
    month_page = text_of(finance.get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-09"))
    assert "Disetor terlambat Rp15.000 paling lama 53 hari setelah batas waktunya" in month_page

    deposit_sheet = load_workbook(io.BytesIO(finance.get("/staf/keuangan/setoran/ekspor.xlsx").data)).active
    rows = list(deposit_sheet.iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in rows[:-1]] == ["2026-09", "2026-10"] and rows[-1][4] == 45_000
    assert isinstance(rows[0][2], datetime) and rows[0][2].date() == date(2026, 11, 3)

    summary = load_workbook(io.BytesIO(finance.get("/staf/keuangan/ringkasan/ekspor.xlsx?year=2026").data)).active
    headers = [c.value for c in summary[1]]
    last = [c.value for c in list(summary.iter_rows())[-1]]
    for header, part in (("Penjualan", Part.GROSS), ("PNBP", Part.PNBP), ("Premi", Part.PREMI),
                         ("Koperasi", Part.COOPERATIVE), ("Modal produksi", Part.PRODUCTION_CAPITAL)):
        booked = db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.part == part))
        assert last[headers.index(header)] == booked, header

    lines = list(csv.reader(io.StringIO(finance.get("/staf/keuangan/pnbp/ekspor.csv").data.decode("utf-8-sig"))))
    assert lines[0][0] == "Bulan" and lines[-1][0] == "Jumlah" and int(lines[-1][3]) == pnbp_booked()
    assert finance.get("/staf/keuangan/pnbp/ekspor.pdf").status_code == 404


def test_the_summary_page_shows_each_facility_and_month_with_its_chart_data(app):
    palu, jambi = two_facilities(app)
    finance = logged_in(app, "finance")

    page = finance.get("/staf/keuangan/ringkasan?year=2026")
    html, text = page.get_data(as_text=True), text_of(page)
    assert "Lapas Perempuan Kelas III Palu" in text and "Lapas Kelas IIB Kuala Tungkal" in text
    assert 'id="summary-data"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert "Rp200.000" in text  # Palu's October sales
    with finance.get("/static/vendor/chartjs/chart.umd.min.js") as script:
        assert script.status_code == 200 and b"Chart.js v4" in script.data


def test_the_pnbp_report_command_writes_the_summary(app, tmp_path):
    two_facilities(app)
    db.session.commit()
    out = tmp_path / "laporan.xlsx"

    result = app.test_cli_runner().invoke(args=["pnbp", "report", "--year", "2026", "--facility",
                                                "lapas-perempuan-palu", "--format", "xlsx", "--output", str(out)])

    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {r[1] for r in rows[:-1]} == {"Lapas Perempuan Kelas III Palu"}
    assert rows[-1][4] == 15_000 + 30_000
    bad = app.test_cli_runner().invoke(args=["pnbp", "report", "--year", "2026", "--facility", "nope",
                                             "--output", str(out)])
    assert bad.exit_code != 0 and "nope" in bad.output


def test_the_impact_page_shows_figures_from_the_ledger_without_personal_data(app, client, count_queries):
    palu, jambi = two_facilities(app)
    db.session.commit()
    reports.clear_impact_cache()

    page = text_of(client.get("/dampak"))
    premi = db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.part == Part.PREMI))
    assert "5 produk terjual" in page  # 1 + 2 + 2 units
    assert f"Rp{premi:,}".replace(",", ".") in page and f"Rp{pnbp_booked():,}".replace(",", ".") in page
    assert "Siti Aminah" not in page and "siti@example.id" not in page
    with count_queries() as cached:
        client.get("/dampak")
    assert not any("ledger_entry" in statement for statement in cached.statements)

    client.get("/bahasa/en?next=/dampak")
    english = client.get("/dampak")
    assert english.status_code == 302 and english.headers["Location"].endswith("/impact")
    assert "What your purchases did" in text_of(client.get("/impact"))


def test_facilities_are_listed_a_to_z_and_one_facilitys_over_deposit_never_pays_anothers_shortfall(app):
    from shop.finance import reconciliation

    rule()
    region = f.region()
    zeta = f.facility(name="Rutan Zeta", slug="rutan-zeta", region=region)
    alfa = f.facility(name="Lapas Alfa", slug="lapas-alfa", region=region)
    app.config["FROZEN_NOW"] = datetime(2026, 10, 14, 3, 0, tzinfo=UTC)
    paid({f.product(facility=zeta, price=100_000): 1, f.product(facility=alfa, price=100_000): 1})
    app.config["FROZEN_NOW"] = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    deposits.record_deposit(DepositInput(facility_id=alfa.id, amount=20_000, months={"2026-10": 20_000},
                                         billing_code="820261015000123", billing_expires_on=date(2026, 11, 6),
                                         ntpn="0A1B2C3D4E5F6G7H", ntb="1", deposited_on=date(2026, 11, 3),
                                         bank="BRI"), PDF, actor=None)  # 5,000 too much at Alfa; Zeta owes 15,000
    db.session.commit()

    rows = [row for row in reconciliation.overview() if row.month == "2026-10"]
    assert [row.facility.name for row in rows] == ["Lapas Alfa", "Rutan Zeta"]
    sums = reconciliation.totals(rows)
    assert (sums["shortfall"], sums["over_deposit"]) == (15_000, 5_000)

    finance = logged_in(app, "finance")
    page = text_of(finance.get("/staf/keuangan/pnbp?year=2026"))
    assert "kurang: Rp15.000" in page and "lebih: Rp5.000" in page
    sheet = load_workbook(io.BytesIO(finance.get("/staf/keuangan/pnbp/ekspor.xlsx?year=2026").data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][5:7] == ("Kurang setor", "Lebih setor")
    october = [row for row in values[1:-1] if row[0] == "2026-10"]
    assert [row[2] for row in october] == ["Lapas Alfa", "Rutan Zeta"]
    assert values[-1][5:7] == (15_000, 5_000)


def test_a_refund_days_negative_pnbp_owes_no_deposit_and_shows_no_deadline(app):
    from shop.orders.models import Order
    from shop.payments import service as payments
    from shop.payments.models import Payment

    palu, _ = two_facilities(app)  # Palu sold 2 bags on 14 October
    app.config["FROZEN_NOW"] = datetime(2026, 10, 20, 3, 0, tzinfo=UTC)
    order = db.session.scalars(select(Order).order_by(Order.id.desc())).first()
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id))
    payments.refund(payment, amount=0, reason="rusak", key="r", actor=None, transfer_reference="BRI 9",
                    items=payments.refund_items(order, quantities={order.lines[0].id: 1}))
    db.session.commit()
    app.config["FROZEN_NOW"] = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)

    page = logged_in(app, "finance").get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10").get_data(as_text=True)

    days = re.findall(r"<tr><td data-label=\"Hari\">(.*?)</td><td class=\"amount\" data-label=\"PNBP\">(.*?)</td>"
                      r"<td data-label=\"Setor paling lambat\">(.*?)</td></tr>", page)
    assert len(days) == 2
    (_, sale, sale_due), (_, refund, refund_due) = days
    assert sale == "Rp30.000" and sale_due == "15 Okt 2026"  # the next working day
    assert refund == "-Rp15.000" and "tidak ada yang disetor" in refund_due


def test_the_cooperatives_figure_says_whether_it_is_before_or_after_payment_fees(app):
    rule()
    app.config["FROZEN_NOW"] = datetime(2026, 10, 14, 3, 0, tzinfo=UTC)
    paid({f.product(price=100_000): 1}, fee=3_000)
    finance = logged_in(app, "finance")

    browser = text_of(finance.get("/staf/keuangan/buku-besar"))
    summary = text_of(finance.get("/staf/keuangan/ringkasan?year=2026"))

    assert "setelah biaya pembayaran" in browser and "Rp52.000" in browser  # 55,000 less the 3,000 fee
    assert "sebelum biaya pembayaran" in summary and "Rp55.000" in summary


def test_a_deposit_for_a_month_that_owes_nothing_a_month_twice_or_a_year_like_1900_is_questioned(app):
    """#21.19: the wrong facility (nothing owed there) asks for a tick first; a month on two lines says so, not
    "amounts must equal the receipt"; a year like 1900 is named as too long ago, not as "enter a date"."""
    palu, jambi = two_facilities(app)
    empty = f.facility(name="Bapas Kelas II Luwuk")
    db.session.commit()
    finance = logged_in(app, "finance")

    def post(**changes):
        return finance.post("/staf/keuangan/setoran", data=form(palu, **changes), content_type="multipart/form-data")

    nothing = post(facility_id=str(empty.id))
    assert nothing.status_code == 400 and "Tidak ada yang terutang untuk UPT dan bulan itu" in text_of(nothing)
    twice = post(month_2="2026-10", amount_2="0", amount="30000")
    assert "Setiap bulan cukup sekali" in text_of(twice) and "Jumlah per bulan harus sama" not in text_of(twice)
    old = post(deposited_on="1900-11-03")
    assert "Tanggal itu terlalu lama untuk benar: periksa tahunnya." in text_of(old)
    assert db.session.scalar(select(func.count()).select_from(PnbpDeposit)) == 0

    anyway = post(facility_id=str(empty.id), nothing_owed="1")
    assert anyway.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PnbpDeposit)) == 1
