"""A finance staff member adds a new version of a split rule and follows a sale through the ledger, in Chromium
on a laptop and on a phone (no page may scroll sideways)."""

from __future__ import annotations

import re

import pytest

from shop.extensions import db
from tests import factories as f
from tests.helpers import log_in_browser, sideways_overflow
from tests.ledger.factories import paid, rule

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
def test_finance_adds_a_rule_and_browses_the_ledger_by_facility_month_and_part(page, live_server, width):
    page.set_viewport_size({"width": width, "height": 900})
    rule()
    palu = f.facility(name="Lapas Perempuan Kelas III Palu")
    order, _ = paid({f.product(facility=palu, name_id="Tas Rajut Selempang", price=100_000): 1})
    finance = f.user("finance", email="keuangan@koperasi.id")
    db.session.commit()

    log_in_browser(page, live_server, finance.email)
    page.goto(f"{live_server}/staf/keuangan/aturan")
    page.get_by_label("UPT").select_option(label="Lapas Perempuan Kelas III Palu")
    page.get_by_label("Berlaku mulai").fill("2099-01-01")
    for label, value in [("PNBP (penerimaan negara) (%)", "20"), ("Premi pembuat (%)", "20"),
                         ("Koperasi (%)", "45"), ("Modal produksi (%)", "15")]:
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Simpan aturan").click()
    assert "Aturan pembagian disimpan" in page.locator("body").inner_text()
    assert not sideways_overflow(page), sideways_overflow(page)

    page.goto(f"{live_server}/staf/keuangan/buku-besar")
    page.get_by_label("UPT").select_option(label="Lapas Perempuan Kelas III Palu")
    page.get_by_label("Bagian").select_option(label="PNBP (penerimaan negara)")
    page.get_by_role("button", name="Saring").click()
    page.wait_for_url(re.compile(r"part=pnbp"))
    assert "Rp15.000" in page.locator(".ledger-totals").inner_text()
    assert not sideways_overflow(page), sideways_overflow(page)
    page.get_by_role("link", name=order.number).first.click()
    assert order.number in page.locator("h1").inner_text()
