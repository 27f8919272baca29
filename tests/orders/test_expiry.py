"""Unpaid orders give their stock back when their time runs out: at read time, and by the cron command."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import EventCode, OrderStatus
from shop.timeutil import utcnow
from tests import factories as f


def stock_of(product: Product) -> int:
    return db.session.scalar(select(Product.stock).where(Product.id == product.id))


def test_an_unpaid_order_expires_after_the_configured_minutes_when_its_page_is_read(app, client):
    item = f.product(stock=4)
    order = f.order({item: 3})
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]
    start = utcnow()

    app.config["FROZEN_NOW"] = start + timedelta(minutes=59)
    assert "menunggu pembayaran" in client.get(f"/pesanan/{order.number}").get_data(as_text=True)
    assert stock_of(item) == 1

    app.config["FROZEN_NOW"] = start + timedelta(minutes=61)
    page = client.get(f"/pesanan/{order.number}").get_data(as_text=True)

    assert "dibatalkan" in page
    assert stock_of(item) == 4


def test_the_payment_window_is_configurable(app):
    app.config["ORDER_PAYMENT_MINUTES"] = 15
    try:
        order = f.order()
        assert order.expires_at - order.created_at == timedelta(minutes=15)
    finally:
        app.config["ORDER_PAYMENT_MINUTES"] = 60


def test_the_cron_command_expires_every_overdue_order_and_only_those(app):
    item = f.product(stock=10)
    old = f.order({item: 2})
    db.session.commit()
    app.config["FROZEN_NOW"] = utcnow() + timedelta(minutes=45)
    recent = f.order({item: 3})
    paid = f.order({item: 1})
    from shop.orders.service import mark_paid
    mark_paid(paid)
    db.session.commit()
    app.config["FROZEN_NOW"] = utcnow() + timedelta(minutes=20)  # old is 65 min old, recent 20

    result = app.test_cli_runner().invoke(args=["orders", "expire"])

    assert result.exit_code == 0, result.output
    assert f"1 expired: {old.number}" in result.output
    db.session.expire_all()
    assert (old.status, recent.status, paid.status) == (OrderStatus.CANCELLED, OrderStatus.AWAITING_PAYMENT,
                                                        OrderStatus.PAID)
    assert stock_of(item) == 10 - 3 - 1
    assert old.events[-1].code is EventCode.EXPIRED and old.events[-1].actor == "system"
