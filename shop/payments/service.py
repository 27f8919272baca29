"""Payment rules: start a card or bank-transfer payment, apply Stripe events once, confirm, reject, refund.

Functions flush, never commit; Stripe calls that must follow a commit are returned to the caller as
`AfterCommit` callables where the order of work matters (a view commits, then runs them).
"""

from __future__ import annotations

import enum
import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shop import metrics
from shop.accounts.models import Actor
from shop.audit.service import record
from shop.extensions import db
from shop.money import allocate
from shop.orders import mail as order_mail
from shop.orders import service as orders
from shop.orders.models import HOLDS_GOODS, EventCode, Order, OrderLine, OrderStatus
from shop.payments import providers
from shop.payments import stripe_gateway as gateway
from shop.payments.models import Payment, PaymentMethod, PaymentStatus, Refund, RefundLine, StripeEvent
from shop.timeutil import aware, utcnow

CURRENCY = "idr"  # every payment is in whole rupiah, whoever takes it

# Who books a refund's reversal: the revenue-split ledger (a layer above), registered by create_app.
RefundBooker = Callable[[Refund], object]
_REFUND_BOOKERS: list[RefundBooker] = []


def on_refund(booker: RefundBooker) -> None:
    """Register what books a refund in the ledger (idempotent: create_app runs often in tests)."""
    if booker not in _REFUND_BOOKERS:
        _REFUND_BOOKERS.append(booker)


def _book_refund(item: Refund) -> None:
    """In the refund's own transaction: money given back without its reversal in the ledger is never committed."""
    if not _REFUND_BOOKERS:
        raise RuntimeError("no ledger is registered to book the refund (create_app wires it: payments.on_refund)")
    for booker in _REFUND_BOOKERS:
        booker(item)


class PaymentError(Exception):
    """A payment request the rules refuse; the message is shown to the user."""


class AmountBelowMinimum(PaymentError):
    pass


class AmountAboveCardLimit(PaymentError):
    pass


class NotPayable(PaymentError):
    pass


class RefundTooLarge(PaymentError):
    pass


class MalformedEvent(PaymentError):
    """A signed event whose object lacks what its type always carries: refused, nothing of it kept."""


class DuplicateEvent(PaymentError):
    """This Stripe event id was handled already (or is being handled by another request right now)."""


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    outcome: str
    duplicate: bool = False


class MoneyState(enum.StrEnum):
    """Where an order's money is, derived from its payment and refund rows (never stored on the order)."""

    UNPAID = "unpaid"
    PAID = "paid"
    PARTLY_REFUNDED = "partly_refunded"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return str(MONEY_LABELS[self])


MONEY_LABELS = {MoneyState.UNPAID: _l("not paid"), MoneyState.PAID: _l("paid"),
                MoneyState.PARTLY_REFUNDED: _l("partly refunded"), MoneyState.REFUNDED: _l("refunded")}


@dataclass(frozen=True)
class Money:
    """An order's money: what was paid and refunded (duplicates apart), and any second payment."""

    state: MoneyState
    paid: int = 0
    refunded: int = 0
    duplicate_paid: int = 0  # a second payment for an order already paid
    duplicate_refunded: int = 0

    @property
    def kept(self) -> int:
        return self.paid - self.refunded

    @property
    def duplicate_outstanding(self) -> int:
        """Money of a second payment not yet given back (a bank transfer staff must return by hand)."""
        return self.duplicate_paid - self.duplicate_refunded


def money_of(payments: list[Payment]) -> Money:
    counted = [p for p in payments if p.status is PaymentStatus.SUCCEEDED and not p.duplicate]
    doubles = [p for p in payments if p.status is PaymentStatus.SUCCEEDED and p.duplicate]
    paid, refunded = sum(p.amount for p in counted), sum(p.refunded for p in counted)
    if not paid:
        state = MoneyState.UNPAID
    elif not refunded:
        state = MoneyState.PAID
    elif refunded < paid:
        state = MoneyState.PARTLY_REFUNDED
    else:
        state = MoneyState.REFUNDED
    return Money(state, paid, refunded, sum(p.amount for p in doubles), sum(p.refunded for p in doubles))


def money_state(order: Order) -> Money:
    return money_of(order_payments(order))


# -- starting a payment

def card_limits() -> tuple[int, int]:
    config = current_app.config
    return config["STRIPE_MIN_AMOUNT"], config["STRIPE_MAX_AMOUNT"]


def card_available(order: Order) -> bool:
    low, high = card_limits()
    return gateway.is_configured() and low <= order.total <= high


def payable(order: Order) -> None:
    orders.expire_if_due(order)
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        raise NotPayable(order.status.label)


def start_card_payment(order: Order, *, success_url: str, cancel_url: str, locale: str) -> Payment:
    """The open Checkout Session of this order, created once; a retried or double click gets the same one.

    The order's lock is held while the session is created, so simultaneous clicks wait for the first and
    then find its session (the partial unique index on open payments is the database's own guard)."""
    orders.lock_order(order)
    payable(order)
    low, high = card_limits()
    if order.total < low:
        raise AmountBelowMinimum(str(low))
    if order.total > high:
        raise AmountAboveCardLimit(str(high))
    current = db.session.scalar(select(Payment).where(
        Payment.order_id == order.id, Payment.method == PaymentMethod.CARD,
        Payment.status == PaymentStatus.PENDING, Payment.amount == order.total))
    if current is not None and current.stripe_checkout_session_id:
        if gateway.retrieve_checkout_session(current.stripe_checkout_session_id).status == "open":
            return current
        current.status = PaymentStatus.EXPIRED  # lapsed at Stripe before its webhook reached us
    attempt = (db.session.scalar(select(db.func.count()).select_from(Payment).where(
        Payment.order_id == order.id, Payment.method == PaymentMethod.CARD)) or 0) + 1
    # Stripe accepts expiry between 30 minutes and 24 hours ahead; the order's own expiry rules.
    expires = max(aware(order.expires_at), utcnow() + timedelta(minutes=31)) if order.expires_at else \
        utcnow() + timedelta(hours=1)
    session = gateway.create_checkout_session(
        order_number=order.number, amount=order.total, description=f"{current_app.config['SHOP_NAME']} "
        f"{order.number}", email=order.email, locale=locale, success_url=success_url, cancel_url=cancel_url,
        expires_at=int(expires.timestamp()), idempotency_key=f"checkout-{order.number}-{attempt}",
        metadata={"order_number": order.number})
    payment = Payment(order=order, method=PaymentMethod.CARD, amount=order.total,
                      stripe_checkout_session_id=session.id, checkout_url=session.url)
    db.session.add(payment)
    db.session.flush()
    return payment


def start_bank_transfer(order: Order) -> Payment:
    """A pending transfer for the exact total; the order waits BANK_TRANSFER_HOURS for it."""
    orders.lock_order(order)
    payable(order)
    current = db.session.scalar(select(Payment).where(
        Payment.order_id == order.id, Payment.method == PaymentMethod.BANK_TRANSFER,
        Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.SUBMITTED])))
    if current is not None:
        return current
    payment = Payment(order=order, method=PaymentMethod.BANK_TRANSFER, amount=order.total)
    db.session.add(payment)
    orders.extend_payment_deadline(order, hours=current_app.config["BANK_TRANSFER_HOURS"])
    db.session.flush()
    return payment


def submit_transfer_receipt(payment: Payment, stored_file: str, note: str = "") -> Payment:
    lock(payment)
    if payment.method is not PaymentMethod.BANK_TRANSFER or payment.status not in (
            PaymentStatus.PENDING, PaymentStatus.SUBMITTED, PaymentStatus.REJECTED):
        raise NotPayable(payment.status.label)
    payable(payment.order)
    payment.receipt = stored_file
    payment.receipt_uploaded_at = utcnow()
    payment.payer_note = note.strip()[:1000]
    payment.status = PaymentStatus.SUBMITTED
    payment.rejection_reason = ""
    # The buyer has paid as far as they can tell: the stock stays reserved until staff decide.
    payment.order.expires_at = None
    orders.add_event(payment.order, code=EventCode.RECEIPT_SENT, actor=None)
    db.session.flush()
    return payment


# -- staff decisions on bank transfers

def lock(payment: Payment) -> Payment:
    """Lock the payment's order (see orders.lock_order) and re-read the payment as it is now."""
    orders.lock_order(payment.order)
    db.session.refresh(payment)
    return payment


def confirm_transfer(payment: Payment, *, reference: str, actor: Actor, fee: int = 0) -> Payment:
    lock(payment)
    if payment.method is not PaymentMethod.BANK_TRANSFER or payment.status not in (
            PaymentStatus.PENDING, PaymentStatus.SUBMITTED):
        raise NotPayable(payment.status.label)
    if payment.order.status is not OrderStatus.AWAITING_PAYMENT:
        raise NotPayable(payment.order.status.label)
    if not 0 <= fee < payment.amount:
        raise PaymentError("fee")  # checked before anything changes
    before = {"status": payment.status.value}
    payment.status = PaymentStatus.SUCCEEDED
    payment.bank_reference = reference.strip()
    payment.paid_at = payment.reviewed_at = utcnow()
    payment.reviewed_by_id = getattr(actor, "id", None)
    payment.fee, payment.net = fee, payment.amount - fee  # a bank charge is booked like a card fee
    record("payment.confirm", payment, before, {"status": "succeeded", "reference": payment.bank_reference,
                                                "fee": fee}, actor=actor)
    orders.mark_paid(payment.order, payment=payment, actor=actor, code=EventCode.PAID_TRANSFER,
                     params={"reference": payment.bank_reference})
    order_mail.queue_paid(payment.order, payment.amount)
    db.session.flush()
    return payment


def reject_transfer(payment: Payment, *, reason: str, actor: Actor) -> Payment:
    if not reason.strip():
        raise PaymentError("reason")
    lock(payment)
    if payment.method is not PaymentMethod.BANK_TRANSFER or payment.status not in (
            PaymentStatus.PENDING, PaymentStatus.SUBMITTED):
        raise NotPayable(payment.status.label)
    before = {"status": payment.status.value}
    payment.status = PaymentStatus.REJECTED
    payment.rejection_reason = reason.strip()
    payment.reviewed_at = utcnow()
    payment.reviewed_by_id = getattr(actor, "id", None)
    record("payment.reject", payment, before, {"status": "rejected"}, note=payment.rejection_reason, actor=actor)
    # A new deadline: the buyer may send another receipt, or the order expires and its stock goes back.
    payment.order.expires_at = utcnow() + timedelta(hours=current_app.config["BANK_TRANSFER_HOURS"])
    order_mail.queue_transfer_rejected(payment.order, payment.rejection_reason)
    db.session.flush()
    return payment


# -- refunds

def new_refund_key() -> str:
    """Rendered into each refund form, so a double submit of one form refunds once."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class RefundItem:
    """One thing a refund gives back: money for an order line (`line_id`) with the units that count as unsold
    again, or for the shipping (`line_id` None)."""

    line_id: int | None
    amount: int
    quantity: int = 0


class NothingChosen(PaymentError):
    """A refund that names no goods and no shipping."""


class TooManyUnits(PaymentError):
    """More units of a line than are left to refund; the text is the line's name."""


@dataclass(frozen=True)
class RefundableLine:
    """What is left to refund of one order line: its money and its units."""

    line: OrderLine
    amount: int
    quantity: int
    returned: int  # units received back by staff and not yet refunded: the form's suggestion


@dataclass(frozen=True)
class RefundableOrder:
    lines: list[RefundableLine]
    shipping: int


def refundable(order: Order) -> RefundableOrder:
    """Per line and for the shipping, what has not been given back yet by refunds that named it."""
    given: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    for line_id, amount, quantity in db.session.execute(
            select(RefundLine.order_line_id, func.sum(RefundLine.amount), func.sum(RefundLine.quantity))
            .join(Refund).join(Payment).where(Payment.order_id == order.id, Payment.duplicate.is_(False))
            .group_by(RefundLine.order_line_id)).tuples():
        given[line_id] = [int(amount), int(quantity)]
    lines = []
    for line in sorted(order.lines, key=lambda item: item.id):
        amount, quantity = given[line.id]
        left_units = line.quantity - quantity
        lines.append(RefundableLine(line, line.amount - amount, left_units,
                                    max(0, min(left_units, line.returned_quantity - quantity))))
    return RefundableOrder(lines, order.shipping_cost - given[None][0])


def refund_items(order: Order, *, quantities: Mapping[int, int], shipping: bool = False,
                 amount: int | None = None) -> list[RefundItem]:
    """What a refund gives back, from what staff chose: units of lines (and the shipping) at what they cost, or,
    with an `amount`, that amount spread over only the chosen lines (and shipping) in proportion to their value;
    units then count as unsold only when the amount covers the chosen goods in full.

    Raises NothingChosen when nothing is chosen, RefundTooLarge (its text: the most allowed) past the value."""
    left = refundable(order)
    by_id = {item.line.id: item for item in left.lines}
    chosen: dict[str, int] = {}
    units: dict[str, int] = {}
    for line_id, quantity in sorted(quantities.items()):
        if not quantity:
            continue
        item = by_id.get(line_id)
        if item is None or quantity < 0 or quantity > item.quantity:
            raise TooManyUnits(item.line.name if item else str(line_id))
        value = min(item.amount, quantity * item.line.unit_price)
        if value > 0:
            chosen[str(line_id)], units[str(line_id)] = value, quantity
    if shipping and left.shipping > 0:
        chosen["S"] = left.shipping
    if not chosen:
        raise NothingChosen("nothing_chosen")
    whole = sum(chosen.values())
    if amount is None or amount == whole:
        spread, full = chosen, True
    elif 0 < amount < whole:
        spread, full = {key: value for key, value in allocate(amount, chosen).items() if value}, False
    else:
        raise RefundTooLarge(str(whole))
    return [RefundItem(None if key == "S" else int(key), value, units.get(key, 0) if full else 0)
            for key, value in spread.items()]


def _check_items_left(order: Order, items: Sequence[RefundItem]) -> None:
    """Under the payment's lock: no line (nor the shipping) is given back beyond what is left of it."""
    left = refundable(order)
    by_id = {item.line.id: item for item in left.lines}
    for item in items:
        if item.line_id is None:
            if item.amount > left.shipping:
                raise RefundTooLarge(str(left.shipping))
            continue
        line = by_id.get(item.line_id)
        if line is None or item.amount > line.amount:
            raise RefundTooLarge(str(line.amount if line else 0))
        if item.quantity > line.quantity:
            raise TooManyUnits(line.line.name)


def refund(payment: Payment, *, amount: int, reason: str, key: str, actor: Actor,
           transfer_reference: str = "", items: Sequence[RefundItem] | None = None, notify: bool = True) -> Refund:
    """Refund part or all of a payment, never more than is left; card refunds go through Stripe.

    `items` say what the money is for (see `refund_items`), and the ledger reverses exactly those; without them
    (a cancellation, money refunded in Stripe's dashboard) the refund is spread over all that is left.
    The buyer is told by mail unless `notify` is off (a cancellation sends its own).
    Only money moves: the order's goods status stays as it is (goods come back through a return)."""
    lock(payment)
    idempotency_key = f"refund-{payment.order.number}-{key}"  # the order's, and the form's own
    existing = db.session.scalar(select(Refund).where(Refund.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    if items is not None:
        amount = sum(item.amount for item in items)
        _check_items_left(payment.order, items)
    if amount <= 0 or amount > payment.refundable:
        raise RefundTooLarge(str(payment.refundable))
    if needs_transfer_reference(payment) and not transfer_reference.strip():
        raise PaymentError("transfer_reference")
    item = Refund(payment=payment, amount=amount, reason=reason.strip(), idempotency_key=idempotency_key,
                  transfer_reference=transfer_reference.strip(), created_by_id=getattr(actor, "id", None),
                  lines=[RefundLine(order_line_id=part.line_id, amount=part.amount, quantity=part.quantity)
                         for part in items or ()])
    provider = providers.of(payment)
    if provider.refunds_online(payment):
        try:
            provider.refund_online(payment, item)
        except providers.NotRefundableOnline as error:
            raise NotPayable(payment.status.label) from error
    db.session.add(item)
    payment.refunded += amount
    db.session.flush()
    _book_refund(item)
    record("payment.refund", payment, None, {"amount": amount, "refunded": payment.refunded},
           note=item.reason, actor=actor)
    if notify:
        _queue_refund_mail(item)
    return item


def needs_transfer_reference(payment: Payment) -> bool:
    """Money that cannot go back online (a bank transfer, a virtual account, a minimarket) goes back by a transfer
    staff make, and its reference is recorded with the refund."""
    return not providers.of(payment).refunds_online(payment)


def _queue_refund_mail(item: Refund) -> None:
    order = item.payment.order
    names = {line.id: line.name for line in order.lines}
    order_mail.queue_refunded(order, item.amount, [
        (names.get(part.order_line_id, "") if part.order_line_id else "", part.quantity, part.amount)
        for part in item.lines], item.reason)


def transfers_to_check() -> int:
    """Bank transfers whose receipt waits for staff."""
    return int(db.session.scalar(select(func.count(Payment.id)).where(
        Payment.method == PaymentMethod.BANK_TRANSFER, Payment.status == PaymentStatus.SUBMITTED)) or 0)


def transfer_under_review(order: Order) -> Payment | None:
    """The bank transfer whose receipt the buyer sent and staff have not decided yet (the stock stays held)."""
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        return None
    return db.session.scalar(select(Payment).where(
        Payment.order_id == order.id, Payment.method == PaymentMethod.BANK_TRANSFER,
        Payment.status == PaymentStatus.SUBMITTED).order_by(Payment.id.desc()))


def order_payments(order: Order) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)))


# -- Stripe events

def handle_stripe_event(event: dict[str, Any]) -> WebhookOutcome:
    """Apply one verified event, once. The event's state is re-read from Stripe where order matters.

    The event row is written in the caller's transaction, not a savepoint: if handling fails, the caller
    rolls back and the event is not recorded, so Stripe's retry is handled afresh. A second delivery of
    the same id, even one arriving at the same moment, raises DuplicateEvent (the caller rolls back)."""
    if db.session.get(StripeEvent, event["id"]) is not None:
        raise DuplicateEvent(event["id"])
    db.session.add(StripeEvent(id=event["id"], type=event["type"]))
    try:
        db.session.flush()
    except IntegrityError as error:
        raise DuplicateEvent(event["id"]) from error
    handler = _HANDLERS.get(event["type"])
    try:
        outcome = handler(event["data"]["object"]) if handler else "ignored"
    except (KeyError, TypeError, AttributeError) as error:  # the object lacks what its type always carries
        raise MalformedEvent(f"{event['type']} {event['id']}: {error!r}") from error
    db.session.get_one(StripeEvent, event["id"]).outcome = outcome[:200]
    return WebhookOutcome(event["id"], outcome)


def _payment_for_session(session: dict[str, Any]) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.stripe_checkout_session_id == session["id"]))


def _text(value: Any) -> str | None:
    """A field that Stripe always sends as a short string; anything else (a list, a number) counts as absent."""
    return value if isinstance(value, str) and 0 < len(value) <= 255 else None


def _on_session_completed(session: dict[str, Any]) -> str:
    payment = _payment_for_session(session)
    if payment is None:
        return "unknown session"
    intent = session.get("payment_intent")
    return _settle_card_payment(payment, _text(intent.get("id") if isinstance(intent, dict) else intent))


def _settle_card_payment(payment: Payment, intent_id: str | None) -> str:
    """Mark the payment succeeded from what Stripe says now, checking amount and currency."""
    if not intent_id:
        return "no payment intent"
    details = gateway.payment_details(intent_id)  # before the lock: no lock is held over an HTTP call here
    lock(payment)
    if payment.status is PaymentStatus.SUCCEEDED:
        return "already paid"
    if details.status != "succeeded":
        return f"payment intent {details.status}"
    payment.stripe_payment_intent_id = details.payment_intent_id
    payment.stripe_charge_id = details.charge_id
    payment.stripe_balance_transaction_id = details.balance_transaction_id
    return settle(payment, gross=details.gross, currency=details.currency, fee=details.fee,
                  code=EventCode.PAID_CARD, params={"payment_intent": details.payment_intent_id},
                  refunded=details.refunded, refund_source=details.charge_id or details.payment_intent_id)


def settle(payment: Payment, *, gross: int, currency: str, fee: int, code: EventCode, params: dict[str, Any],
           refunded: int, refund_source: str) -> str:
    """The provider says the money arrived (the caller holds the order's lock and read it from the provider, never
    from a notification's body): check amount and currency, then pay the order, through the one path that books
    the ledger. Money for an order paid already is a second payment, and money for an order no longer open (cancelled
    or expired) is given back in full: online where the provider can refund it (`providers`), otherwise
    flagged as a duplicate that staff return by bank transfer (the payments screen says how much)."""
    if payment.status is PaymentStatus.SUCCEEDED:
        return "already paid"
    payment.fee, payment.net = fee, gross - fee
    if currency.lower() != CURRENCY or gross != payment.amount:
        payment.status = PaymentStatus.FAILED
        payment.failure = f"paid {gross} {currency}, expected {payment.amount} idr"
        record("payment.mismatch", payment, None, {"gross": gross, "currency": currency})
        return "amount mismatch"
    payment.status = PaymentStatus.SUCCEEDED
    payment.paid_at = utcnow()
    refundable_online = providers.of(payment).refunds_online(payment)
    order = payment.order
    orders.expire_if_due(order)
    if order.status is OrderStatus.AWAITING_PAYMENT:
        orders.mark_paid(order, payment=payment, code=code, params=params)
        order_mail.queue_paid(order, payment.amount)
        # A refund may have reached the provider before this completion reached us.
        sync_refunds(payment, refunded, refund_source)
        return "paid"
    if order.status in HOLDS_GOODS:
        # Paid already (a confirmed bank transfer, another card): this money is a second payment.
        payment.duplicate = True
        record("payment.duplicate", payment, None, {"amount": payment.amount})
        if not refundable_online:
            return "duplicate: staff refund it by transfer"
        refund(payment, amount=payment.amount - payment.refunded, reason="order already paid by another payment",
               key=f"duplicate-{payment.id}", actor=None)
        return "refunded: order already paid"
    if not refundable_online:
        payment.duplicate = True  # not counted as the order's money: owed back to the buyer in full
        record("payment.duplicate", payment, None, {"amount": payment.amount})
        return "late: staff refund it by transfer"
    # The order was cancelled or expired before the money came: give it back in full.
    refund(payment, amount=payment.amount, reason="order no longer open when payment arrived",
           key=f"late-{payment.id}", actor=None)
    return "refunded: order not open"


def _on_session_expired(session: dict[str, Any]) -> str:
    payment = _payment_for_session(session)
    if payment is None:
        return "unknown session"
    lock(payment)
    if payment.status is not PaymentStatus.PENDING:
        return f"ignored: payment {payment.status.value}"
    payment.status = PaymentStatus.EXPIRED
    order = payment.order
    open_payments = [p for p in order_payments(order) if p.status in (PaymentStatus.PENDING, PaymentStatus.SUBMITTED)]
    if order.status is OrderStatus.AWAITING_PAYMENT and not open_payments:
        orders.cancel_order(order, reason="Stripe Checkout session expired")
        return "order cancelled, stock released"
    return "payment expired"


def _on_payment_failed(intent: dict[str, Any]) -> str:
    number = _text((intent.get("metadata") or {}).get("order_number"))
    payment = db.session.scalar(select(Payment).join(Order).where(
        Order.number == number, Payment.method == PaymentMethod.CARD,
        Payment.status == PaymentStatus.PENDING).order_by(Payment.id.desc())) if number else None
    if payment is None:
        return "unknown payment"
    error = intent.get("last_payment_error") or {}
    message = error.get("message") if isinstance(error, dict) else None
    payment.failure = (message if isinstance(message, str) and message else "payment failed")[:500]
    return "failure noted"


def _on_charge_refunded(charge: dict[str, Any]) -> str:
    """Refunds made in the Stripe dashboard reach the shop here; ours are already counted."""
    intent_id = _text(charge.get("payment_intent"))
    payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id)) \
        if intent_id else None
    if payment is not None:
        lock(payment)
    if payment is None or payment.status is not PaymentStatus.SUCCEEDED:
        # Before the completion: that event settles the payment and reads the refunds from Stripe then.
        return "payment not settled yet"
    raw = charge.get("amount_refunded") or 0
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0 or raw % 100:
        raise MalformedEvent(f"charge {charge['id']}: amount_refunded {raw!r} is not whole rupiah ×100")
    refunded = gateway.from_stripe_amount(raw)
    return "refund recorded" if sync_refunds(payment, refunded, charge["id"]) else "refund already recorded"


def sync_refunds(payment: Payment, refunded_at_provider: int, source_id: str) -> bool:
    """Record refunds made outside the shop (the provider's dashboard, or reported before the completion)."""
    missing = min(refunded_at_provider, payment.amount) - payment.refunded
    if missing <= 0 or payment.status is not PaymentStatus.SUCCEEDED:
        return False
    provider = "Midtrans" if payment.method is PaymentMethod.MIDTRANS else "Stripe"
    item = Refund(payment=payment, amount=missing, reason=f"refunded in {provider}",
                  idempotency_key=f"{provider.lower()}-{source_id}-{refunded_at_provider}")
    db.session.add(item)
    payment.refunded += missing
    db.session.flush()
    _book_refund(item)
    record("payment.refund", payment, None, {"amount": missing, "refunded": payment.refunded},
           note=item.reason)
    _queue_refund_mail(item)
    return True


_HANDLERS = {
    "checkout.session.completed": _on_session_completed,
    "checkout.session.async_payment_succeeded": _on_session_completed,
    "checkout.session.expired": _on_session_expired,
    "payment_intent.payment_failed": _on_payment_failed,
    "charge.refunded": _on_charge_refunded,
}


STUCK_AFTER = timedelta(days=1)  # a payment still pending this long: the system page and /metrics say so


def stuck_payments() -> int:
    """Payments still pending (or a transfer receipt waiting for staff) a day after they began."""
    return int(db.session.scalar(select(func.count()).select_from(Payment).where(
        Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.SUBMITTED)),
        Payment.created_at < utcnow() - STUCK_AFTER)) or 0)


metrics.register_gauge("kb_payments_stuck", "Payments still pending or waiting for a check a day after they began",
                       lambda: [({}, float(stuck_payments()))])
