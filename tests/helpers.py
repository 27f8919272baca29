"""Helpers shared by the page tests: the visible text of a response, a client logged in as staff."""

from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from shop.extensions import db
from tests import factories as f


def text_of(response: Any) -> str:
    """The page's text as a reader sees it: tags removed, white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def redis_or_skip(url: str = "redis://127.0.0.1:6379/15") -> str:
    """`url` when a Redis answers there; otherwise the test is skipped (on a developer's machine) or fails (CI,
    whose machines always run one)."""
    import os

    import pytest
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no Redis on 127.0.0.1:6379 (CI always has one)")
    return url


def logged_in(app: Flask, *roles: str, facility_id: int | None = None) -> Any:
    """A test client logged in as a new staff user with these roles."""
    user = f.user(*roles, facility_id=facility_id)
    db.session.commit()
    client = app.test_client()
    client.post("/masuk", data={"email": user.email, "password": f.PASSWORD})
    return client


def at_once(*calls: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run the calls in threads released together by a barrier; their results (or exceptions), in order.

    Each call runs in an empty context (its own app context and database session when it makes requests
    through a test client), as concurrent requests to the shop's workers would."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[n] = call()
        except Exception as error:  # noqa: BLE001 (the test asserts on what each call met)
            results[n] = error

    threads = [threading.Thread(target=contextvars.Context().run, args=(run, n, call))
               for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a concurrent call did not finish"
    return results


def buyer_client(app: Flask, *numbers: str) -> Any:
    """A test client whose browser placed (so may see) these orders."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["orders"] = list(numbers)
    return client


def log_in_browser(page: Any, live_server: str, email: str) -> None:
    """Log a staff user in through the real login form in Chromium."""
    page.goto(f"{live_server}/masuk")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Kata sandi").fill(f.PASSWORD)
    page.get_by_role("button", name="Masuk").click()


SIDEWAYS_JS = """() => {
  const width = window.innerWidth;
  if (!document.documentElement || document.documentElement.scrollWidth <= width) return [];
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
      let inside = false;  // content of a scroll box does not scroll the page
      for (let p = el.parentElement; p; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden') { inside = true; break; }
      }
      if (!inside) wide.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(box.right)}`);
    }
  }
  return [`scrollWidth ${document.documentElement.scrollWidth} > ${width}`, ...wide.slice(0, 8)];
}"""


VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 900}}  # browser journeys


def fits(page: Any) -> None:
    """The page does not scroll sideways (a bug on a phone)."""
    wide = sideways_overflow(page)
    assert not wide, f"{page.url} scrolls sideways: {wide}"


def sideways_overflow(page: Any) -> list[str]:
    """Empty when the page does not scroll sideways; else the page width and the elements that stick out.
    Waits for the page a click may still be loading, so the layout measured is the finished one."""
    page.wait_for_load_state("load")
    return page.evaluate(SIDEWAYS_JS)


BROWSER_ADDRESS = {"Nama penerima": "Siti Aminah", "Email": "siti@example.id", "Telepon (WhatsApp)": "0812 3456 7890",
                   "Jalan, nomor rumah": "Jl. Sisingamangaraja 12", "Kelurahan / desa": "Besusu Tengah",
                   "Kecamatan": "Palu Timur", "Kabupaten / kota": "Kota Palu", "Kode pos": "94111"}


def fill_checkout(page: Any, province: str = "Sulawesi Tengah", **changes: str) -> None:
    """Type a buyer's Indonesian address into the checkout form in Chromium (labels as the buyer reads them)."""
    for label, value in {**BROWSER_ADDRESS, **changes}.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("Provinsi").select_option(province)
