"""A finance officer reconciles a facility's month in Chromium, on a laptop and on a phone: records the PNBP
deposit from the month's page, sees the month balance, closes it, sees a late refund carried into the next
month, and downloads the reconciliation as XLSX. No page may scroll sideways."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from shop.extensions import db
from shop.finance import reports
from shop.ledger.models import LedgerEntry, Part
from tests import factories as f
from tests.helpers import log_in_browser, sideways_overflow
from tests.ledger.factories import paid, rule

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
def test_finance_reconciles_closes_and_exports_a_month(app, page, live_server, width):
    page.set_viewport_size({"width": width, "height": 900})
    rule()
    palu = f.facility(name="Lapas Perempuan Kelas III Palu", slug="lapas-perempuan-palu")
    app.config["FROZEN_NOW"] = datetime(2026, 10, 14, 3, 0, tzinfo=UTC)
    order, _ = paid({f.product(facility=palu, name_id="Tas Rajut Selempang", price=100_000): 2})
    officer = f.user("finance", "fulfilment", email="keuangan@koperasi.id")
    db.session.commit()
    app.config["FROZEN_NOW"] = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)

    log_in_browser(page, live_server, officer.email)
    page.goto(f"{live_server}/staf/keuangan/pnbp")
    assert "jatuh tempo tanggal 10" in page.locator("body").inner_text()
    assert not sideways_overflow(page), sideways_overflow(page)
    page.get_by_role("link", name="2026-10").click()
    assert page.locator("#month-state").inner_text() == "kurang setor"
    assert "Rp30.000" in page.locator(".figure-outstanding").inner_text()
    assert not sideways_overflow(page), sideways_overflow(page)

    page.get_by_role("link", name="Catat setoran untuk bulan ini").click()
    assert page.get_by_label("Jumlah pada bukti setor (Rp)").input_value() == "30000"
    page.get_by_label("Kode billing (15 angka)").fill("820261103000456")
    page.get_by_label("Kode billing berlaku sampai").fill("2026-11-06")
    page.get_by_label("Tanggal setor").fill("2026-11-03")
    page.get_by_label("NTPN (16 huruf dan angka)").fill("7C1D2E3F4A5B6C7D")
    page.get_by_label("NTB", exact=True).fill("BRI0099887766")
    page.get_by_label("Bank").fill("BRI Unit Palu Plaza")
    page.get_by_label("Pindaian bukti setor (PDF, JPEG atau PNG)").set_input_files(
        {"name": "setoran.pdf", "mimeType": "application/pdf", "buffer": f.PDF})
    assert not sideways_overflow(page), sideways_overflow(page)
    page.get_by_role("button", name="Catat setoran ini").click()
    assert "Setoran 7C1D2E3F4A5B6C7D dicatat." in page.locator("body").inner_text()
    assert page.locator("#month-state").inner_text() == "seimbang"

    page.get_by_role("button", name="Tutup 2026-10").click()
    assert page.locator("#month-state").inner_text() == "ditutup"
    assert not sideways_overflow(page), sideways_overflow(page)

    app.config["FROZEN_NOW"] = datetime(2026, 11, 12, 2, 0, tzinfo=UTC)  # a buyer's bag came back torn
    page.goto(f"{live_server}/staf/pesanan/{order.number}/pembayaran")
    page.get_by_label("Unit yang dikembalikan dananya: Tas Rajut Selempang").fill("1")  # one bag: Rp100.000
    page.get_by_label("Alasan").fill("Satu tas robek")
    page.get_by_label("Referensi transfer pengembalian (khusus transfer bank)").fill("BRI 5512")
    page.get_by_role("button", name="Kembalikan dana").click()

    page.goto(f"{live_server}/staf/keuangan/pnbp/lapas-perempuan-palu/2026-10")
    assert page.locator("#month-state").inner_text() == "ditutup"
    assert "Rp30.000" in page.locator(".figure-accrued").inner_text()  # the closed month did not move
    carried = page.locator(".carried-out").inner_text()
    assert "2026-11" in carried and order.number in carried
    page.locator(".carried-out").get_by_role("link", name="2026-11").click()
    november = page.locator("body").inner_text()
    assert "pindahan" in november and "-Rp" in page.locator(".figure-accrued").inner_text()
    assert not sideways_overflow(page), sideways_overflow(page)

    page.goto(f"{live_server}/staf/keuangan/pnbp?year=2026")
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    by_month = {(r[0], r[2]): r for r in rows[:-1]}
    assert by_month[("2026-10", "Lapas Perempuan Kelas III Palu")][3:6] == (30_000, 30_000, 0)
    assert by_month[("2026-10", "Lapas Perempuan Kelas III Palu")][11] == "ditutup"  # after the late columns
    pnbp = db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.part == Part.PNBP))
    assert 0 < pnbp < 30_000 and rows[-1][0] == "Jumlah" and rows[-1][3] == pnbp  # the refund deducted
    assert sheet.cell(row=2, column=4).number_format == reports.RUPIAH_FORMAT
