"""#26 in Chromium at 390 and 1366 px: the search box suggests product names after a short pause (a combobox:
arrows, Enter), the results mark the words matched, and axe finds nothing serious with the suggestions open."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shop import demo
from shop.extensions import db
from tests.browser.test_accessibility import AXE, serious_violations
from tests.helpers import VIEWPORTS, sideways_overflow

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_buyer_types_kripik_picks_a_suggestion_with_the_keyboard_and_sees_the_words_marked(browser, live_server,
                                                                                              device):
    context = browser.new_context(locale="id-ID", bypass_csp=True)  # so that the test may inject axe-core
    try:
        picks_a_suggestion(context.new_page(), live_server, device)
    finally:
        context.close()


def picks_a_suggestion(page, live_server, device):
    page.set_default_timeout(10_000)
    assert AXE.exists()
    page.set_viewport_size(VIEWPORTS[device])
    demo.load(with_images=False)
    db.session.commit()

    page.goto(live_server + "/")
    box = page.get_by_role("combobox", name="Cari produk")
    box.click()
    box.press_sequentially("kripik", delay=40)
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    assert all(name.startswith("Keripik") for name in options.all_inner_texts())
    assert not serious_violations(page)  # with the list open
    if device == "laptop":
        page.screenshot(path="/tmp/search-suggest-laptop.png")
    else:
        page.screenshot(path="/tmp/search-suggest-phone.png")

    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "search-suggestion-0")
    chosen = options.first.inner_text()
    box.press("Enter")
    page.wait_for_url(re.compile(r"/produk\?q="))
    expect(page.locator(".results h3").first).to_have_text(chosen)
    assert page.locator(".results h3 mark").first.inner_text().lower() == "keripik"
    assert not sideways_overflow(page), sideways_overflow(page)
    assert not serious_violations(page)
    page.screenshot(path=f"/tmp/search-results-{device}.png", full_page=True)


def test_without_javascript_the_search_box_is_a_plain_form(browser, live_server):
    demo.load(with_images=False)
    db.session.commit()
    context = browser.new_context(locale="id-ID", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        page.get_by_role("combobox", name="Cari produk").fill("bawang gorng")
        page.get_by_role("combobox", name="Cari produk").press("Enter")
        page.wait_for_url(re.compile(r"/produk\?q=bawang"))
        assert page.locator(".results h3").first.inner_text().startswith("Bawang Goreng Khas Palu")
    finally:
        context.close()
