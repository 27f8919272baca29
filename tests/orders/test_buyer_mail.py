"""Buyers hear from the shop at every change they wait for: paid, transfer not found, cancelled, return received,
money refunded; each in the buyer's language, through the outbox to a real SMTP server, sent with the request
that made the change (and only that request's mail)."""

from __future__ import annotations

from email.message import Message

from sqlalchemy import select

from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.outbox.models import MailStatus, OutboxMessage
from shop.payments.models import Payment
from tests import factories as f
from tests.helpers import logged_in
from tests.orders.test_buyer_path import ADDRESS


def body(message: Message) -> str:
    return next(part.get_payload(decode=True).decode() for part in message.walk()
                if part.get_content_type() == "text/plain")


def transfer_order(client, **buyer):
    order = f.order({f.product(name_id="Tas Rajut Selempang", price=150_000, stock=5): 1}, **buyer)
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]
    client.post(f"/pesanan/{order.number}/bayar/transfer")
    return order, db.session.scalar(select(Payment).where(Payment.order_id == order.id))


def test_a_confirmed_transfer_tells_the_buyer_the_payment_arrived(app, client, smtp_inbox):
    order, payment = transfer_order(client)
    staff = logged_in(app, "fulfilment")

    staff.post(f"/staf/pembayaran/{payment.id}/konfirmasi", data={"reference": "BRI 1"})

    [message] = smtp_inbox.messages
    assert message["To"] == "siti@example.id"
    assert message["Subject"] == f"Pembayaran pesanan {order.number} sudah kami terima"
    assert "Rp" in body(message) and "nomor resi" in body(message)
    assert f"/pesanan/lacak?number={order.number}" in body(message)


def test_a_rejected_transfer_gives_the_reason_the_account_and_the_new_deadline(app, client, smtp_inbox):
    order, payment = transfer_order(client)
    staff = logged_in(app, "fulfilment")

    staff.post(f"/staf/pembayaran/{payment.id}/tolak", data={"reason": "Nominal tidak cocok"})

    [message] = smtp_inbox.messages
    text = body(message)
    assert "Nominal tidak cocok" in text and app.config["BANK_ACCOUNT"]["number"] in text and "Rp" in text


def test_an_english_buyer_hears_of_a_cancellation_in_english_with_the_refund(app, client, smtp_inbox):
    order, payment = transfer_order(client)
    order.language = "en"
    db.session.commit()
    staff = logged_in(app, "fulfilment")
    staff.post(f"/staf/pembayaran/{payment.id}/konfirmasi", data={"reference": "BRI 1"})

    staff.post(f"/staf/pesanan/{order.number}/batal", data={"reason": "stock damaged in the flood",
                                                           "transfer_reference": "BRI 2"})

    paid, cancelled = smtp_inbox.messages  # one mail for the cancellation, not a second one for its refund
    assert paid["Subject"] == f"Payment received for order {order.number}"
    assert cancelled["Subject"] == f"Order {order.number} was cancelled"
    assert "stock damaged in the flood" in body(cancelled) and f"IDR {order.total:,}" in body(cancelled)


def test_a_return_and_its_refund_each_name_the_goods(app, client, smtp_inbox):
    order, payment = transfer_order(client)
    line = order.lines[0]
    staff = logged_in(app, "fulfilment")
    staff.post(f"/staf/pembayaran/{payment.id}/konfirmasi", data={"reference": "BRI 1"})
    for step, data in (("kemas", {}), ("kirim", {"facility_id": line.facility_id, "courier_id": order.courier_id,
                                                 "tracking_number": "JP1234567890"}), ("diterima", {})):
        staff.post(f"/staf/pesanan/{order.number}/{step}", data=data)
    db.session.expire_all()
    assert order.status is OrderStatus.DELIVERED

    staff.post(f"/staf/pesanan/{order.number}/retur", data={"reason": "jahitan lepas", f"line-{line.id}": 1})
    staff.post(f"/staf/pembayaran/{payment.id}/refund", data={
        "key": "r1", "reason": "jahitan lepas", "transfer_reference": "BRI 3", f"qty-{line.id}": 1})

    subjects = [m["Subject"] for m in smtp_inbox.messages]
    assert subjects[-2:] == [f"Barang kembalian pesanan {order.number} sudah kami terima",
                             f"Dana pesanan {order.number} dikembalikan"]
    returned, refunded = smtp_inbox.messages[-2:]
    assert "1 × Tas Rajut Selempang" in body(returned)
    assert "1 × Tas Rajut Selempang: Rp150.000" in body(refunded) and "jahitan lepas" in body(refunded)


def test_a_buyers_request_sends_only_its_own_mail_never_others_retries(app, client, smtp_inbox):
    waiting = OutboxMessage(kind="order.confirmation", recipient="other@example.id", subject="retry me",
                            message="Subject: retry me\n\nx", status=MailStatus.PENDING, attempts=1)
    db.session.add(waiting)
    db.session.commit()
    order, payment = transfer_order(client)
    staff = logged_in(app, "fulfilment")

    staff.post(f"/staf/pembayaran/{payment.id}/konfirmasi", data={"reference": "BRI 1"})

    assert [m["To"] for m in smtp_inbox.messages] == ["siti@example.id"]
    db.session.expire_all()
    assert waiting.status is MailStatus.PENDING  # left to the deliverer (cron or worker)


def test_the_confirmation_says_how_to_pay_with_the_account_and_a_link(client, smtp_inbox):
    item = f.product()
    f.courier("jne")
    db.session.commit()
    client.post("/keranjang/tambah", data={"product_id": item.id})
    client.post("/checkout", data={**ADDRESS, "courier": "jne", "action": "place"})

    [message] = smtp_inbox.messages
    text = body(message)
    number = message["Subject"].split()[1]
    assert f"/pesanan/lacak?number={number}" in text and "Dengan transfer bank: tepat Rp" in text
    assert "Koperasi Farmtisan Lestari Berjaya" in text


def test_the_staff_outbox_says_when_no_mail_server_is_set_instead_of_all_delivered(app, client):
    order, payment = transfer_order(client)
    staff = logged_in(app, "fulfilment")
    staff.post(f"/staf/pembayaran/{payment.id}/konfirmasi", data={"reference": "BRI 1"})  # mail only logged

    page = staff.get("/staf/surat").get_data(as_text=True)

    assert "Belum ada server surel" in page and "1 surel tidak terkirim" in page
    assert "Setiap surat sudah terkirim" not in page
