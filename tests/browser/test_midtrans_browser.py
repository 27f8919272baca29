"""#25 in Chromium on a phone (390×844) and a laptop (1366×900): checkout → QRIS → Midtrans's payment page (the
stand-in, over HTTP) → pay → back at the shop, whose order page says paid; the sale is booked and the buyer's mail
arrives at the SMTP server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from shop import demo
from shop.extensions import db
from shop.ledger.models import EntryKind, LedgerEntry
from shop.orders.models import Order, OrderStatus
from tests.helpers import VIEWPORTS, fill_checkout, sideways_overflow

pytestmark = pytest.mark.browser


@pytest.fixture
def shop_url(app, live_server):
    """Links the shop writes for others (Snap's way back) point at this test's server."""
    saved = app.config["SHOP_URL"]
    app.config["SHOP_URL"] = live_server
    yield live_server
    app.config["SHOP_URL"] = saved


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_buyer_pays_by_qris_on_midtrans_and_comes_back_to_a_paid_order(app, page, shop_url, midtrans, smtp_inbox,
                                                                         device):
    page.set_viewport_size(VIEWPORTS[device])
    demo.load(with_images=False)
    db.session.commit()

    page.goto(shop_url + "/produk/bawang-goreng-palu-200g")
    page.get_by_role("button", name="Masukkan ke keranjang").click()
    page.wait_for_url(re.compile(r"/keranjang$"))
    page.get_by_role("link", name="Checkout").click()
    fill_checkout(page)
    page.get_by_role("button", name="Tampilkan ongkos kirim").click()
    page.get_by_role("radio", name=re.compile("JNE")).check()
    page.get_by_role("button", name="Buat pesanan").click()
    page.wait_for_url(re.compile(r"/pesanan/KB-\d{4}-\d{6}/bayar$"))
    number = re.search(r"KB-\d{4}-\d{6}", page.url).group(0)

    choices = page.locator(".pay-online")
    expect(choices.get_by_text("Virtual account BCA")).to_be_visible()
    assert "dalam 24 jam" in choices.inner_text()  # how long a virtual account stays open
    choices.get_by_role("radio", name=re.compile("QRIS")).check()
    assert not sideways_overflow(page), sideways_overflow(page)
    choices.get_by_role("button", name=re.compile(r"^Bayar Rp")).click()

    page.wait_for_url(re.compile(re.escape(midtrans.base_url) + r"/snap/v4/redirection/"))
    page.get_by_role("button", name="other_qris").click()
    expect(page.locator(".code")).to_be_visible()
    page.get_by_role("button", name="Bayar (simulasi)").click()

    page.wait_for_url(re.compile(rf"/pesanan/{number}/bayar$"))
    expect(page.get_by_text("Pembayaran diterima")).to_be_visible()
    assert not sideways_overflow(page), sideways_overflow(page)
    midtrans.wait_notified()
    page.goto(shop_url + f"/pesanan/{number}")
    assert "dibayar dengan QRIS" in page.locator("main").inner_text()

    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.number == number))
    assert order.status is OrderStatus.PAID
    assert db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.order_id == order.id,
                                                                      LedgerEntry.kind == EntryKind.SALE)) > 0
    subjects = [message["Subject"] for message in smtp_inbox.messages]
    assert any(number in subject and "Pembayaran" in subject for subject in subjects), subjects
