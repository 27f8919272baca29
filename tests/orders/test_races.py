"""Read-time expiry under concurrency: several pages (and the cron command) reading one overdue order at
once cancel it once and give its stock back once. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from shop.catalog.models import Product, StockMovement, StockReason
from shop.extensions import db
from shop.orders import service
from shop.orders.models import Order, OrderEvent, OrderStatus
from shop.timeutil import utcnow
from tests import factories as f
from tests.helpers import at_once, buyer_client


def run_expiry_command(app) -> list[str]:
    with app.app_context():
        try:
            numbers = service.expire_overdue_orders()
            db.session.commit()
            return numbers
        finally:
            db.session.remove()


def test_an_overdue_order_read_by_many_pages_at_once_gives_its_stock_back_exactly_once(app):
    item = f.product(stock=50)
    placed = [f.order({item: 2}) for _ in range(5)]
    db.session.commit()
    numbers = [order.number for order in placed]
    app.config["FROZEN_NOW"] = utcnow() + timedelta(hours=3)
    browsers = [buyer_client(app, *numbers) for _ in range(4)]

    for number in numbers:
        pages = [lambda b=b, n=number, page=page: b.get(f"/pesanan/{n}{page}").status_code
                 for b, page in zip(browsers, ["", "/bayar", "", "/bayar"], strict=True)]
        results = at_once(*pages, lambda: run_expiry_command(app))
        assert results[:4] == [200, 200, 200, 200]

    db.session.expire_all()
    assert db.session.scalar(select(Product.stock).where(Product.id == item.id)) == 50  # no phantom stock
    released = db.session.scalar(select(func.count()).select_from(StockMovement).where(
        StockMovement.reason == StockReason.ORDER_RELEASED))
    cancelled = db.session.scalar(select(func.count()).select_from(OrderEvent).where(
        OrderEvent.to_status == OrderStatus.CANCELLED))
    assert (released, cancelled) == (5, 5)
    assert set(db.session.scalars(select(Order.status))) == {OrderStatus.CANCELLED}


def test_an_order_paid_at_the_moment_it_expires_stays_paid_with_its_stock_taken(app):
    item = f.product(stock=5)
    order = f.order({item: 1})
    db.session.commit()
    app.config["FROZEN_NOW"] = utcnow() + timedelta(hours=3)

    def pay() -> str:
        with app.app_context():
            try:
                fresh = db.session.get(Order, order.id)
                service.mark_paid(fresh, note="transfer")
                db.session.commit()
                return "paid"
            except service.IllegalTransition:
                db.session.rollback()
                return "too late"
            finally:
                db.session.remove()

    outcome, _ = at_once(pay, lambda: run_expiry_command(app))

    db.session.expire_all()
    stock = db.session.scalar(select(Product.stock).where(Product.id == item.id))
    if outcome == "paid":
        assert (order.status, order.stock_released, stock) == (OrderStatus.PAID, False, 4)
    else:
        assert (order.status, order.stock_released, stock) == (OrderStatus.CANCELLED, True, 5)
