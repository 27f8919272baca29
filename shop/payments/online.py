"""Paying online the way Indonesia pays (QRIS, GoPay, ShopeePay, virtual accounts, Indomaret/Alfamart) through
Midtrans Snap: start an attempt, apply what Midtrans's status API says (after a notification, a buyer's return, a
staff check or the scheduled sync), expire attempts of orders the shop cancelled.

Rules only; `midtrans_gateway` is the one module that speaks Midtrans. Functions flush, never commit. No lock is
held over a call to Midtrans that only reads: the status is read first, then the order is locked and the payment
re-read, and the status is applied to the payment as it is then, so notifications delivered twice, at once or out
of order, the order's own expiry and a staff confirmation take turns and each changes something at most once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from shop.extensions import db
from shop.orders import service as orders
from shop.orders.models import EventCode, Order, OrderStatus
from shop.payments import midtrans_gateway as gateway
from shop.payments import providers, service
from shop.payments.models import CHANNEL_LABELS, Payment, PaymentMethod, PaymentStatus
from shop.timeutil import aware, utcnow

log = logging.getLogger(__name__)


class InvalidNotification(Exception):
    """A notification whose signature does not verify, or that is not a notification at all."""


@dataclass(frozen=True)
class Channel:
    """A way to pay offered to the buyer: its Snap name, its name as people know it, and how long it stays open."""

    name: str
    label: str
    later: bool  # paid later at a bank or a counter (kept open as long as a bank transfer), not at once in an app

    @property
    def hours(self) -> int:
        return int(current_app.config["BANK_TRANSFER_HOURS"]) if self.later else 0


def available(order: Order) -> bool:
    return gateway.is_configured() and order.total > 0 and bool(gateway.enabled_channels())


def channels() -> list[Channel]:
    return [Channel(name, str(CHANNEL_LABELS[name]), bool(gateway.CHANNELS[name]["later"]))
            for name in gateway.enabled_channels()]


def open_payment(order: Order) -> Payment | None:
    return db.session.scalar(select(Payment).where(
        Payment.order_id == order.id, Payment.method == PaymentMethod.MIDTRANS,
        Payment.status == PaymentStatus.PENDING).order_by(Payment.id.desc()))


def _snap_request(order: Order, reference: str, channel: str, finish_url: str) -> dict[str, Any]:
    """What Snap is asked for: the exact total, items that sum to it (lines, then each parcel's shipping), the
    buyer, the one way to pay chosen here, an expiry at the end of the order's hold, and the way back."""
    items: list[dict[str, Any]] = [
        {"id": f"L{line.id}", "price": line.unit_price, "quantity": line.quantity, "name": line.name[:50]}
        for line in order.lines]
    items += [{"id": f"S{parcel.id}", "price": parcel.shipping_cost, "quantity": 1,
               "name": f"Ongkir {parcel.facility_name}"[:50]} for parcel in order.parcels if parcel.shipping_cost]
    if sum(item["price"] * item["quantity"] for item in items) != order.total:  # orders.total_adds_up holds it
        raise service.PaymentError("item_details do not add up to the total")
    now = utcnow()
    minutes = max(1, int((aware(order.expires_at) - now).total_seconds() // 60)) if order.expires_at else 60
    address = {"first_name": order.name[:50], "phone": order.phone, "address": order.street[:200],
               "city": order.city[:100], "postal_code": order.postal_code, "country_code": "IDN"}
    return {
        "transaction_details": {"order_id": reference, "gross_amount": order.total},
        "item_details": items,
        "customer_details": {"first_name": order.name[:50], "email": order.email, "phone": order.phone,
                             "shipping_address": address},
        "enabled_payments": [channel],
        "expiry": {"start_time": now.astimezone(gateway.WIB).strftime("%Y-%m-%d %H:%M:%S +0700"),
                   "unit": "minute", "duration": minutes},
        "callbacks": {"finish": finish_url},
    }


def start(order: Order, channel: str, *, finish_url: str) -> Payment:
    """The buyer's attempt to pay `channel` (a Snap name): the open one when it is the same, else a new attempt with
    an order_id of its own (Midtrans refuses an order_id twice), after the open one is expired at Midtrans.
    A way to pay later at a bank or counter keeps the order's goods as long as a bank transfer does."""
    if not available(order):  # no server key: the option is not offered, and not taken either
        raise service.PaymentError("channel")
    orders.lock_order(order)
    service.payable(order)
    offered = {item.name: item for item in channels()}
    if channel not in offered:
        raise service.PaymentError("channel")
    current = open_payment(order)
    if current is not None and current.channel == channel and current.amount == order.total:
        return current
    if current is not None:
        _give_up(current, "another way to pay was chosen")
        if current.status is PaymentStatus.SUCCEEDED:  # paid in the meantime
            raise service.NotPayable(order.status.label)
    if offered[channel].later:
        orders.extend_payment_deadline(order, hours=offered[channel].hours)
    attempt = (db.session.scalar(select(func.count(Payment.id)).where(
        Payment.order_id == order.id, Payment.method == PaymentMethod.MIDTRANS)) or 0) + 1
    reference = f"{order.number}-M{attempt}"
    snap = gateway.create_snap(_snap_request(order, reference, channel, finish_url))
    payment = Payment(order=order, method=PaymentMethod.MIDTRANS, amount=order.total, provider_ref=reference,
                      channel=channel, checkout_url=snap.redirect_url, pay_deadline=order.expires_at)
    db.session.add(payment)
    db.session.flush()
    return payment


def _give_up(payment: Payment, why: str) -> None:
    """Expire an open attempt at Midtrans and here. If Midtrans will not (it was paid meanwhile), apply what it says."""
    try:
        providers.of(payment).expire(payment)
    except gateway.NotAllowed:
        apply_status(payment, gateway.status(payment.provider_ref or ""))
        if payment.status is not PaymentStatus.PENDING:
            return
    payment.status = PaymentStatus.EXPIRED
    payment.failure = why


def apply_status(payment: Payment, status: gateway.Status) -> str:
    """Apply what Midtrans's status API answered; the caller holds the order's lock. Returns what happened."""
    if status.order_id != payment.provider_ref:
        raise gateway.GatewayError(f"status of {status.order_id} read for {payment.provider_ref}")
    payment.provider_status = status.status[:30]
    payment.provider_transaction_id = status.transaction_id[:64] or payment.provider_transaction_id
    payment.pay_type = status.payment_type[:30] or payment.pay_type
    if status.pay_code:
        payment.pay_code, payment.pay_bank = status.pay_code, status.bank
    if status.qr_string:
        payment.pay_qr = status.qr_string
    if status.expires_at is not None and payment.status is PaymentStatus.PENDING:
        payment.pay_deadline = status.expires_at
    if status.paid or status.status in ("refund", "partial_refund"):
        # A refund status means the money came first: settle it (once), then count the refunds.
        outcome = service.settle(
            payment, gross=status.gross, currency=status.currency,
            fee=gateway.fee(status.payment_type, status.gross), code=EventCode.PAID_ONLINE,
            params={"channel": payment.channel}, refunded=status.refunded, refund_source=payment.provider_ref or "")
        if outcome == "already paid" and status.refunded:
            return "refund recorded" if service.sync_refunds(payment, status.refunded, payment.provider_ref or "") \
                else "already paid"
        return outcome
    if status.failed:
        if payment.status is not PaymentStatus.PENDING:
            return f"ignored: payment {payment.status.value}"
        payment.status = PaymentStatus.EXPIRED if status.status == "expire" else PaymentStatus.FAILED
        payment.failure = f"Midtrans: {status.status}"
        return f"payment {status.status}"
    if payment.status is PaymentStatus.PENDING:
        return "waiting"  # pending (or a card challenged by fraud detection): the buyer's code is on the order page
    return f"ignored: {status.status} after {payment.status.value}"  # e.g. pending arriving after settlement


def handle_notification(body: Any) -> str:
    """A notification from Midtrans: its signature is checked, then only the status API is believed (a forged or
    replayed body can never pay an order). An order_id the shop does not know is answered and logged."""
    if not isinstance(body, dict) or not gateway.signature_ok(body):
        raise InvalidNotification("signature")
    reference = body["order_id"]
    payment = db.session.scalar(select(Payment).where(Payment.provider_ref == reference))
    if payment is None:
        log.warning("Midtrans notification for an unknown order_id %r", reference[:80])
        return "unknown order"
    return check(payment)


def check(payment: Payment) -> str:
    """Read the payment's status from Midtrans and apply it (a notification, a buyer back from Snap, staff asking,
    the scheduled sync)."""
    try:
        status = gateway.status(payment.provider_ref or "")
    except gateway.NotFound:
        return "not started at Midtrans yet"
    service.lock(payment)
    return apply_status(payment, status)


def due_for_sync(now: datetime | None = None) -> list[int]:
    """Attempts still open after two minutes (a notification may have been missed), and open attempts of orders
    the shop no longer waits for (cancelled, expired, or paid another way), oldest first."""
    now = now or utcnow()
    return list(db.session.scalars(select(Payment.id).join(Order).where(
        Payment.method == PaymentMethod.MIDTRANS, Payment.status == PaymentStatus.PENDING,
        (Payment.created_at <= now - timedelta(minutes=2)) | (Order.status != OrderStatus.AWAITING_PAYMENT))
        .order_by(Payment.id).limit(200)))


def sync(payment: Payment) -> str:
    """One open attempt: what Midtrans says is applied; if the order no longer waits for it, it is expired there."""
    outcome = check(payment)
    if payment.status is PaymentStatus.PENDING and payment.order.status is not OrderStatus.AWAITING_PAYMENT:
        _give_up(payment, "the order no longer waits for this payment")
        outcome = f"{outcome}; expired at Midtrans"
    return outcome
