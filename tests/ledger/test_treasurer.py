"""#29, the treasurer's month: a month with two sales, a deposit on time and one late, a refund after the deposit and
a transfer to the facility gives the cash book (BKU), the monthly statement and what is owed onward the balances a
treasurer works out by hand (below); the PDF and XLSX read back; "sent" is what the overview's report column
follows; holidays are kept by finance and move deadlines."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from shop.extensions import db
from shop.finance import cashbook, deposits, holidays, onward, paperwork, reconciliation
from shop.finance.models import HolidayKind, OnwardPart, PnbpDeposit
from shop.payments import service as payments
from tests import factories as f
from tests.helpers import logged_in, text_of
from tests.ledger.factories import paid, rule
from tests.ledger.test_pnbp import at, record


@pytest.fixture
def month(app):
    """Lapas Perempuan Palu (WITA), PNBP 15 %:
    - Wed 14 Oct: sale A, Rp100.000 → PNBP 15.000; deposited Thu 15 Oct (due that day: on time).
    - Fri 16 Oct: sale B, Rp40.000 → PNBP 6.000; due Mon 19 Oct, deposited Thu 22 Oct: 3 days late.
    - Tue 20 Oct: the cooperative transfers the facility its October PNBP, Rp21.000.
    - 2 Nov: October (balanced) is closed. Thu 5 Nov: sale A refunded whole: its PNBP 15.000 is asked back from the
      treasury, booked in November. Tue 10 Nov: sale C, Rp20.000 → PNBP 3.000. Nothing deposited in November."""
    rule()
    palu = f.facility(name="Lapas Perempuan Kelas III Palu", slug="lapas-perempuan-palu", city="Kota Palu")
    bag, shallots, floss = (f.product(facility=palu, price=price, stock=10) for price in (100_000, 40_000, 20_000))
    at(app, datetime(2026, 10, 14, 3, 0, tzinfo=UTC))
    _order_a, payment_a = paid({bag: 1})
    at(app, datetime(2026, 10, 15, 2, 0, tzinfo=UTC))
    record(palu, amount=15_000, months={"2026-10": 15_000}, deposited_on=date(2026, 10, 15),
           billing_expires_on=date(2026, 10, 20), ntpn="0A1B2C3D4E5F6G7H", billing_code="820261015000123")
    at(app, datetime(2026, 10, 16, 3, 0, tzinfo=UTC))
    paid({shallots: 1})
    at(app, datetime(2026, 10, 20, 3, 0, tzinfo=UTC))
    onward.record_transfer(palu, OnwardPart.PNBP, 21_000, date(2026, 10, 20), "BRI-TRF-77", None, "", actor=None)
    db.session.commit()
    at(app, datetime(2026, 10, 22, 3, 0, tzinfo=UTC))
    record(palu, amount=6_000, months={"2026-10": 6_000}, deposited_on=date(2026, 10, 22),
           billing_expires_on=date(2026, 10, 27), ntpn="9Z8Y7X6W5V4U3T2S", billing_code="820261022000456")
    at(app, datetime(2026, 11, 2, 3, 0, tzinfo=UTC))
    deposits.close_month(palu, "2026-10", actor=None)
    db.session.commit()
    at(app, datetime(2026, 11, 5, 3, 0, tzinfo=UTC))
    payments.refund(payment_a, amount=payment_a.amount, reason="rusak", key="r-a", actor=None,
                    transfer_reference="BRI 1", notify=False)
    db.session.commit()
    at(app, datetime(2026, 11, 10, 3, 0, tzinfo=UTC))
    paid({floss: 1})
    at(app, datetime(2026, 12, 4, 3, 0, tzinfo=UTC))
    return palu


def test_the_cash_book_of_october_and_november_match_the_hand_calculation(app, month):
    october = cashbook.cash_book(month, "2026-10")
    assert october.opening == 0
    assert [(r.day, r.received, r.deposited, r.reclaimed, r.balance) for r in october.rows] == [
        (date(2026, 10, 14), 15_000, 0, 0, 15_000),
        (date(2026, 10, 15), 0, 15_000, 0, 0),
        (date(2026, 10, 16), 6_000, 0, 0, 6_000),
        (date(2026, 10, 22), 0, 6_000, 0, 0),
    ]
    assert (october.received, october.deposited, october.closing) == (21_000, 21_000, 0)
    assert "820261015000123 · NTPN 0A1B2C3D4E5F6G7H" in october.rows[1].reference

    november = cashbook.cash_book(month, "2026-11")
    assert november.opening == 0  # 21.000 received before November, 21.000 deposited before it
    assert [(r.day, r.received, r.reclaimed, r.balance) for r in november.rows] == [
        (date(2026, 11, 5), 0, 15_000, -15_000),  # sale A's PNBP, deposited in October, asked back
        (date(2026, 11, 10), 3_000, 0, -12_000),
    ]
    assert november.closing == -12_000 == 0 + 3_000 - 0 - 15_000


def test_the_statement_says_the_months_figures_the_late_deposit_and_the_ntpn_list(app, month):
    report = cashbook.statement(month, "2026-10")
    assert report.final and report.book.opening == 0 and report.book.closing == 0
    assert (report.book.received, report.book.deposited, report.book.reclaimed) == (21_000, 21_000, 0)
    assert (report.late_amount, report.late_days) == (6_000, 3)  # due Mon 19 Oct, deposited Thu 22 Oct
    assert [(d.deposited_on, d.ntpn, d.amount) for d in report.deposits] == [
        (date(2026, 10, 15), "0A1B2C3D4E5F6G7H", 15_000), (date(2026, 10, 22), "9Z8Y7X6W5V4U3T2S", 6_000)]

    pdf = PdfReader(io.BytesIO(paperwork.statement_pdf(report)))
    text = " ".join(page.extract_text() for page in pdf.pages)
    for words in ("Laporan Bulanan Bendahara Penerimaan PNBP", "Lapas Perempuan Kelas III Palu", "Oktober 2026",
                  "Rp21.000", "0A1B2C3D4E5F6G7H", "9Z8Y7X6W5V4U3T2S", "3 hari", "Bendahara Penerimaan", "NIP"):
        assert words in text, words
    assert "DRAF" not in text

    sheet = load_workbook(io.BytesIO(paperwork.statement_table(report).xlsx())).active
    figures = {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}
    assert figures["PNBP diterima"] == 21_000 and figures["Saldo akhir"] == 0
    assert figures["Keterlambatan paling lama (hari)"] == 3

    november = cashbook.statement(month, "2026-11")
    assert november.book.reclaimed == 15_000 and november.book.closing == -12_000 and not november.final
    draft = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(paperwork.statement_pdf(november))).pages)
    assert "DRAF" in draft and "Rp15.000" in draft


def test_the_cash_book_reads_back_from_its_xlsx_and_pdf(app, month):
    book = cashbook.cash_book(month, "2026-11")
    sheet = load_workbook(io.BytesIO(paperwork.cash_book_table(book).xlsx())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Tanggal", "Uraian", "Kode billing / NTPN")
    assert rows[1][1] == "Saldo awal bulan" and rows[1][6] == 0
    assert rows[-1][0] == "Jumlah" and rows[-1][6] == -12_000
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(paperwork.cash_book_pdf(book))).pages)
    assert "Buku Kas Umum PNBP" in text and "-Rp12.000" in text and "WITA" in text


def test_sent_is_what_the_report_column_follows_and_only_a_closed_month_is_sent(app, month):
    october = reconciliation.month_detail(month, "2026-10")
    assert october.closed and october.report_pending and october.report_late  # closed, but not sent: late
    with pytest.raises(cashbook.StatementRefused):
        cashbook.mark_sent(month, "2026-11", date(2026, 12, 3), actor=f.user("finance"))
    db.session.rollback()
    treasurer = f.user("facility", facility_id=month.id)
    cashbook.mark_sent(month, "2026-10", date(2026, 11, 9), actor=treasurer)
    db.session.commit()
    october = reconciliation.month_detail(month, "2026-10")
    assert october.sent and not october.report_pending and not october.report_late
    with pytest.raises(cashbook.StatementRefused):
        cashbook.mark_sent(month, "2026-10", date(2026, 11, 9), actor=treasurer)


def test_what_the_cooperative_owes_the_facility_month_by_month(app, month):
    lines = {line.part: line for line in onward.owed(2026, month.id)}
    pnbp = lines[OnwardPart.PNBP]
    assert [(m.month, m.earned, m.transferred, m.owed) for m in pnbp.months] == [
        ("2026-10", 21_000, 21_000, 0), ("2026-11", -12_000, 0, -12_000)]  # overpaid after the refund
    premi = lines[OnwardPart.PREMI]
    assert (premi.earned, premi.transferred, premi.owed) == (9_000, 0, 9_000)  # 15 %: 21.000 less 12.000
    transfer = onward.transfers(2026, month.id)[0]
    reversal = onward.reverse_transfer(transfer, "salah UPT", actor=None)
    db.session.commit()
    assert reversal.amount == -21_000
    again = onward.owed(2026, month.id)[0]  # the reversal is dated the day it is made: October stays as it was
    assert [(m.month, m.transferred, m.owed) for m in again.months] == [
        ("2026-10", 21_000, 0), ("2026-11", 0, -12_000), ("2026-12", -21_000, 9_000)]
    with pytest.raises(onward.TransferInvalid):
        onward.reverse_transfer(transfer, "lagi", actor=None)


def test_the_screens_and_the_statement_command(app, month, tmp_path):
    finance = logged_in(app, "finance")
    book = text_of(finance.get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-11/bku"))
    assert "Saldo awal" in book and "-Rp12.000" in book and "diminta kembali" in book
    page = text_of(finance.get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10/laporan"))
    assert "Rp21.000" in page and "9Z8Y7X6W5V4U3T2S" in page and "Catat sebagai terkirim" in page
    pdf = finance.get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10/laporan.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    sent = finance.post("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10/laporan/terkirim",
                        data={"sent_on": "2026-11-09"})
    assert sent.status_code == 302
    overview = text_of(finance.get("/staf/keuangan/pnbp?year=2026"))
    assert "dikirim 9 Nov 2026" in overview
    owed = text_of(finance.get("/staf/keuangan/terutang?year=2026"))
    assert "BRI-TRF-77" in owed and "Masih terutang" in owed

    runner = app.test_cli_runner()
    out = tmp_path / "laporan.pdf"
    done = runner.invoke(args=["pnbp", "statement", "--facility", "lapas-perempuan-palu", "--month", "2026-10",
                               "--format", "pdf", "--output", str(out)])
    assert done.exit_code == 0, done.output
    assert "Oktober 2026" in PdfReader(str(out)).pages[0].extract_text()
    xlsx = tmp_path / "laporan.xlsx"
    assert runner.invoke(args=["pnbp", "statement", "--facility", "lapas-perempuan-palu", "--month", "2026-10",
                               "--format", "xlsx", "--output", str(xlsx)]).exit_code == 0
    assert load_workbook(xlsx).active["A1"].value == "Uraian"
    unknown = runner.invoke(args=["pnbp", "statement", "--facility", "tidak-ada", "--month", "2026-10",
                                  "--output", str(out)])
    assert unknown.exit_code == 1 and "no facility" in unknown.output
    running = runner.invoke(args=["pnbp", "statement", "--facility", "lapas-perempuan-palu", "--month", "2026-12",
                                  "--output", str(out)])
    assert running.exit_code == 1 and "has not ended" in running.output


def test_holidays_are_kept_by_finance_and_move_the_deposit_deadline(app):
    assert deposits.deposit_due(date(2026, 12, 23), 1) == date(2026, 12, 24)
    finance = logged_in(app, "finance")
    loaded = finance.post("/staf/keuangan/libur", data={"year": "2026", "load": "1"})
    assert loaded.status_code == 302
    holidays.forget()
    assert deposits.deposit_due(date(2026, 12, 23), 1) == date(2026, 12, 28)  # cuti bersama, Natal, weekend
    page = text_of(finance.get("/staf/keuangan/libur?year=2026"))
    assert "Hari Raya Natal" in page and "Cuti bersama" in page
    twice = finance.post("/staf/keuangan/libur", data={"day": "2026-12-25", "name": "Natal", "kind": "national"})
    assert twice.status_code == 422 and "sudah tercatat" in text_of(twice)
    assert holidays.load_known(2026) == 0
    assert len(holidays.of_year(2026)) == len(holidays.KNOWN_YEARS[2026])
    assert HolidayKind.COLLECTIVE in {h.kind for h in holidays.of_year(2026)}


def test_times_are_in_each_facilitys_zone_said_as_wib_or_wita(app, month):
    jambi = f.facility(name="Lapas Kuala Tungkal", slug="lapas-kuala-tungkal", timezone="Asia/Jakarta")
    at(app, datetime(2026, 12, 4, 3, 0, tzinfo=UTC))  # 10.00 in Jambi, 11.00 in Palu
    paid({f.product(facility=jambi, price=10_000): 1})
    finance = logged_in(app, "finance")
    entries = text_of(finance.get("/staf/keuangan/buku-besar?month=2026-12"))
    assert "4 Des 2026, 10.00 WIB" in entries and "Asia/" not in entries
    october = text_of(finance.get("/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10"))
    assert "WITA" in october and "Asia/" not in october


def test_a_reopened_month_is_sent_again_and_typed_markup_never_breaks_the_pdf(app, month):
    finance, admin = f.user("finance"), f.user("admin")
    cashbook.mark_sent(month, "2026-10", date(2026, 11, 9), actor=finance)
    db.session.commit()
    assert not reconciliation.month_detail(month, "2026-10").report_pending
    deposits.reopen_month(month, "2026-10", "koreksi setoran", actor=admin)
    db.session.commit()
    assert reconciliation.month_detail(month, "2026-10").report_pending  # its figures may change: send again
    mistaken = db.session.scalar(select(PnbpDeposit).where(PnbpDeposit.ntpn == "9Z8Y7X6W5V4U3T2S"))
    deposits.reverse_deposit(mistaken, "salah <br> ketik & <img src='/etc/passwd'/>", actor=finance)
    db.session.commit()
    book = cashbook.cash_book(month, "2026-12")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(paperwork.cash_book_pdf(book))).pages)
    assert "salah <br> ketik" in text  # shown as typed, not read as markup
    with pytest.raises(cashbook.StatementRefused):  # open again: not sendable until closed anew
        cashbook.mark_sent(month, "2026-10", date(2026, 12, 3), actor=finance)


def test_the_cash_books_amount_to_ask_back_is_the_reconciliations(app, month):
    """A closed month's sale carried in and a refund of it on another day are netted, as the reconciliation does."""
    from shop.sales import service as direct
    from shop.sales.models import PayMethod, PointKind

    stand = direct.save_point(direct.PointInput("Bazar", PointKind.EXHIBITION), actor=None)
    at(app, datetime(2026, 11, 12, 3, 0, tzinfo=UTC))
    sold = f.product(facility=month, price=40_000, stock=5)
    direct.record_sale(stand, direct.SaleInput("late-oct", PayMethod.CASH, [direct.LineInput(sold.id, 1)],
                                               sold_at=datetime(2026, 10, 30, 3, 0, tzinfo=UTC)), seller=None)
    db.session.commit()
    at(app, datetime(2026, 12, 4, 3, 0, tzinfo=UTC))
    report = cashbook.statement(month, "2026-11")
    assert report.row.reclaim == 9_000 == report.book.reclaimed  # 15.000 refunded less 6.000 carried in
    assert report.book.closing == -6_000  # 3.000 received in November, 9.000 to ask back


def test_the_same_transfer_is_not_recorded_twice(app, month):
    with pytest.raises(onward.TransferInvalid) as twice:
        onward.record_transfer(month, OnwardPart.PNBP, 21_000, date(2026, 10, 20), "BRI-TRF-77", None, "", actor=None)
    assert "sudah tercatat" in twice.value.errors["reference"]
