"""axe-core (from npm, injected into the page) finds no serious or critical accessibility violation on the
pages a buyer goes through and on the staff's order queue, on a phone and on a laptop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shop import demo
from shop.extensions import db
from tests import factories as f
from tests.helpers import VIEWPORTS, fill_checkout, log_in_browser

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in found if v["impact"] in ("serious", "critical")]


@pytest.fixture
def page(browser):
    """A page whose Content-Security-Policy lets the test inject axe-core (the shop's own pages allow no inline
    script; the policy itself is tested in tests/security/test_headers.py)."""
    context = browser.new_context(locale="id-ID", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_the_buyers_pages_and_the_staff_queue_have_no_serious_accessibility_violations(page, live_server, device):
    assert AXE.exists(), "axe-core is missing: scripts/test installs it with npm (tests/browser/package.json)"
    page.set_viewport_size(VIEWPORTS[device])
    demo.load(with_images=False)
    staff = f.user("fulfilment", email="gudang@koperasi.id")
    db.session.commit()
    problems: list[str] = []

    for path in ("/", "/produk", "/produk/bawang-goreng-palu-200g", "/fasilitas", "/dampak"):
        page.goto(live_server + path)
        problems += serious_violations(page)
    page.goto(live_server + "/produk/tas-rajut-selempang")
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    page.wait_for_url(re.compile(r"/keranjang$"))
    problems += serious_violations(page)
    page.goto(live_server + "/checkout")
    problems += serious_violations(page)
    fill_checkout(page)
    page.get_by_role("button", name="Tampilkan ongkos kirim").click()
    problems += serious_violations(page)  # with the couriers' prices shown
    page.get_by_role("radio", name=re.compile("JNE")).check()
    page.get_by_role("button", name="Buat pesanan").click()
    page.wait_for_url(re.compile(r"/bayar$"))
    page.get_by_role("button", name="Saya bayar dengan transfer").click()
    problems += serious_violations(page)
    page.get_by_role("link", name="Lihat pesanan Anda").click()
    problems += serious_violations(page)

    log_in_browser(page, live_server, staff.email)
    page.goto(live_server + "/staf/pesanan?status=awaiting_payment")
    problems += serious_violations(page)

    assert not problems, "\n".join(problems)
