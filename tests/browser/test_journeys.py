"""Whole journeys in Chromium on a phone (390×844) and a laptop (1366×900): a buyer pays by bank transfer and
sends the receipt; staff confirm it, pack, ship and deliver. No page on the way may scroll sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shop import demo
from shop.extensions import db
from tests import factories as f
from tests.helpers import VIEWPORTS, fill_checkout, fits, log_in_browser, sideways_overflow

pytestmark = pytest.mark.browser

PNG = f.PNG


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_buyer_pays_by_bank_transfer_and_staff_take_the_order_to_delivered(app, page, live_server, device):
    page.set_viewport_size(VIEWPORTS[device])
    demo.load(with_images=False)
    staff = f.user("fulfilment", email="gudang@koperasi.id")
    db.session.commit()

    page.goto(live_server + "/")
    fits(page)
    if device == "phone":  # the menu is folded behind one button
        assert not page.get_by_role("link", name="Lacak pesanan").is_visible()
        page.get_by_text("Menu", exact=True).click()
    page.get_by_role("link", name="Produk", exact=True).first.click()
    fits(page)
    if device == "phone":
        assert not page.get_by_label("Kategori").is_visible()
        page.get_by_text("Saring dan urutkan").click()
    page.get_by_label("Kategori").select_option(label="Fesyen")
    page.get_by_role("button", name="Terapkan").click()
    page.get_by_role("link", name=re.compile("Tas Rajut Selempang")).first.click()
    fits(page)
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    page.wait_for_url(re.compile(r"/keranjang$"))
    assert page.locator(".cart-count").inner_text() == "1"
    fits(page)

    page.get_by_role("link", name="Checkout").click()
    fill_checkout(page)
    page.get_by_role("button", name="Tampilkan ongkos kirim").click()
    fits(page)
    page.get_by_role("radio", name=re.compile("JNE")).check()
    page.get_by_role("button", name="Buat pesanan").click()

    page.wait_for_url(re.compile(r"/pesanan/KB-\d{4}-\d{6}/bayar$"))
    number = re.search(r"KB-\d{4}-\d{6}", page.url).group(0)
    assert "Pesanan Anda" in page.locator(".pay-summary").inner_text()  # the order beside the bank details
    fits(page)
    page.get_by_role("button", name="Saya bayar dengan transfer").click()
    expect(page.locator(".account-number")).to_be_visible()
    page.get_by_label("Foto atau PDF bukti transfer").set_input_files(
        {"name": "bukti.png", "mimeType": "image/png", "buffer": PNG})
    page.get_by_role("button", name="Kirim bukti").click()
    assert "sedang diperiksa" in page.locator(".order-status").inner_text()
    assert page.get_by_role("button", name=re.compile("dengan kartu")).count() == 0
    fits(page)
    page.get_by_role("link", name="Lihat pesanan Anda").click()
    assert "sedang diperiksa" in page.locator(".order-status").inner_text()
    assert page.get_by_role("link", name="Bayar sekarang").count() == 0
    fits(page)

    page.context.clear_cookies()
    log_in_browser(page, live_server, staff.email)
    page.goto(f"{live_server}/staf/pembayaran")
    fits(page)
    page.get_by_role("link", name=number).first.click()
    receipt = page.locator(".receipt-preview img")
    expect(receipt).to_be_visible()
    # The buyer's photo, not a broken icon: waited for, since a busy machine shows the box before the photo decodes
    # (a broken image never gets a width, so this still fails then).
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=receipt.element_handle())
    fits(page)
    page.get_by_label("Referensi bank untuk transfer ini").fill("BRI 0042")
    page.get_by_role("button", name="Konfirmasi pembayaran").click()
    page.goto(f"{live_server}/staf/pesanan/{number}")
    fits(page)
    page.get_by_role("button", name="Tandai dikemas").click()
    page.get_by_label("Nomor resi").fill("JNE1234567890")
    page.get_by_role("button", name="Kirim paket ini").click()
    assert page.locator(".order-status").inner_text() == "dikirim"
    page.get_by_role("button", name="Tandai diterima").click()
    assert page.locator(".order-status").inner_text() == "diterima"
    fits(page)


def test_no_public_or_staff_page_scrolls_sideways_on_a_360_px_phone(app, page, live_server):
    from sqlalchemy import select

    from shop.catalog.models import Facility, Product
    from shop.demo.sales import load_sales
    from shop.orders.models import Order

    demo.load(with_images=False)
    load_sales()
    admin = f.user("admin", "finance", "fulfilment", email="admin@koperasi.id")
    db.session.commit()
    order = db.session.scalar(select(Order).order_by(Order.id))
    facility = db.session.get(Facility, order.lines[0].facility_id)
    product = db.session.scalar(select(Product).order_by(Product.id))
    page.set_viewport_size({"width": 360, "height": 780})
    public = ["/", "/produk", "/produk/bawang-goreng-palu-200g", "/produk/tas-rajut-selempang", "/fasilitas",
              "/fasilitas/lapas-perempuan-palu", "/sertifikasi", "/keranjang", "/pesanan/lacak", "/dampak",
              "/ke-mana-uang-anda", "/masuk", "/akun/daftar"]
    staff = ["/staf", "/staf/pesanan", f"/staf/pesanan/{order.number}", f"/staf/pesanan/{order.number}/pembayaran",
             "/staf/pembayaran", "/staf/produk", f"/staf/produk/{product.id}", "/staf/sertifikat",
             f"/staf/sertifikat/produk/{product.id}", "/staf/stok", f"/staf/stok/{product.id}", "/staf/audit",
             "/staf/pengguna", "/staf/kurir", "/staf/fasilitas", "/staf/keuangan/aturan", "/staf/keuangan/buku-besar",
             "/staf/keuangan/pnbp", "/staf/keuangan/setoran", "/staf/keuangan/ringkasan",
             f"/staf/keuangan/pnbp/{facility.slug}/{order.created_at:%Y-%m}"]
    refused: list[str] = []  # what the Content-Security-Policy blocked: nothing may be
    page.on("console", lambda message: refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text else None)
    wide = []
    for path in public:
        page.goto(live_server + path)
        wide += [f"{path}: {sideways_overflow(page)[:3]}"] if sideways_overflow(page) else []
    # A buyer's account with an order in it (its orders table once scrolled sideways).
    from shop.customers import service as customers

    buyer = customers.register("pembeli@example.id", "Pembeli Ponsel", "kata sandi panjang sekali")
    order.customer_id = buyer.id
    db.session.commit()
    page.goto(live_server + "/akun/masuk")
    page.get_by_label("Email").fill("pembeli@example.id")
    page.get_by_label("Kata sandi").fill("kata sandi panjang sekali")
    page.get_by_role("button", name="Masuk").click()
    page.goto(live_server + "/akun")
    assert order.number in page.locator("main").inner_text()
    wide += [f"/akun: {sideways_overflow(page)[:3]}"] if sideways_overflow(page) else []
    page.context.clear_cookies()
    log_in_browser(page, live_server, admin.email)
    for path in staff:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        wide += [f"{path}: {sideways_overflow(page)[:3]}"] if sideways_overflow(page) else []
    assert not wide, "\n".join(wide)
    assert not refused, "\n".join(refused)
    page.goto(live_server + "/staf/keuangan/ringkasan")
    assert page.evaluate("document.getElementById('chart-sales').toDataURL().length") > 5000  # Chart.js drew
