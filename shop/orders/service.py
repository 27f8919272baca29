"""Order rules: placing an order with its stock reserved, the state machine, expiry, cancellation.

Functions flush, never commit: the caller (a view, a CLI command, a test) commits once, so placing an
order either writes everything (order, lines, events, stock) or, on any error, nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app, has_request_context
from flask_login import current_user
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shop import metrics
from shop.accounts.models import Actor
from shop.catalog.models import Facility, Product, StockReason
from shop.catalog.stock import change_stock, current_stock
from shop.certification.service import is_sellable
from shop.extensions import db, rows_changed
from shop.orders.models import TRANSITIONS, EventCode, Order, OrderEvent, OrderLine, OrderParcel, OrderStatus
from shop.shipping import quotes as shipping
from shop.timeutil import aware, utcnow
from shop.web import ID_MAX

if TYPE_CHECKING:
    from shop.payments.models import Payment


class OrderError(Exception):
    """A rule refused the request; `str()` is safe to show once translated by the view."""


class OutOfStock(OrderError):
    def __init__(self, product_name: str, available: int) -> None:
        super().__init__(product_name)
        self.product_name = product_name
        self.available = available


class NotSellable(OrderError):
    def __init__(self, product_name: str) -> None:
        super().__init__(product_name)
        self.product_name = product_name


class NoShippingRate(OrderError):
    pass


class EmptyCart(OrderError):
    pass


class OrderTooLarge(OrderError):
    """More than one order can hold (its money and weight columns are INTEGER): split it, or ask the shop."""


class IllegalTransition(OrderError):
    """The move is not in the table, or another request moved the order first (`current` is the fresh state)."""

    def __init__(self, current: OrderStatus, wanted: OrderStatus) -> None:
        super().__init__(f"{current.value} → {wanted.value}")
        self.current = current
        self.wanted = wanted


@dataclass(frozen=True)
class Buyer:
    """What the checkout form collected, already checked and normalised."""

    name: str
    email: str
    phone: str  # E.164
    street: str
    rt_rw: str
    kelurahan: str
    kecamatan: str
    city: str
    province: str
    postal_code: str
    notes: str = ""


def payment_minutes() -> int:
    return current_app.config["ORDER_PAYMENT_MINUTES"]


def _actor_label(actor: Actor) -> tuple[int | None, str]:
    if actor is None and has_request_context() and current_user.is_authenticated and current_user.is_staff:
        actor = current_user
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return getattr(actor, "id", None), getattr(actor, "email", "")


def add_event(order: Order, *, to: OrderStatus | None = None, from_status: OrderStatus | None = None,
              code: EventCode = EventCode.STATUS, params: dict[str, Any] | None = None, note: str = "",
              actor: Actor = None, internal: bool = False) -> OrderEvent:
    """`code` and `params` say what happened (worded when read); `note` only what a person typed."""
    actor_id, label = _actor_label(actor)
    event = OrderEvent(order=order, from_status=(from_status or order.status) if to else None, to_status=to,
                       code=code, params=params, note=note, actor_id=actor_id, actor=label, internal=internal,
                       at=utcnow())
    db.session.add(event)
    return event


def place_order(items: dict[int, int], buyer: Buyer, courier_id: int, *, language: str = "id",
                customer_id: int | None = None, loaded: Sequence[Product] = (),
                quote: shipping.Quote | None = None) -> Order:
    """Create the order awaiting payment and take its stock, all or nothing.

    Stock is taken by one conditional UPDATE per line (`stock >= n`), the same on SQLite and PostgreSQL;
    if any line cannot be had, OutOfStock is raised and the caller rolls the whole transaction back.
    `loaded`: the products as the checkout just read them in this transaction (with their facility, region,
    category and certificates), and `quote`: its shipping quote for this courier, so neither is read twice.
    """
    items = {pid: qty for pid, qty in items.items() if qty > 0}
    if not items:
        raise EmptyCart()
    products: Sequence[Product] = sorted((p for p in loaded if p.id in items), key=lambda p: p.id)
    if len(products) != len(items):
        products = db.session.scalars(
            select(Product).where(Product.id.in_(items)).order_by(Product.id)
            .options(selectinload(Product.certifications), selectinload(Product.category),
                     selectinload(Product.facility).selectinload(Facility.region))).all()
    if len(products) != len(items):
        raise NotSellable("?")
    for product in products:
        if not is_sellable(product):
            raise NotSellable(product.name)
    weight = sum(p.weight_g * items[p.id] for p in products)
    parcels = shipping.parcels((p, items[p.id]) for p in products)
    if quote is None or quote.courier.id != courier_id or quote.parcels != tuple(parcels):
        quote = next(iter(shipping.quotes(buyer.province, parcels, courier_id)), None)
    if quote is None:
        raise NoShippingRate(buyer.province)
    subtotal = sum(p.price * items[p.id] for p in products)
    if max(subtotal + quote.total, weight, *(p.price * items[p.id] for p in products)) > ID_MAX:
        raise OrderTooLarge()
    now = utcnow()
    order = Order(
        status=OrderStatus.AWAITING_PAYMENT, customer_id=customer_id, email=buyer.email, name=buyer.name,
        phone=buyer.phone, street=buyer.street, rt_rw=buyer.rt_rw, kelurahan=buyer.kelurahan,
        kecamatan=buyer.kecamatan, city=buyer.city, province=buyer.province, postal_code=buyer.postal_code,
        notes=buyer.notes, language=language, courier_id=courier_id, weight_g=weight, subtotal=subtotal,
        shipping_cost=quote.total, total=subtotal + quote.total, created_at=now,
        expires_at=now + timedelta(minutes=payment_minutes()))
    db.session.add(order)
    for product in products:
        order.lines.append(OrderLine(
            product_id=product.id, facility_id=product.facility_id, category_id=product.category_id,
            name=product.name, facility_name=product.facility.name, unit_price=product.price,
            unit_cost=product.unit_cost, quantity=items[product.id],
            weight_g=product.weight_g))
    for parcel, price in zip(parcels, quote.prices, strict=True):
        order.parcels.append(OrderParcel(facility_id=parcel.facility_id, facility_name=parcel.facility_name,
                                         origin=parcel.region_name, weight_g=parcel.weight_g, shipping_cost=price))
    db.session.flush()
    order.number = f"KB-{now.year}-{order.id:06d}"
    add_event(order, code=EventCode.PLACED, actor="buyer")
    # Stock last: a product's row stays locked from its UPDATE to the caller's commit, so everything else is
    # written before. Products in id order, so two buyers of the same two products lock them in one order.
    for product in products:
        _take_stock(product, items[product.id], order.id)
    metrics.on_commit(metrics.ORDERS)
    return order


def _take_stock(product: Product, quantity: int, order_id: int) -> None:
    if not change_stock(product.id, -quantity, StockReason.ORDER, order_id=order_id):
        raise OutOfStock(product.name, current_stock(product.id))


def lock_order(order: Order) -> Order:
    """Take the order's row lock for the rest of the transaction and re-read the order.

    Every change of an order's or its payments' state starts here, so a webhook, read-time expiry, the
    expiry command, staff and a double click acting on one order at once take turns; each then decides on
    the state the one before it committed. A no-op UPDATE rather than SELECT … FOR UPDATE, because SQLite
    has no FOR UPDATE: there the UPDATE takes the database's write lock, which serves the same purpose.
    """
    db.session.execute(update(Order).where(Order.id == order.id).values(status=Order.status)
                       .execution_options(synchronize_session=False))
    db.session.refresh(order)
    return order


def transition(order: Order, to: OrderStatus, *, actor: Actor = None, note: str = "",
               code: EventCode = EventCode.STATUS, params: dict[str, Any] | None = None) -> Order:
    """The only way an order's status changes: legal moves only, each recorded as an event.

    The UPDATE names the status it expects, so of two requests making a move from the same status only
    one succeeds; the other gets IllegalTransition with the status the first one left. Cancelling gives
    the stock back in that same winning move, so stock is released exactly once.
    """
    expected = order.status
    if to not in TRANSITIONS[expected]:
        raise IllegalTransition(expected, to)
    values: dict[str, object] = {"status": to}
    if to is not OrderStatus.AWAITING_PAYMENT:
        values["expires_at"] = None
    if to is OrderStatus.PAID:
        values["paid_at"] = utcnow()
    if to is OrderStatus.CANCELLED:
        values["stock_released"] = True
    db.session.flush()
    moved = db.session.execute(update(Order).where(Order.id == order.id, Order.status == expected)
                               .values(**values).execution_options(synchronize_session=False))
    if rows_changed(moved) != 1:
        db.session.refresh(order)
        raise IllegalTransition(order.status, to)
    for key, value in values.items():
        set_committed_value(order, key, value)
    add_event(order, to=to, from_status=expected, code=code, params=params, note=note, actor=actor)
    if to is OrderStatus.CANCELLED:
        for line in order.lines:
            change_stock(line.product_id, line.quantity, StockReason.ORDER_RELEASED, order_id=order.id)
    db.session.flush()
    return order


# Who books a paid order's sale: the revenue-split ledger (a layer above), registered by create_app.
SaleBooker = Callable[["Order", "Payment | None"], object]
_SALE_BOOKERS: list[SaleBooker] = []


def on_paid(booker: SaleBooker) -> None:
    """Register what books a sale when an order is paid (idempotent: create_app runs often in tests)."""
    if booker not in _SALE_BOOKERS:
        _SALE_BOOKERS.append(booker)


def mark_paid(order: Order, *, payment: Payment | None = None, actor: Actor = None, note: str = "",
              code: EventCode = EventCode.STATUS, params: dict[str, Any] | None = None) -> Order:
    """The one place an order becomes paid, and its sale is booked in the revenue-split ledger in the same
    transaction: a payment without its ledger entries (or the reverse) can never be committed, so with no ledger
    registered nothing is paid at all."""
    if not _SALE_BOOKERS:
        raise RuntimeError("no ledger is registered to book the sale (create_app wires it: orders.on_paid)")
    transition(order, OrderStatus.PAID, actor=actor, note=note, code=code, params=params)
    for booker in _SALE_BOOKERS:
        booker(order, payment)
    return order


def cancel_order(order: Order, *, reason: str, actor: Actor = None) -> Order:
    """Cancel before the goods left (the table allows no later cancel): the stock goes back on sale."""
    if not reason.strip():
        raise OrderError("reason")
    return transition(order, OrderStatus.CANCELLED, actor=actor, note=reason.strip())


def extend_payment_deadline(order: Order, *, hours: int) -> None:
    """Bank transfers take longer than a card: the reservation is held for `hours` from now."""
    if order.status is OrderStatus.AWAITING_PAYMENT:
        order.expires_at = max(aware(order.expires_at or utcnow()), utcnow() + timedelta(hours=hours))


def is_overdue(order: Order, now: datetime | None = None) -> bool:
    if order.status is not OrderStatus.AWAITING_PAYMENT or order.expires_at is None:
        return False
    return aware(order.expires_at) <= (now or utcnow())


def expire_if_due(order: Order) -> bool:
    """Expiry at read time: an unpaid order past its deadline is cancelled and its stock released.

    Several pages may read the same overdue order at once: one of them cancels it, the others find it
    already moved (paid at the last moment, or cancelled) and leave it as it is."""
    if not is_overdue(order):
        return False
    try:
        transition(order, OrderStatus.CANCELLED, actor="system", code=EventCode.EXPIRED)
    except IllegalTransition:
        return False
    return True


def expire_overdue_orders() -> list[str]:
    """For cron (`flask --app shop orders expire`): cancel every overdue unpaid order; returns their numbers.

    Each order is cancelled and committed on its own: one transaction for all would hold a product's row lock
    (taken by the first order's stock release) while waiting for the next order's row, which a page reading that
    order may hold while it waits for the same product: a deadlock on PostgreSQL."""
    due = db.session.scalars(select(Order).where(Order.status == OrderStatus.AWAITING_PAYMENT,
                                                 Order.expires_at <= utcnow())
                             .options(selectinload(Order.lines))).all()
    expired = []
    for order in due:
        if expire_if_due(order):
            expired.append(order.number)
        db.session.commit()
    return expired


def normalize_number(text: str) -> str:
    """An order number as buyers type it ("kb2026000123", "KB 2026 000123") written the shop's way."""
    compact = re.sub(r"[\s-]", "", text).upper()
    found = re.fullmatch(r"KB(\d{4})(\d{6})", compact)
    return f"KB-{found[1]}-{found[2]}" if found else text.strip().upper()


def order_for_buyer(number: str, email: str) -> Order | None:
    """An order found by its number (dashes optional) and the buyer's email (case-insensitive), as the tracking
    page needs."""
    order = db.session.scalar(select(Order).where(Order.number == normalize_number(number)))
    if order is None or order.email.lower() != email.strip().lower():
        return None
    return order


def order_by_number(number: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.number == number)
                             .options(selectinload(Order.lines), selectinload(Order.events)))

