"""Lots (batches) of a product and which of their units a stock change takes or gives back: first expiring, first
out. `shop.catalog.stock.change_stock` asks here once it holds the product's row lock, so the lots it reads cannot
change under it. Lots are changed by UPDATE statements, past the ORM: every read of them here refreshes the
session's copies (`populate_existing`), or a second change in one transaction would see the first one's numbers.
A product without lots (a craft) keeps a plain stock and is left alone here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, update

from shop.catalog.models import Lot, Product, StockMovement, StockReason
from shop.extensions import db
from shop.timeutil import today

# The reasons by which an order takes units and gives them back: their sum per lot is what the order holds.
ORDER_REASONS = (StockReason.ORDER, StockReason.ORDER_RELEASED, StockReason.RETURNED)


@dataclass(frozen=True)
class Part:
    """A part of a stock change that falls on one lot (or on no lot, for a product without lots)."""

    lot_id: int | None
    delta: int
    sellable: bool = True  # False: units given back to a lot that was set aside meanwhile, which leave it at once
    recalled: bool = False  # that lot was recalled (else it neared its best-before date)


def shelf_life_limit(day: date | None = None) -> date:
    """The earliest best-before date a unit may have to be sold on `day`: MIN_SHELF_LIFE_DAYS ahead (a buyer must
    have time to eat it)."""
    return (day or today()) + timedelta(days=current_app.config["MIN_SHELF_LIFE_DAYS"])


def sellable(lot: Lot, limit: date) -> bool:
    return lot.best_before is None or lot.best_before >= limit


def first_out_order() -> tuple[Any, ...]:
    """The order lots are sold in: the opening lot (stock from before lots, no dates) first, then the earliest
    best-before date, lots without one after those with one, oldest first."""
    return (Lot.opening.desc(), Lot.best_before.asc().nulls_last(), Lot.id)


def next_best_before() -> Any:
    """A product's next best-before date as a column of a query of products (a correlated subquery, no query of
    its own): the date of the units a buyer would receive next, None for units without one."""
    return (select(Lot.best_before)
            .where(Lot.product_id == Product.id, Lot.on_hand > 0,
                   or_(Lot.best_before.is_(None), Lot.best_before >= shelf_life_limit()))
            .order_by(*first_out_order()).limit(1).correlate(Product).scalar_subquery())


def take(product_id: int, quantity: int, stock_before: int, lot_id: int | None = None, *,
         lotted: bool = True) -> list[Part] | None:
    """Which lots `quantity` units come from: `lot_id`'s alone, or first expiring first out among the lots that may
    still be sold; their `on_hand` is lowered. Units of the product's stock that are in no lot (`stock_before` less
    what its lots hold: stock from before its first lot) go first, as an opening lot would. None when they do not
    hold enough (the caller rolls back)."""
    if not lotted and not lot_id:
        return [Part(None, -quantity)]
    query = select(Lot).where(Lot.product_id == product_id).execution_options(populate_existing=True)
    lots = list(db.session.scalars(query.where(Lot.id == lot_id) if lot_id else query.order_by(*first_out_order())))
    if not lots:
        return None if lot_id else [Part(None, -quantity)]
    limit = shelf_life_limit()
    parts, left = [], quantity
    unlotted = 0 if lot_id else stock_before - sum(lot.on_hand for lot in lots)
    if unlotted > 0:
        parts.append(Part(None, -min(unlotted, left)))
        left -= min(unlotted, left)
    for lot in lots:
        if left == 0:
            break
        if lot.on_hand <= 0 or (not lot_id and not sellable(lot, limit)):
            continue
        taken = min(lot.on_hand, left)
        moved = db.session.execute(update(Lot).where(Lot.id == lot.id, Lot.on_hand >= taken)
                                   .values(on_hand=Lot.on_hand - taken).execution_options(synchronize_session=False))
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return None
        parts.append(Part(lot.id, -taken))
        left -= taken
    return parts if left == 0 else None


def give_back(product_id: int, quantity: int, order_id: int | None, lot_id: int | None = None, *,
              lotted: bool = True) -> list[Part]:
    """Which lots `quantity` units go back to: `lot_id`; else, for an order's units (a cancellation, a return), the
    lots the order took them from, the latest best-before first; else the product's opening lot (or no lot, for a
    product without lots). Units given back to a lot that was set aside meanwhile are set aside with it."""
    if lot_id is None and not lotted:
        return [Part(None, quantity)]
    targets: list[tuple[Lot | None, int]]
    if lot_id is not None:
        targets = [(db.session.get(Lot, lot_id, populate_existing=True), quantity)]
    else:
        targets = list(_taken_by(product_id, order_id, quantity)) if order_id else []
        if not targets:
            opening = db.session.scalar(select(Lot).where(Lot.product_id == product_id, Lot.opening.is_(True))
                                        .execution_options(populate_existing=True))
            targets = [(opening or opening_lot(product_id), quantity)]
    parts = []
    for lot, units in targets:
        assert lot is not None  # noqa: S101 - a lot id from this product's own movements or the caller
        if lot.set_aside_at is None:
            db.session.execute(update(Lot).where(Lot.id == lot.id).values(on_hand=Lot.on_hand + units)
                               .execution_options(synchronize_session=False))
            parts.append(Part(lot.id, units))
        else:
            db.session.execute(update(Lot).where(Lot.id == lot.id).values(set_aside=Lot.set_aside + units)
                               .execution_options(synchronize_session=False))
            parts.append(Part(lot.id, units, sellable=False, recalled=lot.recalled_at is not None))
    return parts


def _taken_by(product_id: int, order_id: int, quantity: int) -> list[tuple[Lot, int]]:
    """The lots an order still holds units of (taken less given back), latest best-before first, up to `quantity`."""
    held = func.sum(StockMovement.delta)
    rows = db.session.execute(
        select(Lot, held).join(StockMovement, StockMovement.lot_id == Lot.id)
        .where(StockMovement.product_id == product_id, StockMovement.order_id == order_id,
               StockMovement.reason.in_(ORDER_REASONS))
        .group_by(Lot.id).having(held < 0)
        .order_by(Lot.best_before.desc().nulls_first(), Lot.id.desc())
        .execution_options(populate_existing=True)).tuples().all()
    targets, left = [], quantity
    for lot, total in rows:
        units = min(-int(total), left)
        if units > 0:
            targets.append((lot, units))
            left -= units
    if left and targets:  # more than it took (should not happen): the rest to the first lot
        targets[0] = (targets[0][0], targets[0][1] + left)
    return targets


def opening_lot(product_id: int) -> Lot:
    """The product's lot for units without a lot of their own (a count found more): no dates, sold first."""
    lot = Lot(product_id=product_id, code=OPENING_CODE, received_qty=0, on_hand=0, opening=True)
    db.session.add(lot)
    mark_lotted(product_id)
    db.session.flush()
    return lot


def mark_lotted(product_id: int) -> None:
    """The product's stock is kept in lots from now on (its first lot)."""
    db.session.execute(update(Product).where(Product.id == product_id, Product.lotted.is_(False))
                       .values(lotted=True).execution_options(synchronize_session=False))


OPENING_CODE = "AWAL"  # the lot of stock from before lots (migration) or without a code of its own


def held_by_order(order_id: int) -> dict[int, list[tuple[Lot, int]]]:
    """Product id → the lots an order holds units of and how many (first expiring first): for the packing slip and
    the label, which name each line's lot and best-before date."""
    held: dict[int, list[tuple[Lot, int]]] = {}
    total = func.sum(StockMovement.delta)
    rows = db.session.execute(
        select(StockMovement.product_id, Lot, total).join(Lot, StockMovement.lot_id == Lot.id)
        .where(StockMovement.order_id == order_id,
               StockMovement.reason.in_(ORDER_REASONS))
        .group_by(StockMovement.product_id, Lot.id).having(total < 0)
        .order_by(Lot.best_before.asc().nulls_first(), Lot.id).execution_options(populate_existing=True)).tuples()
    for product_id, lot, units in rows:
        held.setdefault(product_id, []).append((lot, -int(units)))
    return held
