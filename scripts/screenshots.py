"""Take the README's screenshots in Debian's Chromium: the phone home, product, cart and checkout pages and the
staff order screen, from a throw-away demo shop (demo data and demo sales). Run by scripts/screenshots."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/shop.sqlite", "UPLOAD_FOLDER": f"{tmp}/uploads",
               "PRIVATE_UPLOAD_FOLDER": f"{tmp}/private", "DEMO_MODE": "1", "SECRET_KEY": "screenshots"}
        flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "shop"]
        subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([*flask, "seed-demo"], env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([*flask, "run", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(50):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.2)
            shoot(base)
        finally:
            server.terminate()
            server.wait(timeout=10)


def shoot(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        phone = browser.new_context(viewport=PHONE, locale="id-ID", device_scale_factor=1)
        page = phone.new_page()
        snap(page, base + "/", "phone-home")
        snap(page, base + "/produk/tas-rajut-selempang", "phone-product")
        page.get_by_role("button", name="Masukkan ke keranjang").click()
        page.wait_for_url("**/keranjang")
        snap(page, None, "phone-cart")
        page.get_by_role("link", name="Checkout").click()
        page.get_by_label("Provinsi").select_option("Sulawesi Tengah")
        page.get_by_role("button", name="Tampilkan ongkos kirim").click()
        snap(page, None, "phone-checkout", full=True)
        phone.close()
        laptop = browser.new_context(viewport=LAPTOP, locale="id-ID")
        page = laptop.new_page()
        page.goto(base + "/masuk")
        page.get_by_label("Email").fill("gudang@demo.karyabinaan.id")
        page.get_by_label("Kata sandi").fill("karyabinaan-demo")
        page.get_by_role("button", name="Masuk").click()
        page.goto(base + "/staf/pesanan?status=delivered")
        page.locator("table.queue a").first.click()
        snap(page, None, "staff-order")
        laptop.close()
        browser.close()


def snap(page, url: str | None, name: str, full: bool = False) -> None:
    if url:
        page.goto(url, wait_until="networkidle")
    page.wait_for_load_state("networkidle")
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
    print(f"{name}.png{' (SCROLLS SIDEWAYS)' if wide else ''}")
    if wide:
        sys.exit(f"{name} scrolls sideways")


if __name__ == "__main__":
    main()
