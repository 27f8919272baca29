"""The gateway over real HTTP against the local Stripe rig: amounts, idempotency, refunds, signatures."""

from __future__ import annotations

import time

import pytest

from shop.payments import stripe_gateway as gateway


def new_session(key: str = "order-KB-2026-000001-checkout-1", amount: int = 45_000) -> gateway.CheckoutSession:
    return gateway.create_checkout_session(
        order_number="KB-2026-000001", amount=amount, description="Karya Binaan KB-2026-000001",
        email="buyer@example.com", locale="id", success_url="http://shop.test/ok", cancel_url="http://shop.test/no",
        expires_at=int(time.time()) + 3600, idempotency_key=key, metadata={"order_number": "KB-2026-000001"})


def test_rupiah_are_sent_to_stripe_in_hundredths_and_read_back_whole():
    assert gateway.to_stripe_amount(45_000) == 4_500_000
    assert gateway.from_stripe_amount(4_500_000) == 45_000
    with pytest.raises(TypeError):
        gateway.to_stripe_amount(45_000.0)  # type: ignore[arg-type]
    with pytest.raises(gateway.GatewayError):
        gateway.from_stripe_amount(4_500_050)


def test_a_checkout_session_carries_the_order_total_in_idr(stripe_rig):
    session = new_session()

    stored = stripe_rig.checkout.sessions[session.id]
    assert stored["amount_total"] == 4_500_000 and stored["currency"] == "idr"
    assert stored["client_reference_id"] == "KB-2026-000001"
    assert session.amount == 45_000 and session.status == "open" and session.url


def test_a_retried_create_with_the_same_key_returns_the_same_session(stripe_rig):
    first = new_session(key="same-key")
    second = new_session(key="same-key")

    assert first.id == second.id
    assert len(stripe_rig.checkout.sessions) == 1


def test_a_paid_session_gives_payment_details_and_can_be_refunded_in_parts(stripe_rig):
    session = new_session()
    stripe_rig.complete_checkout(session.id)
    intent = stripe_rig.intent_of(session.id)

    details = gateway.payment_details(intent)
    assert (details.status, details.gross, details.net, details.currency) == ("succeeded", 45_000, 45_000, "idr")
    assert details.charge_id.startswith("ch_") and details.balance_transaction_id.startswith("txn_")

    partial = gateway.refund(payment_intent_id=intent, amount=10_000, idempotency_key="refund-1")
    rest = gateway.refund(payment_intent_id=intent, amount=35_000, idempotency_key="refund-2")
    assert (partial.amount, rest.amount) == (10_000, 35_000)
    charge = stripe_rig.client.v1.charges.retrieve(details.charge_id)
    assert charge["amount_refunded"] == 4_500_000 and charge["refunded"] is True


def test_expiring_a_session_twice_is_refused_the_second_time(stripe_rig):
    session = new_session()
    assert gateway.expire_checkout_session(session.id).status == "expired"
    with pytest.raises(gateway.GatewayError):
        gateway.expire_checkout_session(session.id)


def test_webhook_signatures_are_verified(stripe_rig):
    event = stripe_rig.event("checkout.session.completed", {"id": "cs_test_x", "object": "checkout.session"})
    body, headers = stripe_rig.signed(event)
    assert gateway.parse_webhook(body, headers["Stripe-Signature"])["id"] == event["id"]

    forged_body, forged = stripe_rig.signed(event, secret="whsec_someone_else")
    with pytest.raises(gateway.InvalidWebhook):
        gateway.parse_webhook(forged_body, forged["Stripe-Signature"])
    with pytest.raises(gateway.InvalidWebhook):
        gateway.parse_webhook(body.replace(b"cs_test_x", b"cs_test_y"), headers["Stripe-Signature"])
    stale_body, stale = stripe_rig.signed(event, timestamp=int(time.time()) - 3600)
    with pytest.raises(gateway.InvalidWebhook):
        gateway.parse_webhook(stale_body, stale["Stripe-Signature"])
    with pytest.raises(gateway.InvalidWebhook):
        gateway.parse_webhook(body, None)


def test_without_a_key_card_payment_is_simply_not_configured(app):
    assert gateway.is_configured() is False
    with pytest.raises(gateway.GatewayError):
        new_session()
