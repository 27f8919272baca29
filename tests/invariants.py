"""What must hold after any failure: nothing half-written, no unit of stock lost or sold twice, a clean ledger."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.catalog.models import Product, StockMovement, StockReason
from shop.extensions import db
from shop.ledger.queries import verify
from shop.orders.models import Order, OrderEvent, OrderLine


def assert_nothing_lost(received: dict[int, int]) -> None:
    """`received`: product id → the units the shop received. Every order is whole (number, lines, its 'placed'
    event); per product, stock on hand plus the units held by orders that have not released theirs equals what
    was received, and what orders hold is what their stock movements took; `ledger verify` finds nothing."""
    db.session.expire_all()
    for order in db.session.scalars(select(Order)):
        assert order.number and order.lines, f"half-written order {order.id}"
        assert db.session.scalar(select(func.count()).select_from(OrderEvent).where(
            OrderEvent.order_id == order.id)) >= 1, f"order {order.number} has no history"
    held = dict(db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity)).join(Order)
        .where(Order.stock_released.is_(False)).group_by(OrderLine.product_id)).tuples().all())
    # What orders took and gave back, by the stock movements they wrote.
    by_orders = dict(db.session.execute(
        select(StockMovement.product_id, func.sum(StockMovement.delta))
        .where(StockMovement.reason.in_((StockReason.ORDER, StockReason.ORDER_RELEASED)))
        .group_by(StockMovement.product_id)).tuples().all())
    for product_id, units in received.items():
        stock = db.session.get(Product, product_id).stock
        assert stock >= 0
        assert stock + held.get(product_id, 0) == units, (product_id, stock, held.get(product_id, 0), units)
        assert -by_orders.get(product_id, 0) == held.get(product_id, 0), (product_id, by_orders.get(product_id))
    assert verify() == []
