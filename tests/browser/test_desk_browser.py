"""A fulfilment staff member takes a paid order from the queue to delivered, with slip and label, in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shop.extensions import db
from shop.orders import service as orders
from tests import factories as f
from tests.helpers import log_in_browser

pytestmark = pytest.mark.browser


def test_fulfilment_takes_a_paid_order_from_queue_to_delivered(page, live_server):
    palu = f.facility(name="Lapas Perempuan Kelas III Palu")
    order = f.order({f.product(facility=palu, name_id="Tas Rajut Selempang"): 1})
    orders.mark_paid(order)
    staff = f.user("fulfilment", email="gudang@koperasi.id")
    admin = f.user("admin", email="admin@koperasi.id")
    db.session.commit()

    log_in_browser(page, live_server, staff.email)
    page.locator(".staff-nav").get_by_role("link", name=re.compile("^Pesanan")).click()
    page.get_by_role("link", name=order.number).click()
    page.get_by_role("button", name="Tandai dikemas").click()
    assert page.locator(".order-status").inner_text() == "dikemas"

    slip = page.context.new_page()
    slip.goto(live_server + page.get_by_role("link", name="Slip pengemasan").get_attribute("href"))
    assert "Tas Rajut Selempang" in slip.locator("body").inner_text()
    slip.close()
    label_url = page.get_by_role("link", name="Label alamat (A6)").get_attribute("href")
    label = page.context.new_page()
    label.goto(live_server + label_url)
    assert "Siti Aminah" in label.locator(".recipient").inner_text()
    label.close()

    page.get_by_label("Nomor resi").fill("JNE1234567890")
    page.get_by_role("button", name="Kirim paket ini").click()
    assert page.locator(".order-status").inner_text() == "dikirim"
    expect(page.get_by_text("JNE1234567890").first).to_be_visible()
    page.get_by_role("button", name="Tandai diterima").click()
    assert page.locator(".order-status").inner_text() == "diterima"

    page.get_by_role("button", name="Keluar").click()
    log_in_browser(page, live_server, admin.email)
    page.locator(".staff-nav").get_by_role("link", name="Log audit").click()
    page.get_by_label("Orang").fill("gudang@")
    page.get_by_role("button", name="Saring").click()
    page.wait_for_url(re.compile(r"actor=gudang"))
    actions = page.locator("table.audit .action").all_inner_texts()
    assert actions == ["pesanan diterima", "paket dikirim", "pesanan dikemas"]
