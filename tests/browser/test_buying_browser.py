"""A guest buys in a real browser: product page → cart → checkout with a mistake → order awaiting payment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shop import demo
from shop.extensions import db
from tests.helpers import fill_checkout

pytestmark = pytest.mark.browser


def test_a_guest_orders_a_bag_and_fixes_a_wrong_postal_code_on_the_way(page, live_server):
    demo.load(with_images=False)
    db.session.commit()

    page.goto(live_server + "/produk/tas-rajut-selempang")
    page.get_by_label("Jumlah").fill("2")
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    page.wait_for_url(re.compile(r"/keranjang$"))
    assert "Rp350.000" in page.locator(".cart-total").inner_text()

    page.get_by_role("link", name="Checkout").click()
    fill_checkout(page, **{"Kode pos": "9411"})  # one digit short
    page.get_by_role("button", name="Tampilkan ongkos kirim").click()
    page.get_by_role("radio", name=re.compile("JNE")).check()
    page.get_by_role("button", name="Buat pesanan").click()

    expect(page.get_by_text("Kode pos terdiri dari 5 angka, misalnya 94111.")).to_be_visible()
    assert page.get_by_label("Kelurahan / desa").input_value() == "Besusu Tengah"
    page.get_by_label("Kode pos").fill("94111")
    page.get_by_role("button", name="Buat pesanan").click()

    page.wait_for_url(re.compile(r"/pesanan/KB-\d{4}-\d{6}/bayar$"))
    assert "menunggu pembayaran" in page.locator("main").inner_text()
    assert "Rp362.000" in page.locator(".amount-due").inner_text()  # 350.000 + JNE 1 kg in Sulawesi
