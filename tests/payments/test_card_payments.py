"""Card payments end to end over the local Stripe rig: Checkout → signed webhook → paid (ledger hook once),
refunds, and webhooks that are forged, replayed, duplicated or out of order."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import OrderEvent, OrderStatus
from shop.payments.models import Payment, PaymentStatus, Refund, StripeEvent
from shop.payments.service import MoneyState, money_state
from shop.timeutil import utcnow
from tests import factories as f
from tests.helpers import text_of


def paid_moves(order) -> int:
    """How many times the order was marked paid (each time is one event in its history)."""
    return db.session.scalar(select(func.count()).select_from(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.to_status == OrderStatus.PAID))


@pytest.fixture
def placed(client):
    """An order for Rp90.000 + Rp10.000 shipping, placed by this client's browser."""
    item = f.product(name_id="Bawang Goreng", price=45_000, stock=10)
    order = f.order({item: 2})
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]
    return order


def post_event(client, rig, event, **sign):
    body, headers = rig.signed(event, **sign)
    return client.post("/stripe/webhook", data=body, headers=headers)


def paid_by_card_with_staff_logged_in(client, rig, order) -> tuple[Payment, str]:
    """The buyer pays the order by card; then a fulfilment clerk logs in on the same client. Returns the
    payment and the refund form's one-time key."""
    payment = start_card(client, order)
    rig.complete_checkout(payment.stripe_checkout_session_id)
    post_event(client, rig, rig.completed_event(payment.stripe_checkout_session_id))
    staff = f.user("fulfilment")
    db.session.commit()
    client.post("/masuk", data={"email": staff.email, "password": f.PASSWORD})
    form = client.get(f"/staf/pesanan/{order.number}/pembayaran").get_data(as_text=True)
    return payment, re.search(r'name="key" type="hidden" value="([^"]+)"', form).group(1)


def start_card(client, order):
    response = client.post(f"/pesanan/{order.number}/bayar/kartu")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return db.session.scalar(select(Payment).where(Payment.order_id == order.id))



def test_a_card_payment_end_to_end_marks_the_order_paid_once(client, stripe_rig, placed):
    payment = start_card(client, placed)
    session = stripe_rig.checkout.sessions[payment.stripe_checkout_session_id]
    assert session["amount_total"] == 100_000 * 100 and session["currency"] == "idr"
    assert session["client_reference_id"] == placed.number

    stripe_rig.complete_checkout(payment.stripe_checkout_session_id)
    # The buyer comes back before the webhook: the page must not claim the money arrived.
    assert "Pembayaran tertunda" in text_of(client.get(f"/pesanan/{placed.number}/bayar/selesai"))

    event = stripe_rig.completed_event(payment.stripe_checkout_session_id)
    assert post_event(client, stripe_rig, event).status_code == 200
    assert post_event(client, stripe_rig, event).status_code == 200  # delivered twice

    db.session.expire_all()
    assert placed.status is OrderStatus.PAID
    assert paid_moves(placed) == 1
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.stripe_payment_intent_id.startswith("pi_") and payment.stripe_charge_id.startswith("ch_")
    assert payment.stripe_balance_transaction_id.startswith("txn_")
    assert (payment.amount, payment.fee, payment.net) == (100_000, 0, 100_000)
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 1
    assert "Pembayaran diterima" in text_of(client.get(f"/pesanan/{placed.number}/bayar/selesai"))


def test_a_retried_click_reuses_the_open_checkout_session(client, stripe_rig, placed):
    first = start_card(client, placed)
    client.post(f"/pesanan/{placed.number}/bayar/kartu")

    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert len(stripe_rig.checkout.sessions) == 1
    assert first.checkout_url.startswith(stripe_rig.api_base)


def test_forged_and_stale_webhooks_are_refused_and_change_nothing(client, stripe_rig, placed):
    payment = start_card(client, placed)
    stripe_rig.complete_checkout(payment.stripe_checkout_session_id)
    event = stripe_rig.completed_event(payment.stripe_checkout_session_id)

    forged = post_event(client, stripe_rig, event, secret="whsec_attacker")
    stale = post_event(client, stripe_rig, event, timestamp=int(utcnow().timestamp()) - 3600)
    unsigned = client.post("/stripe/webhook", json=event)

    assert (forged.status_code, stale.status_code, unsigned.status_code) == (400, 400, 400)
    db.session.expire_all()
    assert placed.status is OrderStatus.AWAITING_PAYMENT and paid_moves(placed) == 0
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_a_completion_whose_amount_differs_from_the_order_does_not_mark_it_paid(client, stripe_rig, placed):
    payment = start_card(client, placed)
    stripe_rig.checkout.sessions[payment.stripe_checkout_session_id]["amount_total"] = 1_000  # Rp10
    stripe_rig.complete_checkout(payment.stripe_checkout_session_id)

    post_event(client, stripe_rig, stripe_rig.completed_event(payment.stripe_checkout_session_id))

    db.session.expire_all()
    assert placed.status is OrderStatus.AWAITING_PAYMENT and paid_moves(placed) == 0
    assert payment.status is PaymentStatus.FAILED and "expected 100000" in payment.failure


def test_expiry_of_the_checkout_session_releases_the_stock(client, stripe_rig, placed):
    payment = start_card(client, placed)

    post_event(client, stripe_rig, stripe_rig.expired_event(payment.stripe_checkout_session_id))

    db.session.expire_all()
    assert placed.status is OrderStatus.CANCELLED
    assert db.session.scalar(select(Product.stock).where(Product.id == placed.lines[0].product_id)) == 10


def test_an_expiry_event_arriving_after_the_payment_leaves_the_order_paid(client, stripe_rig, placed):
    payment = start_card(client, placed)
    stripe_rig.complete_checkout(payment.stripe_checkout_session_id)
    completed = stripe_rig.completed_event(payment.stripe_checkout_session_id)
    expired = stripe_rig.expired_event(payment.stripe_checkout_session_id)

    post_event(client, stripe_rig, completed)
    post_event(client, stripe_rig, expired)

    db.session.expire_all()
    assert placed.status is OrderStatus.PAID and paid_moves(placed) == 1


def test_a_refund_event_arriving_before_the_completion_ends_refunded(client, stripe_rig, placed):
    payment = start_card(client, placed)
    stripe_rig.complete_checkout(payment.stripe_checkout_session_id)
    intent = stripe_rig.intent_of(payment.stripe_checkout_session_id)
    stripe_rig.client.v1.refunds.create(params={"payment_intent": intent, "amount": 100_000 * 100})
    refunded = stripe_rig.charge_refunded_event(intent)
    completed = stripe_rig.completed_event(payment.stripe_checkout_session_id)

    post_event(client, stripe_rig, refunded)
    post_event(client, stripe_rig, completed)

    db.session.expire_all()
    assert placed.status is OrderStatus.PAID and money_state(placed).state is MoneyState.REFUNDED
    assert payment.refunded == 100_000 and paid_moves(placed) == 1


def test_staff_refund_part_then_the_rest_through_stripe(client, stripe_rig, placed):
    payment, key = paid_by_card_with_staff_logged_in(client, stripe_rig, placed)
    line = f"qty-{placed.lines[0].id}"
    part = {"key": key, "amount": 30_000, "reason": "1 rusak", line: 1}  # a scratch: part of one bag's price
    client.post(f"/staf/pembayaran/{payment.id}/refund", data=part)
    client.post(f"/staf/pembayaran/{payment.id}/refund", data=part)
    db.session.expire_all()
    assert payment.refunded == 30_000 and money_state(placed).state is MoneyState.PARTLY_REFUNDED  # once
    assert placed.status is OrderStatus.PAID  # money went back; the goods did not move

    too_much = client.post(f"/staf/pembayaran/{payment.id}/refund",
                           data={"key": "another", "amount": 80_000, "reason": "x", line: 2, "shipping": "y"},
                           follow_redirects=True)
    assert "Paling banyak Rp70.000" in text_of(too_much)
    client.post(f"/staf/pembayaran/{payment.id}/refund",
                data={"key": "rest", "reason": "batal", line: 2, "shipping": "y"})

    db.session.expire_all()
    assert money_state(placed).state is MoneyState.REFUNDED and payment.refunded == 100_000
    assert [r.amount for r in payment.refunds] == [30_000, 70_000]
    charge = stripe_rig.client.v1.charges.retrieve(payment.stripe_charge_id)
    assert charge["amount_refunded"] == 100_000 * 100
    # Stripe then reports the refunds: already counted, nothing changes.
    post_event(client, stripe_rig, stripe_rig.charge_refunded_event(payment.stripe_payment_intent_id))
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 2


def test_money_arriving_after_the_order_expired_is_refunded_in_full(app, client, stripe_rig, placed):
    payment = start_card(client, placed)
    stripe_rig.complete_checkout(payment.stripe_checkout_session_id)
    app.config["FROZEN_NOW"] = utcnow() + timedelta(hours=2)

    post_event(client, stripe_rig, stripe_rig.completed_event(payment.stripe_checkout_session_id))

    db.session.expire_all()
    assert placed.status is OrderStatus.CANCELLED and paid_moves(placed) == 0
    assert payment.refunded == 100_000


def test_card_payment_is_not_offered_without_a_stripe_key_or_below_the_minimum(app, client, placed):
    page = text_of(client.get(f"/pesanan/{placed.number}/bayar"))
    assert "kartu" not in page.lower()  # without Stripe only bank transfer is offered (README)
    assert "Bayar dengan transfer bank" in page


def test_below_the_minimum_the_shop_refuses_before_calling_stripe(app, client, stripe_rig):
    item = f.product(price=1_000)
    order = f.order({item: 1})
    order.shipping_cost, order.total = 0, 1_000
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]

    response = client.post(f"/pesanan/{order.number}/bayar/kartu", follow_redirects=True)

    assert "Pembayaran kartu mulai dari Rp10.000" in text_of(response)
    assert stripe_rig.checkout.sessions == {}


def test_a_declined_card_is_noted_and_the_order_still_waits_for_payment(client, stripe_rig, placed):
    payment = start_card(client, placed)

    post_event(client, stripe_rig, stripe_rig.payment_failed_event(payment.stripe_checkout_session_id))

    db.session.expire_all()
    assert placed.status is OrderStatus.AWAITING_PAYMENT
    assert payment.status is PaymentStatus.PENDING and payment.failure == "Your card was declined."


def test_an_event_type_the_shop_does_not_handle_is_stored_and_ignored(client, stripe_rig):
    response = post_event(client, stripe_rig, stripe_rig.event("customer.created", {"id": "cus_1"}))
    assert response.status_code == 200 and response.get_data(as_text=True).strip() == "ignored"


def test_a_session_that_lapsed_at_stripe_is_replaced_by_a_new_one(client, stripe_rig, placed):
    first = start_card(client, placed)
    stripe_rig.checkout.sessions[first.stripe_checkout_session_id]["status"] = "expired"  # no webhook yet

    client.post(f"/pesanan/{placed.number}/bayar/kartu")

    db.session.expire_all()
    payments = db.session.scalars(select(Payment).order_by(Payment.id)).all()
    assert [p.status for p in payments] == [PaymentStatus.EXPIRED, PaymentStatus.PENDING]
    assert len(stripe_rig.checkout.sessions) == 2


@pytest.mark.parametrize("event", [
    [],  # a JSON array
    "evt_1",  # a string
    {"type": "checkout.session.completed", "data": {"object": {"id": "cs_1"}}},  # no id
    {"id": "evt_1", "type": "checkout.session.completed"},  # no data
    {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": "cs_1"}},  # object is a string
    {"id": "evt_" + "x" * 300, "type": "checkout.session.completed", "data": {"object": {"id": "cs_1"}}},
    {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {"id": ["cs_1"]}}},
    {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}},  # no session id to find
    {"id": "evt_1", "type": "payment_intent.payment_failed", "data": {"object": {"id": "pi_1", "metadata": 7}}},
])
def test_a_validly_signed_webhook_of_an_unexpected_shape_gets_400_and_writes_nothing(client, stripe_rig, event):
    body, headers = stripe_rig.signed(event) if isinstance(event, dict) else _signed_raw(stripe_rig, event)

    response = client.post("/stripe/webhook", data=body, headers=headers)

    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def _signed_raw(rig, value):
    import json

    import stripe

    from tests.payments.stripe_rig import WEBHOOK_SECRET

    payload = json.dumps(value)
    return payload.encode(), {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET), "Content-Type": "application/json"}


def _signed_text(payload: str) -> tuple[bytes, dict[str, str]]:
    import stripe

    from tests.payments.stripe_rig import WEBHOOK_SECRET

    return payload.encode(), {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET), "Content-Type": "application/json"}


def test_validly_signed_events_with_fields_of_the_wrong_type_change_nothing_and_never_fail(
        client, stripe_rig, placed):
    """Found by a fuzz over HTTP: lists and numbers where Stripe sends strings, amounts that are not whole
    rupiah, a body nested too deep to parse. Each is answered 200 (nothing to do) or 400, never 500."""
    payment = start_card(client, placed)
    failed = stripe_rig.payment_failed_event(payment.stripe_checkout_session_id)
    odd_number = stripe_rig.event("payment_intent.payment_failed", {**failed["data"]["object"],
                                                                     "metadata": {"order_number": ["a"]}})
    odd_message = stripe_rig.event("payment_intent.payment_failed", {
        **failed["data"]["object"], "last_payment_error": {"message": ["x"]}})
    refund_events = [stripe_rig.event("charge.refunded", {"id": "ch_x", "object": "charge", "payment_intent": value,
                                                          "amount_refunded": 100})
                     for value in ([], 10**20, {"id": 1})]
    for event in (odd_number, odd_message, *refund_events):
        assert post_event(client, stripe_rig, event).status_code == 200, event["data"]["object"]
    db.session.expire_all()
    assert payment.failure == "payment failed"  # noted, without the list

    stripe_rig.complete_checkout(payment.stripe_checkout_session_id)
    assert post_event(client, stripe_rig, stripe_rig.completed_event(payment.stripe_checkout_session_id)
                      ).status_code == 200
    db.session.expire_all()
    charge = stripe_rig.charge_refunded_event(payment.stripe_payment_intent_id)["data"]["object"]
    for amount in ("abc", 150, -100, True):
        event = stripe_rig.event("charge.refunded", {**charge, "amount_refunded": amount})
        assert post_event(client, stripe_rig, event).status_code == 400
    deep = client.post("/stripe/webhook", data=_signed_text("[" * 100_000)[0],
                       headers=_signed_text("[" * 100_000)[1])
    assert deep.status_code == 400
    db.session.expire_all()
    assert payment.refunded == 0 and db.session.scalar(select(func.count()).select_from(Refund)) == 0
