"""The order state machine: every legal move works and is recorded; every illegal one is refused.

The expected table is written out here, not read back from `TRANSITIONS`, so a change to the table that
nobody meant shows up as a failing test.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from shop.catalog.models import Product
from shop.extensions import db
from shop.orders import service
from shop.orders.models import TRANSITIONS, OrderEvent, OrderStatus
from tests import factories as f

S = OrderStatus
# Goods move forward only; cancelling is possible until the parcel leaves, never after.
EXPECTED = {
    (S.AWAITING_PAYMENT, S.PAID), (S.AWAITING_PAYMENT, S.CANCELLED),
    (S.PAID, S.PACKED), (S.PAID, S.CANCELLED),
    (S.PACKED, S.SHIPPED), (S.PACKED, S.CANCELLED),
    (S.SHIPPED, S.DELIVERED),
}
LEGAL = sorted(EXPECTED)
ILLEGAL = sorted((a, b) for a, b in itertools.product(S, S) if (a, b) not in EXPECTED)

# How to bring a fresh order into each state through legal moves only.
PATHS = {
    S.AWAITING_PAYMENT: [],
    S.PAID: [S.PAID],
    S.PACKED: [S.PAID, S.PACKED],
    S.SHIPPED: [S.PAID, S.PACKED, S.SHIPPED],
    S.DELIVERED: [S.PAID, S.PACKED, S.SHIPPED, S.DELIVERED],
    S.CANCELLED: [S.CANCELLED],
}


def order_in(status: OrderStatus):
    order = f.order()
    for step in PATHS[status]:
        service.transition(order, step, note="setup")
    assert order.status is status
    return order


def test_the_statuses_are_where_the_goods_are_and_the_table_is_the_expected_one():
    assert {s.value for s in S} == {"awaiting_payment", "paid", "packed", "shipped", "delivered", "cancelled"}
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == EXPECTED


@pytest.mark.parametrize("start, target", LEGAL, ids=[f"{a.value}->{b.value}" for a, b in LEGAL])
def test_a_legal_move_changes_the_status_and_records_an_event(start, target):
    order = order_in(start)
    staff = f.user("fulfilment")

    service.transition(order, target, actor=staff, note="by the test")
    db.session.commit()
    db.session.expire_all()

    assert order.status is target
    last = order.events[-1]
    assert (last.from_status, last.to_status, last.actor, last.note) == (start, target, staff.email, "by the test")


@pytest.mark.parametrize("start, target", ILLEGAL, ids=[f"{a.value}->{b.value}" for a, b in ILLEGAL])
def test_an_illegal_move_is_refused_and_changes_nothing(start, target):
    order = order_in(start)
    events = db.session.query(OrderEvent).filter_by(order_id=order.id).count()

    with pytest.raises(service.IllegalTransition):
        service.transition(order, target)

    db.session.expire_all()
    assert order.status is start
    assert db.session.query(OrderEvent).filter_by(order_id=order.id).count() == events


def test_mark_paid_moves_the_order_once_and_stamps_the_time():
    order = f.order()

    service.mark_paid(order, note="card")
    with pytest.raises(service.IllegalTransition):
        service.mark_paid(order)

    assert order.status is S.PAID and order.paid_at is not None and order.expires_at is None


@pytest.mark.parametrize("start", [S.AWAITING_PAYMENT, S.PAID, S.PACKED])
def test_cancelling_before_shipping_needs_a_reason_and_puts_the_stock_back_once(start):
    item = f.product(stock=5)
    order = f.order({item: 3})
    for step in PATHS[start]:
        service.transition(order, step)
    assert db.session.scalar(select(Product.stock).where(Product.id == item.id)) == 2

    with pytest.raises(service.OrderError):
        service.cancel_order(order, reason=" ")
    service.cancel_order(order, reason="buyer asked")
    db.session.commit()

    assert db.session.scalar(select(Product.stock).where(Product.id == item.id)) == 5 and order.stock_released
    with pytest.raises(service.IllegalTransition):
        service.cancel_order(order, reason="again")
    assert db.session.scalar(select(Product.stock).where(Product.id == item.id)) == 5


@pytest.mark.parametrize("start", [S.SHIPPED, S.DELIVERED])
def test_goods_that_left_cannot_be_cancelled_back_onto_the_shelf(start):
    item = f.product(stock=5)
    order = f.order({item: 2})
    for step in PATHS[start]:
        service.transition(order, step)

    with pytest.raises(service.IllegalTransition):
        service.cancel_order(order, reason="buyer changed their mind")

    assert db.session.scalar(select(Product.stock).where(Product.id == item.id)) == 3
    assert order.status is start and not order.stock_released


def test_a_move_made_from_a_stale_copy_is_refused_with_the_fresh_status():
    """Another request cancelled the order after this one read it: its 'paid' must not overwrite that."""
    order = f.order()
    db.session.commit()
    other = db.engine.connect()
    other.execute(db.text('UPDATE "order" SET status = \'cancelled\', stock_released = true WHERE id = :id'),
                  {"id": order.id})
    other.commit()
    other.close()

    with pytest.raises(service.IllegalTransition) as refused:
        service.mark_paid(order)

    assert refused.value.current is S.CANCELLED and order.status is S.CANCELLED
