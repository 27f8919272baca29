"""Fulfilment rules: the queue, packing, shipping each facility's parcel, delivery, cancellation with refund."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shop.audit.service import record
from shop.checkout.models import Courier
from shop.extensions import db
from shop.fulfilment.models import Shipment
from shop.orders import service as orders
from shop.orders.models import Order, OrderLine, OrderStatus
from shop.payments import service as payments
from shop.payments.models import PaymentStatus
from shop.timeutil import utcnow

# The queue shows work in this order: what is paid and waiting to be packed comes first.
QUEUE_ORDER = [OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.SHIPPED,
               OrderStatus.AWAITING_PAYMENT, OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REFUNDED]


class FulfilmentError(Exception):
    """`str()` is a problem key the view translates."""


@dataclass(frozen=True)
class QueueFilter:
    status: OrderStatus | None = None
    facility_id: int | None = None
    courier_id: int | None = None
    day_from: date | None = None
    day_to: date | None = None


def queue(filters: QueueFilter, limit: int = 200) -> list[Order]:
    query = select(Order).where(Order.number.is_not(None)).options(selectinload(Order.courier))
    if filters.status:
        query = query.where(Order.status == filters.status)
    else:
        query = query.where(Order.status.in_([OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED,
                                              OrderStatus.PARTIALLY_REFUNDED]))
    if filters.facility_id:
        from_facility = select(OrderLine.order_id).where(OrderLine.facility_id == filters.facility_id)
        query = query.where(Order.id.in_(from_facility))
    if filters.courier_id:
        query = query.where(Order.courier_id == filters.courier_id)
    if filters.day_from:
        query = query.where(Order.created_at >= datetime.combine(filters.day_from, time.min))
    if filters.day_to:
        query = query.where(Order.created_at < datetime.combine(filters.day_to + timedelta(days=1), time.min))
    rank = {status: n for n, status in enumerate(QUEUE_ORDER)}
    rows = list(db.session.scalars(query.order_by(Order.created_at).limit(limit)))
    rows.sort(key=lambda order: (rank[order.status], order.created_at))  # stable: oldest first within a state
    return rows


def counts() -> dict[OrderStatus, int]:
    rows = db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all()
    found = dict(rows)
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


def mark_packed(order: Order, *, actor: Any) -> Order:
    orders.transition(order, OrderStatus.PACKED, actor=actor)
    record("order.packed", order, None, {"status": order.status.value}, actor=actor)
    return order


def ship(order: Order, *, facility_id: int, courier_id: int, tracking_number: str, actor: Any) -> Shipment:
    """Ship one facility's parcel; when every facility's parcel left, the order is shipped."""
    tracking = tracking_number.strip().upper()
    if not tracking:
        raise FulfilmentError("tracking_required")
    if order.status not in (OrderStatus.PACKED, OrderStatus.PARTIALLY_REFUNDED):
        raise FulfilmentError("not_packed")
    facility_ids = [facility for facility, _name, _lines in groups(order)]
    if facility_id not in facility_ids:
        raise FulfilmentError("unknown_facility")
    if db.session.get(Courier, courier_id) is None:
        raise FulfilmentError("unknown_courier")
    if any(s.facility_id == facility_id for s in shipments(order)):
        raise FulfilmentError("already_shipped")
    shipment = Shipment(order_id=order.id, facility_id=facility_id, courier_id=courier_id,
                        tracking_number=tracking, shipped_by_id=getattr(actor, "id", None), shipped_at=utcnow())
    db.session.add(shipment)
    db.session.flush()
    record("order.shipment", order, None, {"facility_id": facility_id, "tracking_number": tracking}, actor=actor)
    if {s.facility_id for s in shipments(order)} >= set(facility_ids):
        orders.transition(order, OrderStatus.SHIPPED, actor=actor, note=tracking)
    else:
        orders.add_event(order, note=f"parcel shipped: {tracking}", actor=actor)
    return shipment


def mark_delivered(order: Order, *, actor: Any) -> Order:
    orders.transition(order, OrderStatus.DELIVERED, actor=actor)
    record("order.delivered", order, None, {"status": order.status.value}, actor=actor)
    return order


def cancel(order: Order, *, reason: str, actor: Any, transfer_reference: str = "") -> list[int]:
    """Cancel with a reason: stock goes back and what was paid is refunded in full; returns refunded amounts.

    Card payments are refunded through Stripe; a bank transfer needs the reference of the transfer that
    returned the money (staff make it first)."""
    if not reason.strip():
        raise FulfilmentError("reason_required")
    to_refund = [p for p in payments.order_payments(order) if p.status is PaymentStatus.SUCCEEDED and p.refundable]
    if any(p.method.value == "bank_transfer" for p in to_refund) and not transfer_reference.strip():
        raise FulfilmentError("transfer_reference_required")
    before = order.status
    orders.cancel_order(order, reason=reason, actor=actor)
    refunded = []
    for payment in to_refund:
        amount = payment.refundable
        payments.refund(payment, amount=amount, reason=reason, key=f"cancel-{payment.id}", actor=actor,
                        transfer_reference=transfer_reference if payment.method.value == "bank_transfer" else "")
        refunded.append(amount)
    record("order.cancel", order, {"status": before.value}, {"status": "cancelled", "refunded": sum(refunded)},
           note=reason, actor=actor)
    return refunded


def add_note(order: Order, *, note: str, actor: Any) -> None:
    if not note.strip():
        raise FulfilmentError("note_required")
    orders.add_event(order, note=note.strip(), actor=actor, internal=True)
    record("order.note", order, None, None, note=note.strip(), actor=actor)
