"""Stock on hand and its history: every change is one conditional UPDATE plus one StockMovement."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop import metrics
from shop.accounts.models import User
from shop.audit.service import record
from shop.catalog import lots
from shop.catalog.cache import note_stock_change
from shop.catalog.models import Lot, Product, StockMovement, StockReason
from shop.extensions import db
from shop.timeutil import today, utcnow

LOT_CODE = re.compile(r"[A-Z0-9][A-Z0-9./-]{0,39}")
MAX_LOT = 100_000


class NotEnoughStock(Exception):
    def __init__(self, product_name: str, available: int) -> None:
        super().__init__(product_name)
        self.product_name = product_name
        self.available = available


def change_stock(product_id: int, delta: int, reason: StockReason, *, order_id: int | None = None,
                 user_id: int | None = None, note: str = "", lot_id: int | None = None,
                 direct_sale_id: int | None = None) -> bool:
    """Add `delta` (negative takes) in one statement that never lets stock go below zero; False if short.

    The product's row is updated first: it stays locked until the caller commits, so the lots read next cannot
    change under this change (`shop.catalog.lots`). Units taken come from `lot_id`, or first expiring first out;
    units given back go to `lot_id`, or to the lots the order took them from. Each lot's part is a movement of its
    own. When too little is left the caller rolls back.
    """
    statement = update(Product).where(Product.id == product_id)
    if delta < 0:
        statement = statement.where(Product.stock >= -delta)
    changed = db.session.execute(statement.values(stock=Product.stock + delta)
                                 .returning(Product.stock, Product.slug, Product.lotted)
                                 .execution_options(synchronize_session=False)).first()
    if changed is None:
        return False
    after, slug, lotted = changed
    if delta < 0:
        parts = lots.take(product_id, -delta, after - delta, lot_id, lotted=lotted)
        if parts is None:
            return False
    else:
        parts = lots.give_back(product_id, delta, order_id, lot_id, lotted=lotted)
    now = utcnow()
    for part in parts:
        db.session.add(StockMovement(product_id=product_id, delta=part.delta, reason=reason, order_id=order_id,
                                     direct_sale_id=direct_sale_id, lot_id=part.lot_id, user_id=user_id, note=note,
                                     at=now))
        if not part.sellable:  # back to a lot set aside (or recalled) meanwhile: it leaves stock with the lot
            db.session.add(StockMovement(product_id=product_id, delta=-part.delta,
                                         reason=StockReason.RECALLED if part.recalled else StockReason.EXPIRED,
                                         order_id=order_id, direct_sale_id=direct_sale_id, lot_id=part.lot_id,
                                         at=now))
    unsold = sum(part.delta for part in parts if not part.sellable)
    if unsold:
        db.session.execute(update(Product).where(Product.id == product_id).values(stock=Product.stock - unsold)
                           .execution_options(synchronize_session=False))
        after -= unsold
    db.session.flush()
    note_stock_change(db.session(), slug, after - delta + unsold, after)  # the pages that show it change with it
    return True


def _sold_out() -> list[tuple[dict[str, str], float]]:
    count = db.session.scalar(select(func.count()).select_from(Product).where(Product.active.is_(True),
                                                                              Product.stock <= 0))
    return [({}, float(count or 0))]


metrics.register_gauge("kb_products_sold_out", "Products on sale with no stock left", _sold_out)


def adjust_stock(product: Product, delta: int, reason: StockReason, *, note: str, actor: User | None,
                 lot_id: int | None = None) -> int:
    """A staff adjustment (batch received, damaged, count correction) of one of the product's lots, or first expiring
    first out; returns the new stock."""
    if reason not in (StockReason.PRODUCTION, StockReason.DAMAGED, StockReason.CORRECTION):
        raise ValueError(reason)
    if delta == 0:
        raise ValueError("delta")
    if actor is not None and not actor.can_manage_facility(product.facility_id):
        raise PermissionError("not this facility's staff")
    if lot_id is not None and db.session.scalar(select(Lot.product_id).where(Lot.id == lot_id)) != product.id:
        raise ValueError("lot")
    before = current_stock(product.id)
    if not change_stock(product.id, delta, reason, user_id=getattr(actor, "id", None), note=note.strip(),
                        lot_id=lot_id):
        raise NotEnoughStock(product.name, before)
    after = current_stock(product.id)
    db.session.refresh(product, ["stock"])
    record("stock.adjust", product, {"stock": before}, {"stock": after}, note=f"{reason.value}: {note}".strip(),
           actor=actor)
    return after


def current_stock(product_id: int) -> int:
    return db.session.scalar(select(Product.stock).where(Product.id == product_id)) or 0


def movements_total(product_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(StockMovement.delta), 0))
                             .where(StockMovement.product_id == product_id)) or 0


def history(product_id: int, limit: int = 100) -> list[StockMovement]:
    return list(db.session.scalars(select(StockMovement).where(StockMovement.product_id == product_id)
                                   .options(selectinload(StockMovement.lot))
                                   .order_by(StockMovement.at.desc(), StockMovement.id.desc()).limit(limit)))


# -- lots: received from the workshop, set aside near their best-before date

class LotInvalid(Exception):
    """What is wrong with a lot to be received, field by field, in the reader's language."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def receive_lot(product: Product, code: str, produced_on: date | None, best_before: date | None, quantity: int,
                *, actor: User | None) -> Lot:
    """A delivery of `quantity` units from the workshop as a lot of its own (code as printed on the label). Food
    (a category that needs halal, BPOM or P-IRT) must carry both dates. Refused whole, with every reason, by
    LotInvalid; the caller commits."""
    code = code.strip().upper()
    errors = {}
    if not LOT_CODE.fullmatch(code):
        errors["code"] = _("A lot code has 1 to 40 letters, digits, dots, slashes or hyphens, as printed on the label.")
    elif db.session.scalar(select(Lot.id).where(Lot.product_id == product.id, Lot.code == code)) is not None:
        errors["code"] = _("This product already has a lot %(code)s: each lot code once.", code=code)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_LOT:
        errors["quantity"] = _("Enter how many units came, a whole number from 1 to %(max)s.", max=MAX_LOT)
    if product.category.required_certs and (produced_on is None or best_before is None):
        errors["best_before"] = _("Food needs its production and best-before dates, as on the label.")
    elif produced_on and best_before and best_before < produced_on:
        errors["best_before"] = _("The best-before date cannot come before the production date.")
    if produced_on and produced_on > today():
        errors["produced_on"] = _("The production date cannot be in the future.")
    if actor is not None and not actor.can_manage_facility(product.facility_id):
        raise PermissionError("not this facility's staff")
    if errors:
        raise LotInvalid(errors)
    lot = Lot(product_id=product.id, code=code, produced_on=produced_on, best_before=best_before,
              received_qty=quantity, on_hand=0, received_by_id=getattr(actor, "id", None), received_at=utcnow())
    try:
        with db.session.begin_nested():  # the same code received at the same moment (a double click): said once
            db.session.add(lot)
            db.session.flush()
    except IntegrityError as taken:
        raise LotInvalid({"code": _("This product already has a lot %(code)s: each lot code once.", code=code)}
                         ) from taken
    lots.mark_lotted(product.id)
    before = current_stock(product.id)
    change_stock(product.id, quantity, StockReason.PRODUCTION, lot_id=lot.id, user_id=getattr(actor, "id", None),
                 note=code)
    db.session.refresh(product, ["stock"])
    record("lot.receive", product, {"stock": before}, {"stock": product.stock, "lot": code, "quantity": quantity,
                                                       "best_before": best_before.isoformat() if best_before else ""},
           actor=actor)
    return lot


def set_aside_due_lots() -> int:
    """Lots whose best-before date leaves less than the minimum shelf life are taken off sale: their units leave
    stock with an "expired" movement (the product's row locked first, as a sale would). Returns how many lots.
    Safe to run twice at once: a lot already set aside is skipped."""
    limit = lots.shelf_life_limit()
    due = list(db.session.scalars(select(Lot).where(Lot.best_before < limit, Lot.set_aside_at.is_(None))
                                  .execution_options(populate_existing=True)
                                  .order_by(Lot.product_id, Lot.id)))
    count = 0
    for lot in due:
        units, slug = lot.on_hand, ""
        if units:
            taken = db.session.execute(update(Product).where(Product.id == lot.product_id, Product.stock >= units)
                                       .values(stock=Product.stock - units).returning(Product.slug)
                                       .execution_options(synchronize_session=False)).first()
            if taken is None:
                continue
            slug = taken[0]
        moved = db.session.execute(update(Lot).where(Lot.id == lot.id, Lot.set_aside_at.is_(None),
                                                     Lot.on_hand == units)
                                   .values(on_hand=0, set_aside=Lot.set_aside + units, set_aside_at=utcnow())
                                   .execution_options(synchronize_session=False))
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()  # another run or a sale changed it meanwhile: the next run sees it anew
            return count
        if units:
            db.session.add(StockMovement(product_id=lot.product_id, delta=-units, reason=StockReason.EXPIRED,
                                         lot_id=lot.id, note=lot.code, at=utcnow()))
            note_stock_change(db.session(), slug, units, 0)
        db.session.commit()
        count += 1
    return count


def lots_of(product_id: int) -> list[Lot]:
    return list(db.session.scalars(select(Lot).where(Lot.product_id == product_id)
                                   .execution_options(populate_existing=True)
                                   .order_by(*lots.first_out_order())))


def swap_out_of_lot(product_id: int, order_id: int, lot_id: int, units: int) -> bool:
    """An order not yet packed holds `units` of a lot being recalled: it gets as many of the product's other lots
    instead (first expiring first out), and those of the recalled lot stay off sale with it. False, changing
    nothing, when the other lots do not hold enough (the order stays on the recall's list)."""
    with db.session.begin_nested() as savepoint:
        change_stock(product_id, units, StockReason.ORDER_RELEASED, order_id=order_id, lot_id=lot_id,
                     note="penarikan batch")
        if change_stock(product_id, -units, StockReason.ORDER, order_id=order_id, note="penarikan batch"):
            return True
        savepoint.rollback()
    return False


LOT_ALERT_DAYS = 14  # lots that will be set aside within this many days are shown to staff and mailed daily


def lots_nearing_limit(facility_id: int | None = None, days: int = LOT_ALERT_DAYS) -> list[tuple[Lot, date]]:
    """Lots still on sale that will be set aside within `days` (their best-before date less the minimum shelf
    life), with the day they will be, soonest first: to promote or discount while they can still be sold."""
    limit = lots.shelf_life_limit()
    query = (select(Lot).join(Product).where(Lot.on_hand > 0, Lot.set_aside_at.is_(None), Lot.best_before >= limit,
                                             Lot.best_before < limit + timedelta(days=days))
             .options(selectinload(Lot.product)).order_by(Lot.best_before, Lot.id)
             .execution_options(populate_existing=True))
    if facility_id is not None:
        query = query.where(Product.facility_id == facility_id)
    shelf = timedelta(days=current_app.config["MIN_SHELF_LIFE_DAYS"])
    return [(lot, lot.best_before - shelf) for lot in db.session.scalars(query) if lot.best_before]
