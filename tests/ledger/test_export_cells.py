"""Exports hold what staff typed as text: a control character (which XLSX cannot store) is dropped, and a note
that starts like a formula opens as text in a spreadsheet instead of running."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl

from shop.extensions import db
from shop.finance.models import PnbpDeposit, PnbpDepositMonth
from shop.ledger.cells import safe_cell
from tests import factories as f
from tests.helpers import logged_in


def test_safe_cell_keeps_numbers_and_dates_and_defuses_text():
    assert safe_cell(15_000) == 15_000 and safe_cell(date(2026, 10, 3)) == date(2026, 10, 3)
    assert safe_cell("BRI\x01 Palu\x1f") == "BRI Palu"
    assert [safe_cell(t) for t in ("=1+1", "+62", "-5", "@SUM(A1)", "biasa")] == \
        ["'=1+1", "'+62", "'-5", "'@SUM(A1)", "biasa"]


def test_a_deposit_note_with_a_control_character_and_a_formula_exports_as_plain_text(app):
    facility = f.facility()
    deposit = PnbpDeposit(facility_id=facility.id, amount=1_000, billing_code="820261015000123",
                          billing_expires_on=date(2026, 11, 6), ntpn="0A1B2C3D4E5F6G7H", ntb="BRI1",
                          deposited_on=date(2026, 11, 3), bank="BRI\x01", note='=HYPERLINK("http://x","klik")')
    deposit.months = [PnbpDepositMonth(month="2026-10", amount=1_000)]
    db.session.add(deposit)
    finance = logged_in(app, "finance")

    xlsx = finance.get("/staf/keuangan/setoran/ekspor.xlsx?year=2026")
    text = finance.get("/staf/keuangan/setoran/ekspor.csv?year=2026")

    assert xlsx.status_code == 200 and text.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert any("BRI" in row and "'=HYPERLINK(\"http://x\",\"klik\")" in row for row in rows), rows
    lines = list(csv.reader(io.StringIO(text.data.decode("utf-8-sig"))))
    assert any("'=HYPERLINK(\"http://x\",\"klik\")" in line for line in lines), lines
