"""Optional customer accounts: register, log in, past orders, the saved address fills the next checkout."""

from __future__ import annotations

from sqlalchemy import select

from shop.customers.models import Customer
from shop.extensions import db
from shop.orders.models import Order
from tests import factories as f
from tests.helpers import text_of

CHECKOUT = {"name": "Siti Aminah", "email": "siti@example.id", "phone": "081234567890",
            "street": "Jl. Cut Meutia 1", "rt_rw": "001/002", "kelurahan": "Kamonji", "kecamatan": "Palu Barat",
            "city": "Kota Palu", "province": "Sulawesi Tengah", "postal_code": "94111", "courier": "jne",
            "action": "place"}



def register(client, email="siti@example.id", password="kata sandi rahasia"):
    return client.post("/akun/daftar", data={"name": "Siti Aminah", "email": email, "password": password,
                                              "confirm": password})


def test_a_customer_registers_orders_and_finds_the_order_and_address_in_the_account(client):
    item = f.product(name_id="Tas Rajut")
    f.courier("jne")
    db.session.commit()
    assert register(client).headers["Location"] == "/akun"

    client.post("/keranjang/tambah", data={"product_id": item.id})
    client.post("/checkout", data=CHECKOUT)
    order = db.session.scalar(select(Order))
    customer = db.session.scalar(select(Customer))

    assert order.customer_id == customer.id
    account = text_of(client.get("/akun"))
    assert order.number in account and "menunggu pembayaran" in account and "Jl. Cut Meutia 1" in account

    client.post("/keranjang/tambah", data={"product_id": item.id})
    form = client.get("/checkout").get_data(as_text=True)
    assert 'value="Jl. Cut Meutia 1"' in form and 'value="Kamonji"' in form


def test_an_account_sees_its_own_orders_from_a_new_browser_but_not_others(app, client):
    register(client)
    customer = db.session.scalar(select(Customer))
    mine = f.order(email="siti@example.id")
    mine.customer_id = customer.id
    other = f.order(email="budi@example.id")
    db.session.commit()

    fresh = app.test_client()
    fresh.post("/akun/masuk", data={"email": "SITI@example.id", "password": "kata sandi rahasia"})

    assert fresh.get(f"/pesanan/{mine.number}").status_code == 200
    stranger = fresh.get(f"/pesanan/{other.number}")  # asked for that order's email, shown nothing of it
    assert stranger.status_code == 302 and stranger.headers["Location"].startswith("/pesanan/lacak?")


def test_registration_errors_are_shown_and_typed_values_kept(client):
    register(client)
    client.post("/keluar")

    again = register(client)
    short = client.post("/akun/daftar", data={"name": "Budi", "email": "budi@example.id", "password": "pendek",
                                              "confirm": "pendek"})

    assert "Akun dengan email ini sudah ada" in text_of(again)
    assert "Gunakan paling sedikit 10 karakter." in text_of(short)
    assert 'value="Budi"' in short.get_data(as_text=True)


def test_a_wrong_password_does_not_say_whether_the_email_exists(client):
    register(client)
    client.post("/keluar")
    client.get("/")  # shows the "logged out" message

    wrong_password = client.post("/akun/masuk", data={"email": "siti@example.id", "password": "salah salah salah"})
    unknown_email = client.post("/akun/masuk", data={"email": "nobody@example.id", "password": "salah salah salah"})

    assert "Email atau kata sandi salah." in text_of(wrong_password)
    assert text_of(wrong_password) == text_of(unknown_email).replace("nobody@example.id", "siti@example.id")
    assert client.get("/akun").status_code == 302


def test_guest_checkout_stays_the_default(client):
    item = f.product()
    f.courier("jne")
    db.session.commit()
    client.post("/keranjang/tambah", data={"product_id": item.id})

    response = client.post("/checkout", data=CHECKOUT)

    assert response.status_code == 302
    assert db.session.scalar(select(Order)).customer_id is None


def test_a_customer_account_is_not_a_staff_account(client):
    register(client)
    assert client.get("/staf").status_code == 403
    assert client.get("/staf/pesanan").status_code == 403


def test_a_customer_changes_the_password_and_other_sessions_end(app, client):
    register(client)
    other = app.test_client()
    other.post("/akun/masuk", data={"email": "siti@example.id", "password": "kata sandi rahasia"})
    assert other.get("/akun").status_code == 200

    client.post("/akun/kata-sandi", data={"current": "kata sandi rahasia", "new": "kata sandi yang baru",
                                          "confirm": "kata sandi yang baru"})

    assert client.get("/akun").status_code == 200
    assert other.get("/akun").status_code == 302
