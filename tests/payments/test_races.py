"""Payments under concurrency: simultaneous Stripe events, staff and webhook at once, double clicks, and a
webhook whose handling fails. Each runs with threads on SQLite and on PostgreSQL (scripts/test runs both);
every request goes through the test client with its own session and connection, as on a server."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from shop.extensions import db
from shop.ledger.models import EntryKind, LedgerEntry, Part
from shop.orders.models import OrderEvent, OrderStatus
from shop.payments.models import Payment, PaymentMethod, PaymentStatus, StripeEvent
from shop.payments.service import MoneyState, money_state
from tests import factories as f
from tests.helpers import at_once, buyer_client, logged_in

PDF = f.PDF
ROUNDS = 4


def paid_moves(order) -> int:
    return db.session.scalar(select(func.count()).select_from(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.to_status == OrderStatus.PAID))


def sale_sets(order) -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.order_id == order.id, LedgerEntry.kind == EntryKind.SALE, LedgerEntry.part == Part.GROSS))


def post_event(app, rig, event):
    body, headers = rig.signed(event)
    return app.test_client().post("/stripe/webhook", data=body, headers=headers)


def order_with_card_paid_at_stripe(app, rig):
    """An order whose buyer paid on Stripe's page; the completion event is not delivered yet."""
    order = f.order({f.product(price=45_000, stock=10): 2})
    db.session.commit()
    browser = buyer_client(app, order.number)
    assert browser.post(f"/pesanan/{order.number}/bayar/kartu").status_code == 303
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id,
                                                      Payment.method == PaymentMethod.CARD))
    rig.complete_checkout(payment.stripe_checkout_session_id)
    return order, payment, browser


def test_completed_and_async_succeeded_arriving_together_pay_the_order_once_and_refund_nothing(app, stripe_rig):
    for _ in range(ROUNDS):
        order, payment, _browser = order_with_card_paid_at_stripe(app, stripe_rig)
        completed = stripe_rig.completed_event(payment.stripe_checkout_session_id)
        succeeded = stripe_rig.event("checkout.session.async_payment_succeeded", completed["data"]["object"])

        answers = at_once(*[lambda e=e: post_event(app, stripe_rig, e) for e in (completed, succeeded)])

        assert [a.status_code for a in answers] == [200, 200]
        assert sorted(a.get_data(as_text=True).strip() for a in answers) == ["already paid", "paid"]
        db.session.expire_all()
        assert order.status is OrderStatus.PAID and paid_moves(order) == 1
        assert (payment.status, payment.refunded, payment.refunds) == (PaymentStatus.SUCCEEDED, 0, [])
        assert money_state(order).state is MoneyState.PAID
        assert sale_sets(order) == len(order.lines)  # booked in the ledger once


def test_staff_confirming_a_transfer_while_the_card_webhook_arrives_counts_one_payment(app, stripe_rig):
    staff = logged_in(app, "fulfilment")
    for _ in range(ROUNDS):
        order, card, browser = order_with_card_paid_at_stripe(app, stripe_rig)
        browser.post(f"/pesanan/{order.number}/bayar/transfer")
        browser.post(f"/pesanan/{order.number}/bayar/transfer/bukti", content_type="multipart/form-data",
                     data={"receipt": (io.BytesIO(PDF), "bukti.pdf")})
        transfer = db.session.scalar(select(Payment).where(Payment.order_id == order.id,
                                                           Payment.method == PaymentMethod.BANK_TRANSFER))
        completed = stripe_rig.completed_event(card.stripe_checkout_session_id)

        confirm_url = f"/staf/pembayaran/{transfer.id}/konfirmasi"
        at_once(lambda url=confirm_url: staff.post(url, data={"reference": "BRI 7"}),
                lambda event=completed: post_event(app, stripe_rig, event))

        db.session.expire_all()
        assert order.status is OrderStatus.PAID and paid_moves(order) == 1 and sale_sets(order) == 1
        counted = [p for p in (card, transfer) if p.status is PaymentStatus.SUCCEEDED and not p.duplicate]
        assert len(counted) == 1
        money = money_state(order)
        assert (money.state, money.kept) == (MoneyState.PAID, order.total)
        if counted[0] is transfer:  # the transfer won: the card money was a second payment, given back
            assert card.duplicate and card.refunded == card.amount
        else:  # the card won: the transfer was not confirmed and waits for staff to return it
            assert transfer.status is PaymentStatus.SUBMITTED


def test_card_money_after_a_confirmed_transfer_is_refunded_and_the_order_stays_paid(app, stripe_rig):
    order, card, browser = order_with_card_paid_at_stripe(app, stripe_rig)
    browser.post(f"/pesanan/{order.number}/bayar/transfer")
    transfer = db.session.scalar(select(Payment).where(Payment.method == PaymentMethod.BANK_TRANSFER))
    staff = logged_in(app, "fulfilment")
    staff.post(f"/staf/pembayaran/{transfer.id}/konfirmasi", data={"reference": "BRI 8"})

    answer = post_event(app, stripe_rig, stripe_rig.completed_event(card.stripe_checkout_session_id))

    assert answer.get_data(as_text=True).strip() == "refunded: order already paid"
    db.session.expire_all()
    money = money_state(order)
    assert order.status is OrderStatus.PAID
    assert (money.state, money.paid, money.refunded) == (MoneyState.PAID, order.total, 0)
    assert (money.duplicate_paid, money.duplicate_outstanding) == (order.total, 0)
    assert card.duplicate and card.refunded == card.amount
    screen = staff.get(f"/staf/pesanan/{order.number}/pembayaran").get_data(as_text=True)
    assert "Pembayaran ganda" in screen


def test_four_clicks_at_once_on_the_card_button_open_one_checkout_session(app, stripe_rig):
    order = f.order({f.product(price=45_000): 1})
    db.session.commit()
    browsers = [buyer_client(app, order.number) for _ in range(4)]

    answers = at_once(*[lambda b=b: b.post(f"/pesanan/{order.number}/bayar/kartu") for b in browsers])

    assert [a.status_code for a in answers] == [303] * 4
    payments = db.session.scalars(select(Payment).where(Payment.order_id == order.id)).all()
    assert len(payments) == 1
    assert {a.headers["Location"] for a in answers} == {payments[0].checkout_url}


def test_four_clicks_at_once_on_the_transfer_button_open_one_pending_transfer(app):
    order = f.order({f.product(price=45_000): 1})
    db.session.commit()
    browsers = [buyer_client(app, order.number) for _ in range(4)]

    answers = at_once(*[lambda b=b: b.post(f"/pesanan/{order.number}/bayar/transfer") for b in browsers])

    assert [a.status_code for a in answers] == [302] * 4
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_a_webhook_that_fails_while_stripe_is_away_is_handled_afresh_on_the_retry(app, stripe_rig):
    order, payment, _browser = order_with_card_paid_at_stripe(app, stripe_rig)
    completed = stripe_rig.completed_event(payment.stripe_checkout_session_id)
    reachable = app.config["STRIPE_API_BASE"]
    app.config.update(STRIPE_API_BASE="http://127.0.0.1:9", PROPAGATE_EXCEPTIONS=False)  # nothing listens there
    try:
        failed = post_event(app, stripe_rig, completed)
    finally:
        app.config.update(STRIPE_API_BASE=reachable, PROPAGATE_EXCEPTIONS=None)

    assert failed.status_code == 500
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0
    retried = post_event(app, stripe_rig, completed)  # Stripe delivers it again later
    assert retried.get_data(as_text=True).strip() == "paid"
    db.session.expire_all()
    assert order.status is OrderStatus.PAID and paid_moves(order) == 1
