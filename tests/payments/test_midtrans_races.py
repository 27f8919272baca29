"""Midtrans notifications under concurrency (#25.3), with threads, on SQLite and on PostgreSQL (scripts/test runs
both): the same notification many times at once, notifications racing the order's own expiry, a staff
confirmation of a bank transfer, and a card payment for the same order. Each request goes through a test client of
its own, as to separate workers; the stand-in answers the status API over HTTP."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.orders.service import expire_overdue_orders
from shop.payments.models import Payment, PaymentMethod, PaymentStatus
from shop.payments.service import MoneyState, money_state
from shop.timeutil import utcnow
from tests import factories as f
from tests.helpers import at_once, buyer_client, logged_in
from tests.ledger.factories import rule
from tests.payments.test_races import paid_moves, sale_sets

ROUNDS = 3


def paid_at_midtrans(app, midtrans, channel="other_qris"):
    """An order whose buyer paid at Midtrans; no notification delivered yet."""
    order = f.order({f.product(price=45_000, stock=10): 2})
    db.session.commit()
    browser = buyer_client(app, order.number)
    assert browser.post(f"/pesanan/{order.number}/bayar/online", data={"channel": channel}).status_code == 303
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id,
                                                      Payment.method == PaymentMethod.MIDTRANS))
    midtrans.choose(payment.provider_ref, channel)
    midtrans.pay(payment.provider_ref)
    return order, payment, browser


def notify(app, body):
    return app.test_client().post("/midtrans/notification", json=body)


def test_one_settlement_delivered_five_times_at_once_pays_and_books_once(app, midtrans):
    rule()
    midtrans.auto_notify = False
    for _ in range(ROUNDS):
        order, payment, _browser = paid_at_midtrans(app, midtrans)
        body = midtrans.body(payment.provider_ref)

        answers = at_once(*[lambda body=body: notify(app, body) for _ in range(5)])

        assert [a.status_code for a in answers] == [200] * 5
        assert sorted(a.get_data(as_text=True).strip() for a in answers) == ["already paid"] * 4 + ["paid"]
        db.session.expire_all()
        assert order.status is OrderStatus.PAID and paid_moves(order) == 1 and sale_sets(order) == len(order.lines)
        assert (payment.status, payment.refunded) == (PaymentStatus.SUCCEEDED, 0)


def test_a_settlement_racing_the_orders_expiry_either_pays_it_or_gives_the_money_back(app, midtrans):
    rule()
    midtrans.auto_notify = False
    for _ in range(ROUNDS):
        order, payment, _browser = paid_at_midtrans(app, midtrans)
        body = midtrans.body(payment.provider_ref)
        db.session.get_one(Order, order.id).expires_at = utcnow() - timedelta(seconds=1)  # due now
        db.session.commit()

        def expire() -> list[str]:
            with app.app_context():  # as the expiry job does, in a context and session of its own
                done = expire_overdue_orders()
                db.session.commit()
                return done

        at_once(expire, lambda body=body: notify(app, body))

        db.session.expire_all()
        assert payment.status is PaymentStatus.SUCCEEDED
        if order.status is OrderStatus.PAID:  # the money came first
            assert paid_moves(order) == 1 and payment.refunded == 0 and sale_sets(order) == len(order.lines)
        else:  # the expiry came first: QRIS money goes back online, in full, and nothing is booked as a sale
            assert order.status is OrderStatus.CANCELLED and payment.refunded == payment.amount
            assert sale_sets(order) == 0


def test_staff_confirming_a_transfer_while_midtrans_notifies_counts_one_payment_and_refunds_the_other(app,
                                                                                                       midtrans):
    rule()
    staff = logged_in(app, "fulfilment")
    midtrans.auto_notify = False
    for _ in range(ROUNDS):
        order, online_payment, browser = paid_at_midtrans(app, midtrans)
        browser.post(f"/pesanan/{order.number}/bayar/transfer")
        browser.post(f"/pesanan/{order.number}/bayar/transfer/bukti", content_type="multipart/form-data",
                     data={"receipt": (io.BytesIO(f.PDF), "bukti.pdf")})
        transfer = db.session.scalar(select(Payment).where(Payment.order_id == order.id,
                                                           Payment.method == PaymentMethod.BANK_TRANSFER))
        body = midtrans.body(online_payment.provider_ref)

        at_once(lambda url=f"/staf/pembayaran/{transfer.id}/konfirmasi": staff.post(url, data={"reference": "BRI 7"}),
                lambda body=body: notify(app, body))

        db.session.expire_all()
        assert order.status is OrderStatus.PAID and paid_moves(order) == 1 and sale_sets(order) == len(order.lines)
        money = money_state(order)
        assert money.state is MoneyState.PAID and money.paid == order.total
        payments = {p.method: p for p in (online_payment, transfer)}
        second = [p for p in payments.values() if p.status is PaymentStatus.SUCCEEDED and p.duplicate]
        unconfirmed = [p for p in payments.values() if p.status is not PaymentStatus.SUCCEEDED]
        # Either the notification came second (its money is a duplicate, refunded online in full), or the staff's
        # confirmation did (refused: the order was no longer waiting, the transfer stays unconfirmed).
        assert (len(second), len(unconfirmed)) in ((1, 0), (0, 1))
        for duplicate in second:
            assert duplicate.method is PaymentMethod.MIDTRANS and duplicate.refunded == duplicate.amount


def test_a_card_payment_and_a_midtrans_settlement_for_one_order_count_once(app, midtrans, stripe_rig):
    rule()
    midtrans.auto_notify = False
    for _ in range(ROUNDS):
        order, online_payment, browser = paid_at_midtrans(app, midtrans)
        assert browser.post(f"/pesanan/{order.number}/bayar/kartu").status_code == 303
        card = db.session.scalar(select(Payment).where(Payment.order_id == order.id,
                                                       Payment.method == PaymentMethod.CARD))
        stripe_rig.complete_checkout(card.stripe_checkout_session_id)
        completed = stripe_rig.completed_event(card.stripe_checkout_session_id)
        stripe_body, stripe_headers = stripe_rig.signed(completed)
        body = midtrans.body(online_payment.provider_ref)

        at_once(lambda data=stripe_body, headers=stripe_headers: app.test_client().post(
                    "/stripe/webhook", data=data, headers=headers),
                lambda body=body: notify(app, body))

        db.session.expire_all()
        assert order.status is OrderStatus.PAID and paid_moves(order) == 1 and sale_sets(order) == len(order.lines)
        both = [card, online_payment]
        assert all(p.status is PaymentStatus.SUCCEEDED for p in both)
        assert sorted(p.duplicate for p in both) == [False, True]
        assert [p.refunded for p in both if p.duplicate] == [order.total]
        assert money_state(order).state is MoneyState.PAID


def test_a_pending_and_a_settlement_notification_arriving_together_pay_once(app, midtrans):
    """Out of order and at once: the pending one (sent when the buyer chose the method) and the settlement; both ask
    the status API, which says settlement, so the order is paid once whichever is applied first."""
    rule()
    midtrans.auto_notify = False
    for _ in range(ROUNDS):
        order = f.order({f.product(price=45_000, stock=10): 2})
        db.session.commit()
        browser = buyer_client(app, order.number)
        browser.post(f"/pesanan/{order.number}/bayar/online", data={"channel": "bri_va"})
        payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id))
        midtrans.choose(payment.provider_ref, "bri_va")
        pending = midtrans.body(payment.provider_ref)
        midtrans.pay(payment.provider_ref)
        settled = midtrans.body(payment.provider_ref)

        answers = at_once(lambda body=settled: notify(app, body), lambda body=pending: notify(app, body))

        assert [a.status_code for a in answers] == [200, 200]
        db.session.expire_all()
        assert order.status is OrderStatus.PAID and paid_moves(order) == 1 and sale_sets(order) == len(order.lines)
        assert payment.status is PaymentStatus.SUCCEEDED and payment.pay_code.startswith("8808")
