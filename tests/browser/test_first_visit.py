"""#23, a first visit in Chromium on a phone (390×844) and a laptop (1366×900): the permit filters, a product page
that leads with its description and keeps its buy button in reach, the quantity stepper, a cart that shows what is
in it and what comes next, and shipping prices that come back in view with their delivery days."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shop import demo
from shop.extensions import db
from tests.helpers import fill_checkout, sideways_overflow

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 900}}


def fits(page) -> None:
    wide = sideways_overflow(page)
    assert not wide, f"{page.url} scrolls sideways: {wide}"


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_first_visit_filters_by_permit_reads_the_product_and_sees_the_cart_and_shipping_plainly(
        app, page, live_server, device):
    page.set_viewport_size(VIEWPORTS[device])
    demo.load(with_images=True)
    db.session.commit()

    page.goto(live_server + "/produk")
    if device == "phone":
        page.get_by_text("Saring dan urutkan").click()
    page.get_by_label("Izin BPOM (MD/ML)").check()
    page.get_by_role("button", name="Terapkan").click()
    listing = page.locator("main").inner_text()
    assert "Abon Ikan Tuna" in listing and "Tas Rajut" not in listing
    fits(page)

    page.goto(live_server + "/produk/bawang-goreng-palu-200g")
    buy = page.get_by_role("button", name="Masukkan ke keranjang")
    expect(buy).to_be_in_viewport()  # on a phone the buy bar stays at the bottom of the first screen
    info = page.locator(".product-detail .info").inner_text()
    assert info.index("Komposisi: bawang merah") < info.index("Isi bersih")  # the description comes first
    assert "Berat kirim" in info
    page.get_by_role("button", name="Tambah satu").click()
    page.get_by_role("button", name="Tambah satu").click()
    expect(page.get_by_label("Jumlah")).to_have_value("3")
    if device == "phone":  # still in reach after scrolling down through the details
        page.mouse.wheel(0, 1500)
        expect(buy).to_be_in_viewport()
    fits(page)
    buy.click()

    page.wait_for_url(re.compile(r"/keranjang$"))
    expect(page.locator(".cart-thumb").first).to_be_visible()
    expect(page.get_by_role("link", name="Lanjut belanja")).to_be_visible()
    assert "Ongkos kirim ditambahkan saat checkout" in page.locator("main").inner_text()
    fits(page)

    page.get_by_role("link", name="Checkout").click()
    fill_checkout(page)
    page.get_by_role("button", name="Tampilkan ongkos kirim").click()
    page.wait_for_url(re.compile(r"/checkout#couriers$"))  # back at the prices, not at the top of the page
    expect(page.locator(".delivery-days").first).to_contain_text("hari")
    expect(page.locator("#couriers")).to_be_in_viewport()
    fits(page)
