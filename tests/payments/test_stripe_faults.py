"""Stripe failing (a 500, or no answer within STRIPE_TIMEOUT) when a buyer starts paying by card and when
staff refund: the person gets a clear message, nothing is half-recorded, and it works once Stripe is back."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from shop.extensions import db
from shop.ledger.models import LedgerEntry
from shop.orders.models import OrderStatus
from shop.payments.models import Payment, PaymentStatus, Refund
from tests.helpers import text_of
from tests.invariants import assert_nothing_lost
from tests.ledger.factories import rule
from tests.payments.broken_stripe import BrokenStripe
from tests.payments.test_card_payments import (  # noqa: F401 (placed: the fixture)
    paid_by_card_with_staff_logged_in,
    placed,
    start_card,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture(autouse=True)
def _split_rule():
    """A rule in force, so `ledger verify` has allocated money to check."""
    rule()
    db.session.commit()


@pytest.mark.parametrize("mode", ["500", "timeout"])
def test_a_broken_stripe_at_checkout_gives_the_buyer_a_clear_message_and_writes_nothing(
        app, client, stripe_rig, placed, mode):  # noqa: F811 (placed: the fixture imported above)
    product_id = placed.lines[0].product_id
    app.config["STRIPE_TIMEOUT"] = 1
    with BrokenStripe(mode, delay=20) as broken:
        app.config["STRIPE_API_BASE"] = broken.api_base
        started = time.monotonic()
        page = client.post(f"/pesanan/{placed.number}/bayar/kartu", follow_redirects=True)
        assert time.monotonic() - started < 10  # STRIPE_TIMEOUT (1 s here), not Stripe's own 80 s
        assert broken.calls  # the shop did try Stripe

    assert page.status_code == 200
    assert "Pembayaran kartu sedang tidak dapat dipakai" in text_of(page)
    assert "transfer bank" in text_of(page)  # the other way to pay is offered
    db.session.expire_all()
    assert count(Payment) == 0
    assert placed.status is OrderStatus.AWAITING_PAYMENT  # the order keeps its stock and its deadline
    assert_nothing_lost({product_id: 10})

    app.config["STRIPE_API_BASE"] = stripe_rig.api_base  # Stripe is back: the same button works
    payment = start_card(client, placed)
    assert payment.status is PaymentStatus.PENDING and payment.checkout_url


@pytest.mark.parametrize("mode", ["500", "timeout"])
def test_a_broken_stripe_at_refund_records_no_refund_and_the_retry_refunds_once(
        app, client, stripe_rig, placed, mode):  # noqa: F811 (placed: the fixture imported above)
    product_id = placed.lines[0].product_id
    payment, key = paid_by_card_with_staff_logged_in(client, stripe_rig, placed)
    entries_before = count(LedgerEntry)
    refund = {"key": key, "amount": 30_000, "reason": "1 rusak", f"qty-{placed.lines[0].id}": 1}

    app.config["STRIPE_TIMEOUT"] = 1
    with BrokenStripe(mode, delay=20) as broken:
        app.config["STRIPE_API_BASE"] = broken.api_base
        started = time.monotonic()
        page = client.post(f"/staf/pembayaran/{payment.id}/refund", data=refund, follow_redirects=True)
        assert time.monotonic() - started < 10

    assert "Stripe tidak menerima pengembalian dana; tidak ada yang dicatat" in text_of(page)
    db.session.expire_all()
    assert count(Refund) == 0 and payment.refunded == 0
    assert count(LedgerEntry) == entries_before
    assert_nothing_lost({product_id: 10})

    app.config["STRIPE_API_BASE"] = stripe_rig.api_base
    client.post(f"/staf/pembayaran/{payment.id}/refund", data=refund)
    db.session.expire_all()
    assert count(Refund) == 1 and payment.refunded == 30_000
    assert_nothing_lost({product_id: 10})
