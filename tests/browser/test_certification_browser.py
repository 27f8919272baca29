"""Staff add a food permit in the browser; the buyer then sees the badge and can buy."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shop.certification.models import CertType
from shop.extensions import db
from tests import factories as f
from tests.helpers import log_in_browser

pytestmark = pytest.mark.browser


def test_staff_add_a_permit_and_the_public_badge_appears(page, live_server):
    food = f.product(category=f.food_category(), name_id="Abon Ikan Tuna", slug="abon-ikan-tuna")
    f.certificate(food, CertType.HALAL, number="ID311100000000000002")
    staff = f.user("fulfilment", email="rina@koperasi.id")
    db.session.commit()

    page.goto(f"{live_server}/produk/abon-ikan-tuna")
    expect(page.get_by_text("Segera hadir").first).to_be_visible()
    assert page.get_by_role("button", name="Masukkan ke keranjang").count() == 0
    expect(page.get_by_text("Halal ID311100000000000002").first).to_be_visible()

    log_in_browser(page, live_server, staff.email)
    page.locator(".staff-nav").get_by_role("link", name=re.compile("Kelola sertifikat")).click()
    page.get_by_role("link", name="Abon Ikan Tuna").first.click()
    page.get_by_label("Jenis").select_option("bpom_md")
    page.get_by_label("Nomor").fill("BPOM RI MD 23456789012")  # one digit short
    page.get_by_label("Diterbitkan oleh").fill("BPOM RI")
    page.get_by_label("Tanggal terbit").fill("2025-06-01")
    page.get_by_label("Tanggal berakhir").fill("2030-06-01")
    page.get_by_role("button", name="Simpan sertifikat").click()
    expect(page.get_by_text("MD diikuti 12 angka")).to_be_visible()
    page.get_by_label("Nomor").fill("BPOM RI MD 234567890123")
    page.get_by_role("button", name="Simpan sertifikat").click()
    page.wait_for_url(re.compile(r"/staf/sertifikat/produk/\d+$"))
    expect(page.get_by_text("dapat dijual", exact=True)).to_be_visible()

    page.goto(f"{live_server}/produk/abon-ikan-tuna")
    expect(page.get_by_text("BPOM RI MD 234567890123").first).to_be_visible()
    expect(page.get_by_role("button", name="Masukkan ke keranjang")).to_be_visible()
