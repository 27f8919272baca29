"""Concurrent buyers never oversell, and a crash in the middle of placing an order leaves nothing written."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from shop.catalog.models import Product, StockMovement
from shop.extensions import db
from shop.orders import service
from shop.orders.models import Order, OrderEvent, OrderLine
from tests import factories as f
from tests.conftest import is_postgres

BUYERS = 24


@pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test (CI runs both)")
def test_twenty_four_concurrent_buyers_get_exactly_the_ten_units_in_stock(app):
    item = f.product(stock=10, name_id="Tas Rajut Tote")
    ship = f.courier()
    db.session.commit()
    item_id, courier_id = item.id, ship.id
    start = threading.Barrier(BUYERS)
    results: list[str] = []
    lock = threading.Lock()

    def buyer(n: int) -> None:
        with app.app_context():  # its own session, its own connection
            start.wait()
            try:
                service.place_order({item_id: 1}, f.BUYER, courier_id)
                db.session.commit()
                outcome = "bought"
            except service.OutOfStock as error:
                db.session.rollback()
                outcome = f"sold out ({error.available} left)"
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == BUYERS
    assert results.count("bought") == 10
    assert results.count("sold out (0 left)") == BUYERS - 10
    db.session.expire_all()
    assert db.session.get(Product, item_id).stock == 0
    assert db.session.scalar(select(func.count()).select_from(Order)) == 10
    assert db.session.scalar(select(func.sum(OrderLine.quantity))) == 10
    numbers = db.session.scalars(select(Order.number)).all()
    assert len(set(numbers)) == 10 and all(numbers)


def test_a_crash_after_the_stock_was_taken_leaves_no_half_written_order(monkeypatch):
    first = f.product(stock=3)
    second = f.product(stock=3)
    ship = f.courier()
    db.session.commit()

    take_stock = service._take_stock
    taken = []

    def crash_after_the_first_line(product, quantity, order_id):
        take_stock(product, quantity, order_id)
        taken.append(product.id)
        raise RuntimeError("power cut")

    monkeypatch.setattr(service, "_take_stock", crash_after_the_first_line)
    with pytest.raises(RuntimeError):
        service.place_order({first.id: 2, second.id: 1}, f.BUYER, ship.id)
    db.session.rollback()

    assert taken == [first.id]
    assert db.session.scalar(select(Product.stock).where(Product.id == first.id)) == 3
    assert db.session.scalar(select(Product.stock).where(Product.id == second.id)) == 3
    for model in (Order, OrderLine, OrderEvent, StockMovement):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_an_order_for_more_than_the_stock_fails_whole_even_when_other_lines_fit():
    plenty = f.product(stock=50)
    scarce = f.product(stock=1, name_id="Kursi Kayu Jati")
    ship = f.courier()
    db.session.commit()

    with pytest.raises(service.OutOfStock) as error:
        service.place_order({plenty.id: 5, scarce.id: 2}, f.BUYER, ship.id)
    db.session.rollback()

    assert (error.value.product_name, error.value.available) == ("Kursi Kayu Jati", 1)
    assert db.session.scalar(select(Product.stock).where(Product.id == plenty.id)) == 50
