"""#27 in Chromium on a phone and a laptop: staff receive a lot of fried shallots that expires before the demo's
own, a buyer's order takes it first, the packing slip names it, and staff recall it; the buyer's mail arrives. No
page on the way scrolls sideways."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop import demo
from shop.catalog.models import Product
from shop.extensions import db
from shop.orders import service as orders
from shop.orders.models import Order
from shop.outbox.service import deliver_due
from shop.payments.models import Payment, PaymentMethod, PaymentStatus
from shop.timeutil import today
from tests import factories as f
from tests.helpers import VIEWPORTS, fill_checkout, fits, log_in_browser

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", VIEWPORTS)
def test_staff_receive_a_lot_a_sale_takes_it_first_the_slip_names_it_and_a_recall_reaches_the_buyer(
        app, browser, page, live_server, smtp_inbox, device):
    page.set_viewport_size(VIEWPORTS[device])
    demo.load(with_images=False)
    desk = f.user("fulfilment", email="gudang@koperasi.id")
    db.session.commit()
    shallots = db.session.scalar(select(Product).where(Product.slug == "bawang-goreng-palu-200g"))
    early = today() + timedelta(days=45)

    log_in_browser(page, live_server, desk.email)
    page.goto(f"{live_server}/staf/stok/{shallots.id}")
    page.get_by_label("Kode batch (seperti di label)").fill("BG-EARLY")
    page.get_by_label("Tanggal produksi").fill((today() - timedelta(days=10)).isoformat())
    page.get_by_label("Baik digunakan sebelum").fill(early.isoformat())
    page.get_by_label("Unit diterima").fill("5")
    page.get_by_role("button", name="Terima batch ini").click()
    expect(page.locator("main")).to_contain_text("Batch BG-EARLY diterima: 5 unit.")
    expect(page.locator("table.lots")).to_contain_text("BG-EARLY")
    fits(page)

    buyer = browser.new_context(locale="id-ID").new_page()
    buyer.set_viewport_size(VIEWPORTS[device])
    buyer.goto(f"{live_server}/produk/bawang-goreng-palu-200g")
    expect(buyer.locator(".best-before")).to_contain_text(f"{early.day} ")  # the units this buyer would receive
    buyer.get_by_role("button", name="Masukkan ke keranjang").click()
    buyer.wait_for_url(re.compile(r"/keranjang$"))
    buyer.get_by_role("link", name="Checkout").click()
    fill_checkout(buyer)
    buyer.get_by_role("button", name="Tampilkan ongkos kirim").click()
    buyer.get_by_role("radio", name=re.compile("JNE")).first.check()
    buyer.get_by_role("button", name="Buat pesanan").click()
    buyer.wait_for_url(re.compile(r"/bayar$"))
    buyer.context.close()
    order = db.session.scalar(select(Order))
    db.session.add(Payment(order=order, method=PaymentMethod.BANK_TRANSFER, amount=order.total,
                           status=PaymentStatus.SUCCEEDED))
    orders.mark_paid(order)
    db.session.commit()

    page.goto(f"{live_server}/staf/pesanan/{order.number}")
    page.get_by_role("button", name="Tandai dikemas").click()
    page.get_by_role("link", name="Slip pengemasan").first.click()
    expect(page.locator("td.lots")).to_contain_text("1× BG-EARLY")
    fits(page)

    page.goto(f"{live_server}/staf/stok/{shallots.id}")
    row = page.locator("table.lots tr", has_text="BG-EARLY")
    row.get_by_text("Penarikan", exact=True).click()
    row.get_by_label("Alasan (dibaca pembeli)").fill("Kemasan tidak tersegel sempurna")
    row.get_by_role("button", name="Tarik batch ini").click()
    expect(page.locator("main")).to_contain_text("Batch BG-EARLY ditarik: 1 pembeli diberi tahu lewat surel.")
    expect(page.locator("table.recall")).to_contain_text(order.number)
    fits(page)

    deliver_due()
    recall = [m for m in smtp_inbox.messages if "BG-EARLY" in m["Subject"]]
    assert len(recall) == 1 and recall[0]["To"] == order.email
