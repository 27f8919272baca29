"""Recalling a lot (#27): its unsold units are blocked at once, every order that received or holds units of it is
listed with the buyer's contact, each buyer is mailed in their language through the outbox, and staff note whom
they also reached. The product's row is locked first, as a sale's is, so a checkout racing a recall either gets
units of another lot or is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from shop import mail
from shop.accounts.models import User
from shop.audit.service import record
from shop.catalog.cache import note_change
from shop.catalog.lots import ORDER_REASONS
from shop.catalog.models import Lot, Product, StockMovement, StockReason
from shop.catalog.stock import current_stock, swap_out_of_lot
from shop.extensions import db
from shop.finance.reports import Table
from shop.fulfilment.models import RecallNotice
from shop.orders.models import Order, OrderStatus
from shop.outbox import service as outbox
from shop.timeutil import aware, shop_zone, utcnow


class RecallRefused(Exception):
    """Why a recall cannot start, in the reader's language."""


@dataclass(frozen=True)
class Affected:
    """An order that received or holds units of a recalled lot, and what its buyer was told."""

    order: Order
    units: int
    notice: RecallNotice | None


def affected_orders(lot_id: int) -> list[tuple[Order, int]]:
    """Every order that received or holds units of the lot (taken less given back), oldest first."""
    held = func.sum(StockMovement.delta)
    rows = db.session.execute(
        select(Order, held).join(StockMovement, StockMovement.order_id == Order.id)
        .where(StockMovement.lot_id == lot_id, StockMovement.reason.in_(ORDER_REASONS))
        .group_by(Order.id).having(held < 0).order_by(Order.created_at, Order.id)).tuples()
    return [(order, -int(units)) for order, units in rows]


@dataclass(frozen=True)
class Recalled:
    notices: list[RecallNotice]  # the buyers told
    swapped: int  # orders not packed yet that get units of other lots instead


def start_recall(lot: Lot, reason: str, *, actor: User | None) -> Recalled:
    """Recall the lot: block its unsold units; give orders not packed yet units of the product's other lots
    instead; record a notice and queue a mail for each buyer who still received or holds units of it. The caller
    commits (the mails leave with the commit, or not at all)."""
    reason = reason.strip()
    if not reason:
        raise RecallRefused(_("Say why the lot is recalled: the buyers read it."))
    if len(reason) > 1000:
        raise RecallRefused(_("The reason has at most 1000 characters."))
    if actor is not None and not actor.can_manage_facility(lot.product.facility_id):
        raise PermissionError("not this facility's staff")
    # The product's row first, as a sale takes it: a checkout waits, then finds the lot empty.
    db.session.execute(update(Product).where(Product.id == lot.product_id).values(stock=Product.stock)
                       .execution_options(synchronize_session=False))
    db.session.refresh(lot)
    if lot.recalled_at is not None:
        raise RecallRefused(_("Lot %(code)s was already recalled.", code=lot.code))
    before = current_stock(lot.product_id)
    units = lot.on_hand
    now = utcnow()
    db.session.execute(update(Lot).where(Lot.id == lot.id).values(
        on_hand=0, set_aside=Lot.set_aside + units, set_aside_at=func.coalesce(Lot.set_aside_at, now),
        recalled_at=now, recall_reason=reason, recalled_by_id=getattr(actor, "id", None))
        .execution_options(synchronize_session=False))
    if units:
        db.session.execute(update(Product).where(Product.id == lot.product_id)
                           .values(stock=Product.stock - units).execution_options(synchronize_session=False))
        db.session.add(StockMovement(product_id=lot.product_id, delta=-units, reason=StockReason.RECALLED,
                                     lot_id=lot.id, note=reason[:200], user_id=getattr(actor, "id", None), at=now))
        note_change(db.session())
    db.session.refresh(lot)  # recalled: units given back to it below stay off sale
    swapped = 0
    for order, taken in affected_orders(lot.id):  # not packed yet: its units come from another lot instead
        if order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID):
            swapped += swap_out_of_lot(lot.product_id, order.id, lot.id, taken)
    notices = []
    for order, taken in affected_orders(lot.id):  # what remains: received, on its way, packed, or no other lot
        notice = RecallNotice(lot_id=lot.id, order_id=order.id, units=taken, mailed_at=now)
        db.session.add(notice)
        notices.append(notice)
        message = mail.render_message(
            "fulfilment/mail/recall", to=order.email, language=order.language, order=order, lot=lot, units=taken,
            reason=reason, subject=_l("Recall: %(product)s, lot %(code)s", product=lot.product.name, code=lot.code))
        outbox.queue(message, "lot.recall")
    db.session.flush()
    record("lot.recall", lot.product, {"stock": before},  # the stock as the statements left it, not the session's
           {"stock": current_stock(lot.product_id), "lot": lot.code, "orders": len(notices), "swapped": swapped},
           note=reason, actor=actor)
    return Recalled(notices, swapped)


def recall_list(lot_id: int) -> list[Affected]:
    """The recall screen's list: each affected order with its units and notice (orders found after the recall
    started, a return received later say, are listed without one)."""
    notices = {notice.order_id: notice
               for notice in db.session.scalars(select(RecallNotice).where(RecallNotice.lot_id == lot_id))}
    return [Affected(order, units, notices.get(order.id)) for order, units in affected_orders(lot_id)]


def mark_reached(lot_id: int, order_id: int, note: str, *, actor: User) -> RecallNotice:
    notice = db.session.scalar(select(RecallNotice).where(RecallNotice.lot_id == lot_id,
                                                          RecallNotice.order_id == order_id))
    if notice is None:
        raise RecallRefused(_("This order has no notice of the recall."))
    if notice.reached_at is None:
        notice.reached_at, notice.reached_by_id = utcnow(), actor.id
    notice.note = note.strip()[:500]
    return notice


def export(lot: Lot) -> Table:
    """The affected orders as a sheet: number, buyer, email, phone, units, order date, status, mailed, reached."""
    rows: list[list[object]] = []
    for item in recall_list(lot.id):
        order = item.order
        rows.append([order.number, order.name, order.email, order.phone, item.units, _local(order.created_at),
                     str(order.status.label), _local(item.notice.mailed_at) if item.notice else None,
                     _local(item.notice.reached_at) if item.notice and item.notice.reached_at else None,
                     item.notice.note if item.notice else ""])
    return Table(title=f"Penarikan {lot.code}",
                 headers=["Pesanan", "Pembeli", "Email", "Telepon", "Jumlah", "Tanggal pesan", "Status",
                          "Surel dikirim", "Dihubungi", "Catatan"],
                 rows=rows, times={5, 7, 8}, total_rows=[])  # no totals row: a list of people


def _local(moment: datetime | None) -> datetime | None:
    """A moment as the sheet shows it: in the shop's time zone, without the zone (spreadsheets keep none)."""
    return aware(moment).astimezone(ZoneInfo(shop_zone())).replace(tzinfo=None) if moment else None
