"""A buyer's first visit, in a real browser: home, language switch, facility, product."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shop import demo
from shop.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_shop(live_server: str) -> str:
    demo.load(with_images=True)
    db.session.commit()
    return live_server


def test_buyer_browses_from_home_to_a_product_in_both_languages(page, demo_shop):
    page.goto(demo_shop + "/")
    assert page.locator("h1").inner_text() == "Karya terampil dari balik tembok"
    bag = page.get_by_role("link", name="Tas Rajut Selempang").first
    expect(bag).to_be_visible()
    expect(page.get_by_role("link", name="Lapas Perempuan Kelas III Palu").first).to_be_visible()

    page.get_by_role("link", name="Tas Rajut Selempang").first.click()
    page.wait_for_url(re.compile(r"/produk/tas-rajut-selempang$"))
    assert "Rp175.000" in page.locator("main").inner_text()
    photo = page.locator("main img").first
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0")

    page.get_by_role("link", name="EN", exact=True).click()
    page.wait_for_url(re.compile(r"/produk/tas-rajut-selempang$"))
    main = page.locator("main").inner_text()
    assert "Crochet Shoulder Bag" in main
    assert "IDR 175,000" in main

    page.get_by_role("link", name="Lapas Perempuan Kelas III Palu").first.click()
    page.wait_for_url(re.compile(r"/fasilitas/lapas-perempuan-palu$"))
    expect(page.get_by_role("link", name="Kaili-pattern Crochet Tote").first).to_be_visible()


def test_buyer_filters_the_product_list_and_searches(page, demo_shop):
    page.goto(demo_shop + "/produk")
    page.get_by_role("searchbox").first.fill("rajut")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=rajut"))
    names = page.locator("main .product-card h3, main .product-card .name").all_inner_texts()
    assert names and all("Rajut" in name for name in names), names
