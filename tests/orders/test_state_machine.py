"""The order state machine: every legal move works and is recorded; every illegal one is refused."""

from __future__ import annotations

import itertools

import pytest

from shop.extensions import db
from shop.orders import service
from shop.orders.models import TRANSITIONS, OrderEvent, OrderStatus
from tests import factories as f

S = OrderStatus
LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
ILLEGAL = [(a, b) for a, b in itertools.product(S, S) if b not in TRANSITIONS[a]]

# How to bring a fresh order into each state through legal moves only.
PATHS = {
    S.AWAITING_PAYMENT: [],
    S.PAID: [S.PAID],
    S.PACKED: [S.PAID, S.PACKED],
    S.SHIPPED: [S.PAID, S.PACKED, S.SHIPPED],
    S.DELIVERED: [S.PAID, S.PACKED, S.SHIPPED, S.DELIVERED],
    S.CANCELLED: [S.CANCELLED],
    S.REFUNDED: [S.PAID, S.REFUNDED],
    S.PARTIALLY_REFUNDED: [S.PAID, S.PARTIALLY_REFUNDED],
}


def order_in(status: OrderStatus):
    order = f.order()
    for step in PATHS[status]:
        service.transition(order, step, note="setup")
    assert order.status is status
    return order


def test_the_table_names_every_status_and_the_expected_flow():
    assert set(TRANSITIONS) == set(S)
    assert S.PAID in TRANSITIONS[S.AWAITING_PAYMENT] and S.DELIVERED in TRANSITIONS[S.SHIPPED]
    assert not TRANSITIONS[S.CANCELLED] and not TRANSITIONS[S.REFUNDED]


@pytest.mark.parametrize("start, target", LEGAL, ids=[f"{a.value}->{b.value}" for a, b in LEGAL])
def test_a_legal_move_changes_the_status_and_records_an_event(start, target):
    order = order_in(start)
    staff = f.user("fulfilment")

    service.transition(order, target, actor=staff, note="by the test")
    db.session.commit()

    assert order.status is target
    last = order.events[-1]
    assert (last.from_status, last.to_status, last.actor, last.note) == (start, target, staff.email, "by the test")


@pytest.mark.parametrize("start, target", ILLEGAL, ids=[f"{a.value}->{b.value}" for a, b in ILLEGAL])
def test_an_illegal_move_is_refused_and_changes_nothing(start, target):
    order = order_in(start)
    events = db.session.query(OrderEvent).filter_by(order_id=order.id).count()

    with pytest.raises(service.IllegalTransition):
        service.transition(order, target)

    assert order.status is start
    assert db.session.query(OrderEvent).filter_by(order_id=order.id).count() == events


def test_mark_paid_is_the_one_hook_point_and_calls_the_paid_hooks_once(monkeypatch):
    seen = []
    monkeypatch.setattr(service, "paid_hooks", [seen.append])
    order = f.order()

    service.mark_paid(order, note="card")
    with pytest.raises(service.IllegalTransition):
        service.mark_paid(order)

    assert seen == [order] and order.paid_at is not None


def test_cancelling_needs_a_reason_and_puts_the_stock_back_once():
    item = f.product(stock=5)
    order = f.order({item: 3})
    db.session.refresh(item)
    assert item.stock == 2

    with pytest.raises(service.OrderError):
        service.cancel_order(order, reason=" ")
    service.cancel_order(order, reason="buyer asked")
    db.session.commit()
    db.session.refresh(item)

    assert item.stock == 5 and order.stock_released
    with pytest.raises(service.IllegalTransition):
        service.cancel_order(order, reason="again")
    db.session.refresh(item)
    assert item.stock == 5
