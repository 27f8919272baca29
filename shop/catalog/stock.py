"""Stock on hand and its history: every change is one conditional UPDATE plus one StockMovement."""

from __future__ import annotations

from sqlalchemy import func, select, update

from shop.accounts.models import User
from shop.audit.service import record
from shop.catalog.cache import note_stock_change
from shop.catalog.models import Product, StockMovement, StockReason
from shop.extensions import db
from shop.timeutil import utcnow


class NotEnoughStock(Exception):
    def __init__(self, product_name: str, available: int) -> None:
        super().__init__(product_name)
        self.product_name = product_name
        self.available = available


def change_stock(product_id: int, delta: int, reason: StockReason, *, order_id: int | None = None,
                 user_id: int | None = None, note: str = "") -> bool:
    """Add `delta` (negative takes) in one statement that never lets stock go below zero; False if short.

    The movement row is written first, so the UPDATE is the last statement before the caller commits (the
    product row stays locked only that long); when the UPDATE finds too little stock the caller rolls back.
    """
    db.session.add(StockMovement(product_id=product_id, delta=delta, reason=reason, order_id=order_id,
                                 user_id=user_id, note=note, at=utcnow()))
    db.session.flush()
    statement = update(Product).where(Product.id == product_id)
    if delta < 0:
        statement = statement.where(Product.stock >= -delta)
    changed = db.session.execute(statement.values(stock=Product.stock + delta).returning(Product.stock, Product.slug)
                                 .execution_options(synchronize_session=False)).first()
    if changed is None:
        return False
    after, slug = changed
    note_stock_change(db.session(), slug, after - delta, after)  # the pages that show it change with it
    return True


def adjust_stock(product: Product, delta: int, reason: StockReason, *, note: str, actor: User | None) -> int:
    """A staff adjustment (batch received, damaged, count correction); returns the new stock."""
    if reason not in (StockReason.PRODUCTION, StockReason.DAMAGED, StockReason.CORRECTION):
        raise ValueError(reason)
    if delta == 0:
        raise ValueError("delta")
    if actor is not None and not actor.can_manage_facility(product.facility_id):
        raise PermissionError("not this facility's staff")
    before = current_stock(product.id)
    if not change_stock(product.id, delta, reason, user_id=getattr(actor, "id", None), note=note.strip()):
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
                                   .order_by(StockMovement.at.desc(), StockMovement.id.desc()).limit(limit)))
