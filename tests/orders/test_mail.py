"""Order mail goes through the outbox to a real SMTP server, in the buyer's language, as text and HTML; a mail
server that is down loses nothing and sends nothing twice."""

from __future__ import annotations

import socket
from datetime import timedelta
from email.message import Message

from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from shop.checkout.mail import queue_confirmation
from shop.extensions import db
from shop.outbox import service as outbox
from shop.outbox.models import MailStatus, OutboxMessage
from shop.timeutil import utcnow
from tests import factories as f
from tests.conftest import Inbox
from tests.helpers import at_once


def send_confirmation(order) -> bool:
    """Queue the confirmation, commit as the checkout does, and deliver: whether it went out."""
    queue_confirmation(order)
    db.session.commit()
    return outbox.deliver_due()["sent"] == 1


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
    row = db.session.scalar(select(OutboxMessage))
    assert row.status is MailStatus.PENDING and row.attempts == 1 and "Connection" in row.last_error


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_mail_queued_while_smtp_was_down_arrives_exactly_once_when_it_is_back(app, client):
    """The SMTP server is stopped, an order is placed through the checkout, the server starts again: the
    retry delivers the confirmation once, and later runs send nothing more."""
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=2)
    try:
        item = f.product()
        f.courier("jne")
        db.session.commit()
        client.post("/keranjang/tambah", data={"product_id": item.id})
        placed = client.post("/checkout", data={
            "name": "Siti", "email": "siti@example.id", "phone": "081234567890", "street": "Jl. Cut Meutia 1",
            "kelurahan": "Kamonji", "kecamatan": "Palu Barat", "city": "Kota Palu", "province": "Sulawesi Tengah",
            "postal_code": "94111", "courier": "jne", "action": "place"})
        assert placed.status_code == 302  # the buyer's order is saved though the mail could not go
        row = db.session.scalar(select(OutboxMessage))
        assert row.status is MailStatus.PENDING and row.attempts == 1

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            app.config["FROZEN_NOW"] = row.next_attempt_at  # the retry is due
            runner = app.test_cli_runner()
            assert "1 sent" in runner.invoke(args=["mail", "deliver"]).output
            assert "0 sent" in runner.invoke(args=["mail", "deliver"]).output
        finally:
            controller.stop()
            app.config.pop("FROZEN_NOW", None)
    finally:
        app.config.update(MAIL_SERVER="", MAIL_PORT=25, MAIL_TIMEOUT=10)
    assert [m["To"] for m in inbox.messages] == ["siti@example.id"]
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.status)) is MailStatus.SENT


def test_two_deliverers_at_once_send_each_mail_once(app, smtp_inbox):
    for _ in range(6):
        queue_confirmation(f.order())
    db.session.commit()

    def deliver() -> dict[str, int]:
        with app.app_context():
            try:
                return outbox.deliver_due()
            finally:
                db.session.remove()

    results = at_once(deliver, deliver, deliver)

    assert sum(r["sent"] for r in results) == 6 and len(smtp_inbox.messages) == 6
    assert db.session.scalar(select(func.count()).where(OutboxMessage.status == MailStatus.SENT)) == 6


def test_staff_see_mail_that_keeps_failing_and_send_it_again(app, smtp_inbox):
    from tests.helpers import logged_in, text_of

    queue_confirmation(f.order())
    row = db.session.scalar(select(OutboxMessage))
    row.status, row.attempts, row.last_error = MailStatus.FAILED, 10, "SMTPServerDisconnected: gone"
    db.session.commit()
    desk = logged_in(app, "fulfilment")

    page = text_of(desk.get("/staf/surat"))
    assert "SMTPServerDisconnected" in page and "siti@example.id" in page
    desk.post(f"/staf/surat/{row.id}/kirim-ulang")

    assert len(smtp_inbox.messages) == 1
    assert "Setiap surat sudah terkirim" in text_of(desk.get("/staf/surat"))


def test_a_send_slower_than_the_claim_does_not_overwrite_the_deliverer_that_took_it_over(app, monkeypatch):
    """The SMTP server takes longer than MAIL_CLAIM_MINUTES; meanwhile a second deliverer takes the message over
    (its claim is newer) and fails it for now. The slow first deliverer's "sent" must not overwrite that state:
    the message stays the second deliverer's, retried as it decided."""
    from shop import mail as mail_module

    queue_confirmation(f.order())
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1")
    taken_over = utcnow() + timedelta(minutes=11)

    def slow_send(message):
        db.session.execute(update(OutboxMessage).values(claimed_at=taken_over, status=MailStatus.PENDING,
                                                        attempts=1, last_error="second deliverer: timed out"))
        return None  # the slow server did accept it in the end

    monkeypatch.setattr(mail_module, "deliver", slow_send)
    try:
        counts = outbox.deliver_due()
    finally:
        app.config.update(MAIL_SERVER="")

    assert counts["sent"] == 1
    db.session.expire_all()
    row = db.session.scalar(select(OutboxMessage))
    assert (row.status, row.last_error) == (MailStatus.PENDING, "second deliverer: timed out")
