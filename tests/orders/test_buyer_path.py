"""The buyer's path from cart to an order awaiting payment, through the pages, as a guest."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import Order, OrderLine, OrderStatus
from tests import factories as f
from tests.helpers import text_of

ADDRESS = {"name": "Siti Aminah", "email": "Siti@Example.ID ", "phone": "0812-3456-7890",
           "street": "Jl. Sisingamangaraja 12", "rt_rw": "003/005", "kelurahan": "Besusu Tengah",
           "kecamatan": "Palu Timur", "city": "Kota Palu", "province": "Sulawesi Tengah", "postal_code": "94111",
           "notes": "Tolong dibungkus rapi"}


@pytest.fixture
def shop_items():
    palu = f.facility(name="Lapas Perempuan Kelas III Palu")  # one workshop: one parcel
    bag = f.product(facility=palu, name_id="Tas Rajut Selempang", price=175_000, weight_g=400, stock=5)
    shallots = f.certified_food(facility=palu, name_id="Bawang Goreng Palu", price=45_000, weight_g=250, stock=20)
    jne = f.courier("jne", {"Sulawesi Tengah": (12_000, 8_000), "DKI Jakarta": (32_000, 24_000)})
    db.session.commit()
    return bag, shallots, jne


def stock_of(product: Product) -> int:
    return db.session.scalar(select(Product.stock).where(Product.id == product.id))



def test_a_guest_buys_two_products_and_gets_an_order_awaiting_payment(client, shop_items):
    bag, shallots, jne = shop_items
    client.post("/keranjang/tambah", data={"product_id": bag.id, "quantity": 1})
    client.post("/keranjang/tambah", data={"product_id": shallots.id, "quantity": 2})

    cart = text_of(client.get("/keranjang"))
    assert "Rp265.000" in cart  # 175.000 + 2 × 45.000
    assert "900 g" in cart  # 400 + 2 × 250

    quote = text_of(client.post("/checkout", data={**ADDRESS, "action": "quote"}))
    assert "Rp12.000" in quote  # 900 g is one started kg to Sulawesi Tengah
    assert "Siti Aminah" in client.post("/checkout", data={**ADDRESS, "action": "quote"}).get_data(as_text=True)

    response = client.post("/checkout", data={**ADDRESS, "courier": "jne", "action": "place"})

    assert response.status_code == 302
    order = db.session.scalar(select(Order))
    assert response.headers["Location"] == f"/pesanan/{order.number}/bayar"
    assert re.fullmatch(r"KB-\d{4}-\d{6}", order.number)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert (order.subtotal, order.shipping_cost, order.total) == (265_000, 12_000, 277_000)
    assert order.phone == "+6281234567890" and order.email == "Siti@example.id"
    assert [(line.name, line.unit_price, line.quantity) for line in order.lines] == [
        ("Tas Rajut Selempang", 175_000, 1), ("Bawang Goreng Palu", 45_000, 2)]
    assert order.lines[0].facility_name == bag.facility.name
    assert stock_of(bag) == 4 and stock_of(shallots) == 18

    pay_page = text_of(client.get(response.headers["Location"]))
    assert order.number in pay_page and "Rp277.000" in pay_page and "menunggu pembayaran" in pay_page
    assert "Keranjang Anda kosong" in text_of(client.get("/keranjang"))


def test_line_snapshots_keep_the_price_paid_when_the_product_changes_later(shop_items):
    bag, _shallots, _jne = shop_items
    order = f.order({bag: 1})
    bag.price = 999_000
    bag.name_id = "Nama baru"
    db.session.commit()

    assert (order.lines[0].unit_price, order.lines[0].name) == (175_000, "Tas Rajut Selempang")


def test_an_order_page_is_found_by_number_and_email_from_another_browser(app, client, shop_items):
    bag, _shallots, _jne = shop_items
    order = f.order({bag: 1})
    db.session.commit()
    stranger = app.test_client()

    asked = stranger.get(f"/pesanan/{order.number}/bayar")  # the link in the order mail, in another browser
    assert asked.status_code == 302 and asked.headers["Location"].startswith(f"/pesanan/lacak?number={order.number}")
    form = stranger.get(asked.headers["Location"])
    assert "masukkan alamat email" in text_of(form).lower() and "Tas Rajut" not in text_of(form)
    missing = stranger.get("/pesanan/KB-2026-999999")  # answered the same way: no probing which numbers exist
    assert missing.status_code == 302 and "number=KB-2026-999999" in missing.headers["Location"]
    wrong = stranger.post("/pesanan/lacak", data={"number": order.number, "email": "other@example.id"})
    assert "Tidak ada pesanan" in text_of(wrong)
    assert order.number in wrong.get_data(as_text=True)  # what was typed stays

    found = stranger.post("/pesanan/lacak", data={"number": order.number.lower().replace("-", ""),
                                                  "email": "SITI@example.id", "next": f"/pesanan/{order.number}/bayar"})
    assert found.headers["Location"] == f"/pesanan/{order.number}/bayar"  # back where the link pointed
    found = stranger.post("/pesanan/lacak", data={"number": order.number.lower(), "email": "SITI@example.id",
                                                  "next": "https://evil.example/"})
    assert found.headers["Location"] == f"/pesanan/{order.number}"
    page = text_of(stranger.get(found.headers["Location"]))
    assert "menunggu pembayaran" in page and "Tas Rajut Selempang" in page and "pesanan dibuat" in page


@pytest.mark.parametrize("field, value, message", [
    ("email", "siti@", "Masukkan alamat email yang benar"),
    ("phone", "12345", "Masukkan nomor telepon Indonesia"),
    ("phone", "+1 202 555 0143", "Masukkan nomor telepon Indonesia"),
    ("postal_code", "9411", "Kode pos terdiri dari 5 angka"),
    ("postal_code", "94l11", "Kode pos terdiri dari 5 angka"),
    ("postal_code", "00000", "Kode pos terdiri dari 5 angka"),
    ("postal_code", "12730", "Kode pos di Sulawesi Tengah berawalan 94"),  # Jakarta's, with Sulawesi Tengah chosen
    ("rt_rw", "abc", "Tulis RT/RW sebagai dua angka"),
    ("province", "Atlantis", "Pilih provinsi dari daftar"),
    ("name", "", "Kolom ini wajib diisi"),
    ("kecamatan", "   ", "Kolom ini wajib diisi"),
    ("courier", "", "Pilih kurir"),
    ("courier", "dhl", "Kurir ini tidak mengantar ke provinsi yang dipilih"),
    ("name", "N" * 121, "Isian ini paling banyak 120 karakter."),  # WTForms' own message, in Indonesian
])
def test_a_bad_field_is_shown_at_the_field_and_everything_typed_is_kept(client, shop_items, field, value, message):
    bag, _shallots, _jne = shop_items
    client.post("/keranjang/tambah", data={"product_id": bag.id})
    data = {**ADDRESS, "courier": "jne", "action": "place", field: value}

    response = client.post("/checkout", data=data)
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert message in html
    assert re.search(r'class="field field-error"|class="couriers field-error"', html)
    for kept in ("Jl. Sisingamangaraja 12", "Besusu Tengah", "Tolong dibungkus rapi", "003/005"):
        if kept != value:
            assert kept in html
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_errors_follow_the_chosen_language(client, shop_items):
    bag, _shallots, _jne = shop_items
    client.get("/bahasa/en")
    client.post("/keranjang/tambah", data={"product_id": bag.id})

    html = client.post("/checkout", data={**ADDRESS, "postal_code": "12", "courier": "jne",
                                          "action": "place"}).get_data(as_text=True)

    assert "A postal code has 5 digits, like 94111." in html


def test_a_sold_out_product_at_checkout_gives_a_clear_answer_and_writes_nothing(client, shop_items):
    bag, shallots, _jne = shop_items
    client.post("/keranjang/tambah", data={"product_id": bag.id, "quantity": 2})
    client.post("/keranjang/tambah", data={"product_id": shallots.id, "quantity": 1})
    db.session.get(Product, bag.id).stock = 1  # someone else bought in the meantime
    db.session.commit()

    response = client.post("/checkout", data={**ADDRESS, "courier": "jne", "action": "place"})

    assert response.headers["Location"] == "/keranjang"
    cart = text_of(client.get("/keranjang"))
    assert "Hanya tersisa 1" in cart
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    assert db.session.scalar(select(func.count()).select_from(OrderLine)) == 0
    assert stock_of(shallots) == 20
    # What the buyer typed waits for them after they adjust the cart.
    client.post("/keranjang/sesuaikan")
    form = client.get("/checkout").get_data(as_text=True)
    assert 'value="Jl. Sisingamangaraja 12"' in form and 'value="Besusu Tengah"' in form


def test_an_empty_cart_cannot_check_out(client, shop_items):
    response = client.get("/checkout")
    assert response.headers["Location"] == "/keranjang"


def test_an_order_that_expired_unpaid_says_so_and_thanks_nobody_for_paying(app, client, shop_items):
    from datetime import timedelta

    from shop.timeutil import aware

    bag, _shallots, _jne = shop_items
    order = f.order({bag: 1})
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]
    app.config["FROZEN_NOW"] = aware(order.expires_at) + timedelta(minutes=1)

    detail = text_of(client.get(f"/pesanan/{order.number}"))
    pay = text_of(client.get(f"/pesanan/{order.number}/bayar"))

    assert "dibatalkan" in detail and "yang Anda bayar" not in detail
    assert "Terima kasih" not in pay and "tidak ada yang perlu dibayar" in pay
