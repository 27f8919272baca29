"""Fulfilment rules: the queue, packing, shipping each facility's parcel, delivery, cancellation with refund."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import selectinload

from shop.accounts.models import Actor
from shop.audit.service import record
from shop.catalog.models import Category, Facility, StockReason
from shop.catalog.stock import change_stock
from shop.extensions import db, rows_changed
from shop.fulfilment.models import Shipment
from shop.orders import mail as order_mail
from shop.orders import service as orders
from shop.orders.models import EventCode, Order, OrderLine, OrderReturn, OrderStatus, ReturnLine
from shop.payments import service as payments
from shop.payments.models import PaymentStatus
from shop.shipping.models import Courier
from shop.timeutil import day_start, shop_zone, utcnow

# The queue shows work in this order: what is paid and waiting to be packed comes first.
QUEUE_ORDER = [OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.AWAITING_PAYMENT,
               OrderStatus.DELIVERED, OrderStatus.CANCELLED]


class FulfilmentError(Exception):
    """`str()` is a problem key the view translates."""


@dataclass(frozen=True)
class QueueFilter:
    status: OrderStatus | None = None
    facility_id: int | None = None
    courier_id: int | None = None
    day_from: date | None = None
    day_to: date | None = None
    sort: str = "state"  # one of QUEUE_SORTS


# How the desk may sort its queue; each is done in the database before the limit.
QUEUE_SORTS = {
    "state": lambda rank: (rank, Order.created_at, Order.id),  # what to do first, oldest first
    "oldest": lambda rank: (Order.created_at, Order.id),
    "newest": lambda rank: (Order.created_at.desc(), Order.id.desc()),
    "total_desc": lambda rank: (Order.total.desc(), Order.id),
    "buyer": lambda rank: (Order.name, Order.id),
}


def queue(filters: QueueFilter, limit: int = 200) -> list[Order]:
    """Orders to work on, sorted in the database (state, then oldest first) before the limit is applied."""
    query = select(Order).where(Order.number.is_not(None)).options(selectinload(Order.courier))
    if filters.status:
        query = query.where(Order.status == filters.status)
    else:
        query = query.where(Order.status.in_([OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED]))
    if filters.facility_id:
        from_facility = select(OrderLine.order_id).where(OrderLine.facility_id == filters.facility_id)
        query = query.where(Order.id.in_(from_facility))
    if filters.courier_id:
        query = query.where(Order.courier_id == filters.courier_id)
    zone = facility_zone(filters.facility_id)
    if filters.day_from:
        query = query.where(Order.created_at >= day_start(filters.day_from, zone))
    if filters.day_to:
        query = query.where(Order.created_at < day_start(filters.day_to + timedelta(days=1), zone))
    rank = case({status.value: n for n, status in enumerate(QUEUE_ORDER)}, value=Order.status)
    order_by = QUEUE_SORTS.get(filters.sort, QUEUE_SORTS["state"])(rank)
    return list(db.session.scalars(query.order_by(*order_by).limit(limit)))


def facility_zone(facility_id: int | None) -> str:
    """The time zone a day is counted in: the facility's when one is named, else the shop's."""
    zone = db.session.scalar(select(Facility.timezone).where(Facility.id == facility_id)) if facility_id else None
    return zone or shop_zone()


def to_pack() -> int:
    """Paid orders waiting to be packed."""
    return int(db.session.scalar(select(func.count(Order.id)).where(Order.status == OrderStatus.PAID)) or 0)


def counts() -> dict[OrderStatus, int]:
    found: dict[OrderStatus, int] = {
        status: n for status, n in db.session.execute(select(Order.status, func.count()).group_by(Order.status))}
    return {status: found.get(status, 0) for status in QUEUE_ORDER}


def groups(order: Order) -> list[tuple[int, str, list[OrderLine]]]:
    """The order's lines grouped by the facility they come from: (facility id, name, lines)."""
    grouped: dict[int, list[OrderLine]] = {}
    for line in order.lines:
        grouped.setdefault(line.facility_id, []).append(line)
    return [(facility_id, lines[0].facility_name, lines) for facility_id, lines in grouped.items()]


def shipments(order: Order) -> list[Shipment]:
    return list(db.session.scalars(select(Shipment).where(Shipment.order_id == order.id)
                                   .options(selectinload(Shipment.courier)).order_by(Shipment.id)))


def mark_packed(order: Order, *, actor: Actor) -> Order:
    orders.transition(order, OrderStatus.PACKED, actor=actor)
    record("order.packed", order, None, {"status": order.status.value}, actor=actor)
    return order


RESI = re.compile(r"[A-Z0-9][A-Z0-9-]{6,38}[A-Z0-9]")  # JNE, J&T (JP…), SiCepat, POS, AnterAja: 8-40 of these


def ship(order: Order, *, facility_id: int, courier_id: int, tracking_number: str, actor: Actor,
         other_courier: bool = False) -> Shipment:
    """Ship one facility's parcel; when every facility's parcel left, the order is shipped. A courier other than the
    one the buyer paid for needs `other_courier` (staff ticked that they mean it)."""
    tracking = re.sub(r"\s", "", tracking_number).upper()  # "JP 1234 5678 90" as printed on the receipt
    if not tracking:
        raise FulfilmentError("tracking_required")
    if len(tracking) > 60:  # the courier's resi: a dozen or two characters
        raise FulfilmentError("tracking_too_long")
    if order.status is not OrderStatus.PACKED:
        raise FulfilmentError("not_packed")
    if not RESI.fullmatch(tracking):
        raise FulfilmentError("tracking_format")
    if courier_id != order.courier_id and not other_courier:
        raise FulfilmentError("other_courier")
    facility_ids = [facility for facility, _name, _lines in groups(order)]
    if facility_id not in facility_ids:
        raise FulfilmentError("unknown_facility")
    courier = db.session.get(Courier, courier_id)
    if courier is None:
        raise FulfilmentError("unknown_courier")
    if any(s.facility_id == facility_id for s in shipments(order)):
        raise FulfilmentError("already_shipped")
    shipment = Shipment(order_id=order.id, facility_id=facility_id, courier_id=courier_id,
                        tracking_number=tracking, shipped_by_id=getattr(actor, "id", None), shipped_at=utcnow())
    db.session.add(shipment)
    db.session.flush()
    record("order.shipment", order, None, {"facility_id": facility_id, "tracking_number": tracking}, actor=actor)
    parcel = {"courier": courier.name, "tracking": tracking}
    if {s.facility_id for s in shipments(order)} >= set(facility_ids):
        orders.transition(order, OrderStatus.SHIPPED, actor=actor, code=EventCode.PARCEL_SHIPPED, params=parcel)
    else:
        orders.add_event(order, code=EventCode.PARCEL_SHIPPED, params=parcel, actor=actor)
    return shipment


def mark_delivered(order: Order, *, actor: Actor) -> Order:
    """The whole order reached the buyer: every parcel not yet marked is delivered now."""
    orders.transition(order, OrderStatus.DELIVERED, actor=actor)
    for shipment in shipments(order):
        shipment.delivered_at = shipment.delivered_at or utcnow()
    record("order.delivered", order, None, {"status": order.status.value}, actor=actor)
    return order


def mark_parcel_delivered(order: Order, facility_id: int, *, actor: Actor) -> Shipment:
    """One facility's parcel reached the buyer (parcels travel apart); with the last of them the order is
    delivered."""
    orders.lock_order(order)
    shipment = next((s for s in shipments(order) if s.facility_id == facility_id), None)
    if shipment is None:
        raise FulfilmentError("parcel_not_shipped")
    if shipment.delivered_at is not None:
        raise FulfilmentError("parcel_delivered")
    shipment.delivered_at = utcnow()
    db.session.flush()
    record("order.parcel_delivered", order, None, {"facility_id": facility_id,
                                                   "tracking_number": shipment.tracking_number}, actor=actor)
    if order.status is OrderStatus.SHIPPED and all(s.delivered_at for s in shipments(order)):
        mark_delivered(order, actor=actor)
    return shipment


def cancel(order: Order, *, reason: str, actor: Actor, transfer_reference: str = "") -> list[int]:
    """Cancel with a reason: stock goes back and what was paid is refunded in full; returns refunded amounts.

    Card, QRIS and e-wallet payments are refunded online; money paid by bank transfer, to a virtual account or at a
    counter needs the reference of the transfer that returned it (staff make it first)."""
    if not reason.strip():
        raise FulfilmentError("reason_required")
    to_refund = [p for p in payments.order_payments(order) if p.status is PaymentStatus.SUCCEEDED and p.refundable]
    if any(payments.needs_transfer_reference(p) for p in to_refund) and not transfer_reference.strip():
        raise FulfilmentError("transfer_reference_required")
    if len(transfer_reference.strip()) > 120:
        raise FulfilmentError("transfer_reference_too_long")
    before = order.status
    orders.cancel_order(order, reason=reason, actor=actor)
    refunded = []
    for payment in to_refund:
        amount = payment.refundable
        payments.refund(payment, amount=amount, reason=reason, key=f"cancel-{payment.id}", actor=actor,
                        transfer_reference=transfer_reference if payments.needs_transfer_reference(payment) else "",
                        notify=False)
        refunded.append(amount)
    order_mail.queue_cancelled(order, reason.strip(), sum(refunded))
    record("order.cancel", order, {"status": before.value}, {"status": "cancelled", "refunded": sum(refunded)},
           note=reason, actor=actor)
    return refunded


RETURNABLE = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def food_line_ids(order: Order) -> set[int]:
    """The order's lines of food (their category requires permits): returned food is not sold again unless staff
    say it came back sealed and sound."""
    category_ids = {line.category_id for line in order.lines if line.category_id is not None}
    food = {category.id for category in db.session.scalars(select(Category).where(Category.id.in_(category_ids)))
            if category.required_certs} if category_ids else set()
    return {line.id for line in order.lines if line.category_id in food}


def receive_return(order: Order, quantities: dict[int, int], *, reason: str, actor: Actor,
                   sealed: frozenset[int] | set[int] = frozenset()) -> OrderReturn:
    """Staff received goods back (after shipping): what came back per line goes on sale again, nothing more, but
    food only where staff ticked it came back sealed and sound (`sealed`: its line ids).

    `quantities` maps order line ids to units received. A refund is a separate decision (payments screen):
    money going back never touches stock, and goods coming back never move money."""
    if not reason.strip():
        raise FulfilmentError("reason_required")
    orders.lock_order(order)
    if order.status not in RETURNABLE:
        raise FulfilmentError("not_returnable")
    lines = {line.id: line for line in order.lines}
    wanted = {line_id: qty for line_id, qty in quantities.items() if qty}
    if not wanted:
        raise FulfilmentError("nothing_returned")
    if any(line_id not in lines or qty < 0 for line_id, qty in wanted.items()):
        raise FulfilmentError("unknown_line")
    received = OrderReturn(order_id=order.id, reason=reason.strip(), received_by_id=getattr(actor, "id", None),
                           received_at=utcnow())
    db.session.add(received)
    food = food_line_ids(order)
    for line_id, qty in wanted.items():
        line = lines[line_id]
        counted = db.session.execute(
            update(OrderLine).where(OrderLine.id == line_id, OrderLine.returned_quantity + qty <= OrderLine.quantity)
            .values(returned_quantity=OrderLine.returned_quantity + qty).execution_options(synchronize_session=False))
        if rows_changed(counted) != 1:
            raise FulfilmentError("more_than_sent")
        db.session.refresh(line, ["returned_quantity"])
        resold = line_id not in food or line_id in sealed  # opened or doubtful food is never sold again
        received.lines.append(ReturnLine(order_line_id=line_id, quantity=qty, restocked=resold))
        if not resold:
            continue
        change_stock(line.product_id, qty, StockReason.RETURNED, order_id=order.id, user_id=received.received_by_id,
                     note=reason.strip())
    db.session.flush()
    # What came back, named (older events hold only the number of units).
    goods = ", ".join(f"{qty} × {lines[line_id].name}" for line_id, qty in wanted.items())
    orders.add_event(order, code=EventCode.RETURN_RECEIVED, params={"units": goods}, note=reason.strip(), actor=actor)
    record("order.return", order, None, {str(lines[i].name): q for i, q in wanted.items()}, note=reason.strip(),
           actor=actor)
    order_mail.queue_return_received(order, [(lines[i].name, q) for i, q in wanted.items()])
    return received


def returns(order: Order) -> list[OrderReturn]:
    return list(db.session.scalars(select(OrderReturn).where(OrderReturn.order_id == order.id)
                                   .options(selectinload(OrderReturn.lines)).order_by(OrderReturn.id)))


def add_note(order: Order, *, note: str, actor: Actor) -> None:
    if not note.strip():
        raise FulfilmentError("note_required")
    orders.add_event(order, code=EventCode.NOTE, note=note.strip(), actor=actor, internal=True)
    record("order.note", order, None, None, note=note.strip(), actor=actor)
