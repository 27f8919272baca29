"""QRIS, e-wallets, virtual accounts and minimarkets through Midtrans Snap (#25), end to end over real HTTP against
the stand-in (tests/payments/midtrans_rig.py): the shop starts Snap, Midtrans notifies the shop's live server, and
only Midtrans's status API decides."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from shop import jobs
from shop.extensions import db
from shop.fulfilment import service as fulfilment
from shop.ledger.models import EntryKind, LedgerEntry, Part
from shop.orders import service as orders
from shop.orders.models import EventCode, Order, OrderEvent, OrderStatus
from shop.outbox.models import OutboxMessage
from shop.payments import midtrans_gateway, online
from shop.payments import service as payments
from shop.payments.models import Payment, PaymentMethod, PaymentStatus, Refund
from shop.timeutil import utcnow
from tests import factories as f
from tests.helpers import text_of
from tests.ledger.factories import rule
from tests.payments.midtrans_rig import SERVER_KEY, signature


@pytest.fixture
def placed(client):
    """An order of 2 × Rp45.000 bawang goreng and its shipping, placed by this client's browser; a split rule books
    its sale."""
    rule()
    item = f.product(name_id="Bawang Goreng", price=45_000, stock=10)
    order = f.order({item: 2})
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]
    return order


def choose(client, order, channel: str) -> Payment:
    answer = client.post(f"/pesanan/{order.number}/bayar/online", data={"channel": channel})
    assert answer.status_code == 303, text_of(answer)[:400]
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id, Payment.method ==
                                                      PaymentMethod.MIDTRANS).order_by(Payment.id.desc()))
    assert answer.headers["Location"] == payment.checkout_url
    return payment


def fresh(payment: Payment) -> Payment:
    db.session.expire_all()
    return db.session.get_one(Payment, payment.id)


def paid_moves(order) -> int:
    return db.session.scalar(select(func.count()).select_from(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.to_status == OrderStatus.PAID))


def sales_booked(order) -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.order_id == order.id, LedgerEntry.kind == "sale"))


def test_snap_is_asked_for_the_exact_total_in_items_that_add_up_the_chosen_method_and_the_orders_hold(
        client, placed, midtrans):
    payment = choose(client, placed, "other_qris")

    method, path, body = next(r for r in midtrans.requests if r[1] == "/snap/v1/transactions")
    assert body["transaction_details"] == {"order_id": f"{placed.number}-M1", "gross_amount": placed.total}
    assert sum(item["price"] * item["quantity"] for item in body["item_details"]) == placed.total
    assert [i["name"] for i in body["item_details"]][0] == "Bawang Goreng" and any(
        i["name"].startswith("Ongkir") for i in body["item_details"])
    assert body["enabled_payments"] == ["other_qris"]
    assert body["customer_details"]["email"] == placed.email
    held = (placed.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).total_seconds() / 60
    assert body["expiry"]["unit"] == "minute" and abs(body["expiry"]["duration"] - held) <= 1
    assert body["callbacks"]["finish"].endswith(f"/pesanan/{placed.number}/bayar/online/selesai")
    assert payment.provider_ref == f"{placed.number}-M1" and payment.status is PaymentStatus.PENDING

    # The same choice again is the same attempt; another method is a new attempt with an order_id of its own.
    assert choose(client, placed, "other_qris").id == payment.id
    second = choose(client, placed, "bca_va")
    assert second.provider_ref == f"{placed.number}-M2" and fresh(payment).status is PaymentStatus.EXPIRED
    # A way to pay at the bank keeps the goods as long as a bank transfer does.
    db.session.expire_all()
    assert db.session.get_one(Order, placed.id).expires_at.replace(tzinfo=None) > (
        utcnow() + timedelta(hours=23)).replace(tzinfo=None)


def test_a_qris_payment_shows_its_code_while_pending_then_pays_the_order_once_books_it_and_mails_the_buyer(
        client, placed, midtrans):
    payment = choose(client, placed, "other_qris")
    midtrans.choose(payment.provider_ref, "other_qris")  # the buyer picks QRIS on Snap's page: pending, notified
    midtrans.wait_notified()

    waiting = fresh(payment)
    assert waiting.status is PaymentStatus.PENDING and waiting.pay_qr and waiting.provider_status == "pending"
    page = client.get(f"/pesanan/{placed.number}/bayar")
    assert "<svg" in page.get_data(as_text=True) and "QRIS" in text_of(page)
    assert client.get(f"/pesanan/{placed.number}/status.json").json == {"order": "awaiting_payment",
                                                                         "payment": "pending"}

    midtrans.pay(payment.provider_ref)
    midtrans.wait_notified()
    midtrans.notify(payment.provider_ref)  # delivered twice: nothing happens twice

    done = fresh(payment)
    assert done.status is PaymentStatus.SUCCEEDED and done.pay_type == "qris"
    fee = (placed.total * 7 + 500) // 1_000  # MIDTRANS_FEES qris=0.7%, to whole rupiah
    assert fee > 0 and done.fee == fee and done.net == placed.total - fee
    order = db.session.get_one(Order, placed.id)
    assert order.status is OrderStatus.PAID and paid_moves(order) == 1 and sales_booked(order) >= 1
    event = db.session.scalar(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                       OrderEvent.code == EventCode.PAID_ONLINE))
    assert "QRIS" in event.text
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.recipient == order.email, OutboxMessage.kind == "order.paid")) == 1
    assert client.get(f"/pesanan/{placed.number}/status.json").json["order"] == "paid"


def test_a_virtual_account_shows_its_number_with_a_copy_button_and_the_deadline(client, placed, midtrans):
    payment = choose(client, placed, "bca_va")
    midtrans.choose(payment.provider_ref, "bca_va")
    midtrans.wait_notified()

    page = client.get(f"/pesanan/{placed.number}/bayar").get_data(as_text=True)
    number = fresh(payment).pay_code
    assert number.startswith("8808") and f'data-copy="{number}"' in page and "BCA" in page
    assert "Bayar sebelum" in page
    deadline = fresh(payment).pay_deadline.replace(tzinfo=None)  # Midtrans's expiry, in GMT+7, kept in UTC
    held = db.session.get_one(Order, placed.id).expires_at.replace(tzinfo=None)
    assert abs((deadline - held).total_seconds()) <= 120


def test_a_notification_with_a_wrong_signature_gets_403_a_malformed_one_400_an_unknown_order_200_and_none_writes(
        client, placed, midtrans):
    payment = choose(client, placed, "other_qris")
    midtrans.auto_notify = False
    midtrans.choose(payment.provider_ref, "other_qris")
    midtrans.pay(payment.provider_ref)
    body = midtrans.body(payment.provider_ref)

    assert client.post("/midtrans/notification", json={**body, "signature_key": "0" * 128}).status_code == 403
    assert client.post("/midtrans/notification", data="not json", content_type="application/json").status_code == 400
    assert client.post("/midtrans/notification", json=[1, 2]).status_code == 400
    assert client.post("/midtrans/notification", json={"order_id": 5}).status_code == 400
    stranger = {"order_id": "KB-0000-000000-M1", "status_code": "200", "gross_amount": "10000.00"}
    stranger["signature_key"] = signature(**stranger)
    answer = client.post("/midtrans/notification", json=stranger)
    assert answer.status_code == 200 and "unknown" in answer.get_data(as_text=True)
    assert fresh(payment).status is PaymentStatus.PENDING and paid_moves(placed) == 0


def test_a_replayed_or_forged_settlement_body_cannot_pay_what_midtrans_says_is_pending(client, placed, midtrans):
    payment = choose(client, placed, "other_qris")
    midtrans.auto_notify = False
    midtrans.choose(payment.provider_ref, "other_qris")
    pending = midtrans.body(payment.provider_ref)
    # A body that says "settlement" (signed over a status_code and amount a replay could carry): the shop asks.
    forged = {**pending, "transaction_status": "settlement", "status_code": "200"}
    forged["signature_key"] = signature(forged["order_id"], "200", forged["gross_amount"])

    assert client.post("/midtrans/notification", json=forged).status_code == 200
    assert fresh(payment).status is PaymentStatus.PENDING and paid_moves(placed) == 0


def test_pending_arriving_after_settlement_and_expire_after_it_change_nothing(client, placed, midtrans):
    payment = choose(client, placed, "gopay")
    midtrans.choose(payment.provider_ref, "gopay")
    midtrans.pay(payment.provider_ref)
    midtrans.wait_notified()
    assert fresh(payment).status is PaymentStatus.SUCCEEDED

    with midtrans.lock:  # Midtrans's status itself going back would be a bug there; still, the shop keeps what it has
        midtrans.transactions[payment.provider_ref]["transaction_status"] = "pending"
    midtrans.notify(payment.provider_ref)
    midtrans.set_status(payment.provider_ref, "expire")
    midtrans.wait_notified()
    assert fresh(payment).status is PaymentStatus.SUCCEEDED and paid_moves(placed) == 1


def test_a_wrong_server_key_gets_401_and_the_buyer_a_clear_message_with_nothing_written(app, client, placed, midtrans):
    app.config["MIDTRANS_SERVER_KEY"] = "SB-Mid-server-wrong"
    answer = client.post(f"/pesanan/{placed.number}/bayar/online", data={"channel": "other_qris"},
                         follow_redirects=True)
    assert "tidak tersedia saat ini" in text_of(answer)
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    with pytest.raises(midtrans_gateway.GatewayError, match="401"):
        midtrans_gateway.status("anything")


def test_a_duplicate_order_id_is_refused_by_midtrans_as_its_documentation_says(app, placed, midtrans):
    body = {"transaction_details": {"order_id": "KB-X-1", "gross_amount": 10_000}}
    assert midtrans_gateway.create_snap(body).token
    with pytest.raises(midtrans_gateway.GatewayError, match="400"):
        midtrans_gateway.create_snap(body)
    with pytest.raises(midtrans_gateway.GatewayError, match="400"):  # items that do not add up
        midtrans_gateway.create_snap({"transaction_details": {"order_id": "KB-X-2", "gross_amount": 10_000},
                                      "item_details": [{"id": "a", "price": 9_000, "quantity": 1, "name": "a"}]})


def test_without_a_server_key_the_option_is_not_shown(app, client, placed):
    app.config["MIDTRANS_SERVER_KEY"] = ""
    page = text_of(client.get(f"/pesanan/{placed.number}/bayar"))
    assert "QRIS" not in page and "Transfer bank" in page or "transfer" in page.lower()
    assert client.post(f"/pesanan/{placed.number}/bayar/online", data={"channel": "other_qris"}).status_code == 302
    assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_the_ways_to_pay_are_named_as_people_know_them_with_how_long_each_stays_open(client, placed, midtrans):
    page = text_of(client.get(f"/pesanan/{placed.number}/bayar"))
    for name in ("QRIS", "GoPay", "ShopeePay", "Virtual account BCA", "Virtual account BNI", "Virtual account BRI",
                 "Mandiri", "Indomaret", "Alfamart"):
        assert name in page, name
    assert "dalam 24 jam" in page  # a virtual account or a counter: as long as a bank transfer


def paid_online(client, order, midtrans, channel: str) -> Payment:
    payment = choose(client, order, channel)
    midtrans.choose(payment.provider_ref, channel)
    midtrans.pay(payment.provider_ref)
    midtrans.wait_notified()
    return fresh(payment)


def test_a_qris_refund_goes_through_midtrans_once_per_key_and_reverses_the_ledger(client, placed, midtrans):
    payment = paid_online(client, placed, midtrans, "other_qris")
    line = placed.lines[0]
    items = payments.refund_items(placed, quantities={line.id: 1})

    first = payments.refund(payment, amount=45_000, reason="satu rusak", key="k1", actor=None, items=items)
    again = payments.refund(payment, amount=45_000, reason="satu rusak", key="k1", actor=None, items=items)
    db.session.commit()
    midtrans.wait_notified()  # Midtrans notifies partial_refund: already counted, nothing twice

    assert first.id == again.id and first.provider_refund_id
    refunds = [r for r in midtrans.requests if r[1].endswith("/refund")]
    assert len(refunds) == 1 and refunds[0][2]["amount"] == 45_000 and refunds[0][2]["refund_key"]
    assert fresh(payment).refunded == 45_000
    assert db.session.scalar(select(func.count(Refund.id))) == 1
    assert db.session.scalar(select(func.sum(LedgerEntry.amount)).where(
        LedgerEntry.order_id == placed.id, LedgerEntry.kind == EntryKind.REFUND_REVERSAL,
        LedgerEntry.part == Part.GROSS)) == -45_000


def test_money_paid_to_a_virtual_account_goes_back_by_a_transfer_staff_record(client, placed, midtrans):
    payment = paid_online(client, placed, midtrans, "bni_va")
    assert payments.needs_transfer_reference(payment)

    with pytest.raises(payments.PaymentError, match="transfer_reference"):
        payments.refund(payment, amount=10_000, reason="x", key="k", actor=None,
                        items=payments.refund_items(placed, quantities={}, shipping=True))
    db.session.rollback()
    payments.refund(fresh(payment), amount=10_000, reason="ongkir", key="k2", actor=None, transfer_reference="BNI 77",
                    items=payments.refund_items(placed, quantities={}, shipping=True))
    db.session.commit()
    assert not [r for r in midtrans.requests if r[1].endswith("/refund")]


def test_the_stand_in_refuses_an_online_refund_of_a_virtual_account_with_412(client, placed, midtrans):
    payment = paid_online(client, placed, midtrans, "permata_va")
    with pytest.raises(midtrans_gateway.NotAllowed, match="412"):
        midtrans_gateway.refund(payment.provider_ref, amount=1_000, key="x", reason="x")


def test_an_order_the_shop_cancelled_has_its_attempt_expired_at_midtrans(client, placed, midtrans):
    payment = choose(client, placed, "other_qris")
    midtrans.choose(payment.provider_ref, "other_qris")
    midtrans.wait_notified()
    orders.cancel_order(db.session.get_one(Order, placed.id), reason="pembeli membatalkan")
    db.session.commit()

    reference = payment.provider_ref
    synced = jobs.sync_online_payments()

    assert "expired at Midtrans" in synced.get(reference, str(synced))
    assert midtrans.transactions[payment.provider_ref]["transaction_status"] == "expire"
    assert fresh(payment).status is PaymentStatus.EXPIRED
    midtrans.wait_notified()  # Midtrans's own "expire" notification changes nothing more
    assert fresh(payment).status is PaymentStatus.EXPIRED and jobs.sync_online_payments() == {}


@pytest.mark.parametrize("channel, given_back_online", [("other_qris", True), ("bri_va", False)])
def test_money_that_arrives_after_the_shop_cancelled_is_given_back_in_full(client, placed, midtrans, channel,
                                                                           given_back_online):
    payment = choose(client, placed, channel)
    midtrans.auto_notify = False  # the buyer pays as the shop cancels: the notification has not arrived yet
    midtrans.choose(payment.provider_ref, channel)
    midtrans.pay(payment.provider_ref)
    orders.cancel_order(db.session.get_one(Order, placed.id), reason="waktu habis")
    db.session.commit()

    jobs.sync_online_payments()  # expiring it at Midtrans is refused (412): what Midtrans says is applied

    late = fresh(payment)
    order = db.session.get_one(Order, placed.id)
    assert order.status is OrderStatus.CANCELLED and paid_moves(order) == 0
    assert late.status is PaymentStatus.SUCCEEDED
    if given_back_online:
        assert late.refunded == late.amount and midtrans.transactions[payment.provider_ref]["refunded"] == late.amount
    else:  # a virtual account cannot be refunded online: staff see what to give back by transfer
        assert late.duplicate and late.refunded == 0
        assert payments.money_state(order).duplicate_outstanding == late.amount


def test_staff_check_with_midtrans_after_a_missed_notification(client, placed, midtrans):
    payment = choose(client, placed, "indomaret")
    midtrans.auto_notify = False  # the notification is lost
    midtrans.choose(payment.provider_ref, "indomaret")
    midtrans.pay(payment.provider_ref)
    staff = f.user("fulfilment")
    db.session.commit()
    client.post("/masuk", data={"email": staff.email, "password": f.PASSWORD})

    page = client.post(f"/staf/pembayaran/{payment.id}/cek-midtrans", follow_redirects=True)

    assert "settlement" in text_of(page)
    assert fresh(payment).status is PaymentStatus.SUCCEEDED and fresh(payment).fee == 5_000  # cstore=5000
    assert paid_moves(placed) == 1


def test_fees_are_read_from_configuration_exactly(app):
    app.config["MIDTRANS_FEES"] = "qris=0.7%,gopay=2%,bank_transfer=4000,cstore=5000"
    assert midtrans_gateway.fee("qris", 190_000) == 1_330
    assert midtrans_gateway.fee("qris", 10_050) == 70  # 70.35 → 70
    assert midtrans_gateway.fee("qris", 10_072) == 71  # 70.504 → 71, half up
    assert midtrans_gateway.fee("gopay", 50_000) == 1_000
    assert midtrans_gateway.fee("bank_transfer", 50_000) == 4_000
    assert midtrans_gateway.fee("credit_card", 50_000) == 0


def test_the_signature_is_sha512_of_order_id_status_code_gross_amount_and_the_server_key(app, midtrans):
    body = {"order_id": "KB-1-M1", "status_code": "200", "gross_amount": "10000.00"}
    body["signature_key"] = hashlib.sha512(f"KB-1-M1200" f"10000.00{SERVER_KEY}".encode()).hexdigest()
    assert midtrans_gateway.signature_ok(body)
    assert not midtrans_gateway.signature_ok({**body, "gross_amount": "10001.00"})
    assert not midtrans_gateway.signature_ok({**body, "signature_key": None})


def test_the_stand_ins_payment_page_sends_the_buyer_back_to_the_shop(client, placed, midtrans):
    payment = choose(client, placed, "shopeepay")
    page = requests.get(payment.checkout_url, timeout=10)
    assert page.status_code == 200 and "shopeepay" in page.text
    token = re.search(r"redirection/([0-9a-f]+)", payment.checkout_url).group(1)
    chosen = requests.post(f"{midtrans.base_url}/snap/v4/redirection/{token}/choose", data={"payment_type":
                                                                                            "shopeepay"}, timeout=10)
    assert "Bayar" in chosen.text
    back = requests.post(f"{midtrans.base_url}/snap/v4/redirection/{token}/pay", allow_redirects=False, timeout=10)
    assert f"/pesanan/{placed.number}/bayar/online/selesai?order_id={payment.provider_ref}&" in back.headers["Location"]
    midtrans.wait_notified()
    assert fresh(payment).status is PaymentStatus.SUCCEEDED
    assert online.due_for_sync() == []


@pytest.mark.parametrize("channel", ["gopay", "echannel"])
def test_the_desk_cancels_a_paid_order_through_the_providers_interface(client, placed, midtrans, channel):
    """Cancelling at the fulfilment desk refunds each payment the way its provider allows, without naming it."""
    payment = paid_online(client, placed, midtrans, channel)
    order = db.session.get_one(Order, placed.id)
    if channel == "echannel":  # Mandiri bill payment: only a transfer staff make gives the money back
        with pytest.raises(fulfilment.FulfilmentError, match="transfer_reference_required"):
            fulfilment.cancel(order, reason="stok rusak", actor=None)
        db.session.rollback()
        fulfilment.cancel(db.session.get_one(Order, placed.id), reason="stok rusak", actor=None,
                          transfer_reference="Mandiri 55")
    else:
        fulfilment.cancel(order, reason="stok rusak", actor=None)
    db.session.commit()

    done = fresh(payment)
    assert done.refunded == done.amount and db.session.get_one(Order, placed.id).status is OrderStatus.CANCELLED
    online_refunds = [r for r in midtrans.requests if r[1].endswith("/refund")]
    assert len(online_refunds) == (1 if channel == "gopay" else 0)
    assert done.refunds[0].transfer_reference == ("" if channel == "gopay" else "Mandiri 55")


def test_a_provider_that_cannot_be_reached_at_a_desk_cancel_leaves_the_order_as_it_was(app, client, placed,
                                                                                      midtrans):
    payment = paid_online(client, placed, midtrans, "shopeepay")
    staff = f.user("fulfilment")
    db.session.commit()
    client.post("/masuk", data={"email": staff.email, "password": f.PASSWORD})
    app.config["MIDTRANS_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    try:
        page = client.post(f"/staf/pesanan/{placed.number}/batal", data={"reason": "stok rusak"},
                           follow_redirects=True)
    finally:
        app.config["MIDTRANS_API_BASE"] = midtrans.base_url
    assert "Penyedia pembayaran tidak menerima pengembalian dana" in text_of(page)
    assert db.session.get_one(Order, placed.id).status is OrderStatus.PAID and fresh(payment).refunded == 0
