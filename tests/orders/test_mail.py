"""Order confirmation mail goes through a real SMTP server, in the buyer's language, as text and HTML."""

from __future__ import annotations

from email.message import Message

from shop.extensions import db
from shop.orders.mail import send_confirmation
from tests import factories as f


def parts(message: Message) -> dict[str, str]:
    return {part.get_content_type(): part.get_payload(decode=True).decode() for part in message.walk()
            if not part.is_multipart()}


def test_the_confirmation_arrives_in_indonesian_with_text_and_html(smtp_inbox):
    item = f.product(name_id="Bawang Goreng Palu", price=45_000)
    order = f.order({item: 2})
    db.session.commit()

    assert send_confirmation(order) is True

    [message] = smtp_inbox.messages
    assert message["To"] == "siti@example.id"
    assert message["Subject"] == f"Pesanan {order.number} Anda di Karya Binaan"
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    for text in body.values():
        assert "Bawang Goreng Palu" in text and "Rp90.000" in text and "Jl. Sisingamangaraja 12" in text
        assert "Mohon bayar sebelum" in text


def test_an_english_buyer_gets_english_mail(smtp_inbox):
    order = f.order()
    order.language = "en"
    db.session.commit()

    send_confirmation(order)

    [message] = smtp_inbox.messages
    assert message["Subject"] == f"Your order {order.number} at Karya Binaan"
    assert "IDR " in parts(message)["text/plain"] and "Please pay by" in parts(message)["text/plain"]


def test_placing_an_order_through_the_checkout_sends_the_mail(client, smtp_inbox):
    item = f.product()
    f.courier("jne")
    db.session.commit()
    client.post("/keranjang/tambah", data={"product_id": item.id})
    client.post("/checkout", data={
        "name": "Siti", "email": "siti@example.id", "phone": "081234567890", "street": "Jl. Cut Meutia 1",
        "kelurahan": "Kamonji", "kecamatan": "Palu Barat", "city": "Kota Palu", "province": "Sulawesi Tengah",
        "postal_code": "94111", "courier": "jne", "action": "place"})

    assert [m["To"] for m in smtp_inbox.messages] == ["siti@example.id"]


def test_a_mail_server_that_is_down_does_not_lose_the_order(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=2)
    try:
        order = f.order()
        db.session.commit()
        assert send_confirmation(order) is False
    finally:
        app.config.update(MAIL_SERVER="", MAIL_PORT=25, MAIL_TIMEOUT=10)
