"""#23.14–15: a forgotten password is reset by a mailed link that works once and for an hour (buyers and staff,
the same answer whether or not the address has an account), and a buyer's confirmed address brings the orders
placed with it as a guest into the account. The mail goes through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re

from sqlalchemy import select

from shop.customers import recovery
from shop.customers.models import Customer
from shop.extensions import db
from shop.orders.models import Order
from tests import factories as f
from tests.customers.test_accounts import CHECKOUT, register
from tests.helpers import text_of

PASSWORD = "kata sandi rahasia"
NEW_PASSWORD = "kata sandi yang baru"


def link_in(message, path: str) -> str:
    text = next(part.get_payload(decode=True).decode() for part in message.walk()
                if part.get_content_type() == "text/plain")
    return re.search(rf"https?://[^\s]+({re.escape(path)}[^\s]+)", text).group(1)


def test_a_buyer_resets_a_forgotten_password_with_a_link_that_works_once(app, client, smtp_inbox):
    register(client)
    client.post("/keluar")
    db.session.commit()
    smtp_inbox.messages.clear()

    asked = text_of(client.post("/lupa-kata-sandi", data={"email": "SITI@example.id"}, follow_redirects=True))
    unknown = text_of(client.post("/lupa-kata-sandi", data={"email": "nobody@example.id"}, follow_redirects=True))

    assert "tautan untuk memilih kata sandi baru sedang dikirim" in asked
    assert "tautan untuk memilih kata sandi baru sedang dikirim" in unknown  # the same answer: nobody learns who
    assert [m["To"] for m in smtp_inbox.messages] == ["siti@example.id"]
    link = link_in(smtp_inbox.messages[0], "/atur-ulang-kata-sandi/")
    changed = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert changed.status_code == 302 and changed.headers["Location"] == "/akun/masuk"

    def log_in(password: str) -> int:
        return client.post("/akun/masuk", data={"email": "siti@example.id", "password": password}).status_code

    assert log_in(PASSWORD) == 200 and log_in(NEW_PASSWORD) == 302
    again = client.post(link, data={"password": "kata sandi ketiga", "confirm": "kata sandi ketiga"})
    assert again.status_code == 400 and "sudah pernah dipakai" in text_of(again)


def test_a_reset_link_older_than_an_hour_says_so_and_offers_a_new_one(app, client, smtp_inbox, monkeypatch):
    register(client)
    db.session.commit()
    client.post("/lupa-kata-sandi", data={"email": "siti@example.id"})
    link = link_in(smtp_inbox.messages[-1], "/atur-ulang-kata-sandi/")
    monkeypatch.setattr(recovery, "RESET_SECONDS", -1)  # every link is now older than its life

    page = client.get(link)

    assert page.status_code == 400 and "Tautan ini sudah lebih dari satu jam." in text_of(page)
    assert 'href="/lupa-kata-sandi"' in page.get_data(as_text=True)


def test_staff_reset_their_password_the_same_way_and_the_staff_login_offers_it(app, client, smtp_inbox):
    staff = f.user("fulfilment", email="gudang@koperasi.id")
    db.session.commit()
    assert 'href="/lupa-kata-sandi"' in client.get("/masuk").get_data(as_text=True)

    client.post("/lupa-kata-sandi", data={"email": "gudang@koperasi.id"})
    link = link_in(smtp_inbox.messages[-1], "/atur-ulang-kata-sandi/")
    changed = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert changed.headers["Location"] == "/masuk"
    assert client.post("/masuk", data={"email": staff.email, "password": NEW_PASSWORD}).status_code == 302


def test_a_confirmed_address_brings_the_guest_orders_into_the_new_account(app, client, smtp_inbox):
    item = f.product(name_id="Tas Rajut")
    f.courier("jne")
    db.session.commit()
    guest = app.test_client()
    guest.post("/keranjang/tambah", data={"product_id": item.id})
    guest.post("/checkout", data={**CHECKOUT, "email": "Siti@Example.id"})
    number = db.session.scalar(select(Order.number))
    smtp_inbox.messages.clear()

    register(client)
    welcome = text_of(client.get("/akun"))
    assert number not in welcome and "Konfirmasi alamat email Anda dengan tautan" in welcome
    link = link_in(next(m for m in smtp_inbox.messages if m["To"] == "siti@example.id"), "/akun/verifikasi/")

    confirmed = text_of(client.get(link, follow_redirects=True))

    assert "1 pesanan sebelumnya kini ada di akun Anda" in confirmed and number in confirmed
    assert "Konfirmasi alamat email Anda dengan tautan" not in confirmed
    assert db.session.scalar(select(Customer.email_verified_at)) is not None
