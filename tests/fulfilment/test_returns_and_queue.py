"""Goods and money kept apart: after shipping, goods come back only through a received return, and a refund
never touches stock. Also the queue's sorting before its limit, and day filters in the local time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from shop.audit.models import AuditEntry
from shop.catalog.models import Product, StockMovement, StockReason
from shop.extensions import db
from shop.fulfilment import service as desk
from shop.orders import service as orders
from shop.orders.models import OrderStatus
from shop.payments import service as payments
from shop.payments.models import Payment, PaymentMethod, PaymentStatus
from tests import factories as f
from tests.helpers import logged_in, text_of


def stock_of(product) -> int:
    return db.session.scalar(select(Product.stock).where(Product.id == product.id))


def delivered_order(items):
    order = f.order(items)
    db.session.add(Payment(order=order, method=PaymentMethod.BANK_TRANSFER, amount=order.total,
                           status=PaymentStatus.SUCCEEDED))
    for step in (OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        orders.transition(order, step)
    db.session.commit()
    return order


def test_a_delivered_order_refunded_in_part_cannot_be_cancelled_and_its_goods_stay_sold(app):
    """Bug: delivered → partly refunded → cancelled put the delivered goods back on sale (3 became 5)."""
    bag = f.product(stock=5, name_id="Tas Rajut")
    order = delivered_order({bag: 2})
    staff = logged_in(app, "fulfilment")
    payment = db.session.scalar(select(Payment))
    payments.refund(payment, amount=10_000, reason="satu cacat", key="k1", actor=None, transfer_reference="BRI 9")
    db.session.commit()

    answer = staff.post(f"/staf/pesanan/{order.number}/batal", data={"reason": "pembeli minta batal",
                                                                     "transfer_reference": "BRI 10"},
                        follow_redirects=True)

    assert "Tidak bisa sekarang" in text_of(answer)
    db.session.expire_all()
    assert order.status is OrderStatus.DELIVERED and stock_of(bag) == 3
    assert payments.money_state(order).state is payments.MoneyState.PARTLY_REFUNDED


def test_a_return_puts_back_exactly_what_came_back_and_moves_no_money(app):
    bag, shallots = f.product(stock=5, name_id="Tas Rajut"), f.product(stock=9, name_id="Bawang Goreng")
    order = delivered_order({bag: 2, shallots: 3})
    bag_line, shallot_line = order.lines
    staff = logged_in(app, "fulfilment")

    screen = text_of(staff.get(f"/staf/pesanan/{order.number}"))
    assert "Terima barang retur" in screen
    staff.post(f"/staf/pesanan/{order.number}/retur",
               data={f"line-{bag_line.id}": "1", f"line-{shallot_line.id}": "0", "reason": "jahitan lepas"})

    db.session.expire_all()
    assert (stock_of(bag), stock_of(shallots)) == (4, 6)
    assert bag_line.returned_quantity == 1 and order.status is OrderStatus.DELIVERED
    assert payments.money_state(order).state is payments.MoneyState.PAID  # a refund is its own decision
    moved = db.session.scalars(select(StockMovement).where(StockMovement.reason == StockReason.RETURNED)).all()
    assert [(m.product_id, m.delta) for m in moved] == [(bag.id, 1)]
    screen = text_of(staff.get(f"/staf/pesanan/{order.number}"))
    assert "1 × Tas Rajut — jahitan lepas" in screen
    history = text_of(staff.get(f"/staf/pesanan/{order.number}"))
    assert "barang dikembalikan: 1 × Tas Rajut" in history  # the history names what came back


def test_returned_food_goes_back_on_sale_only_when_staff_say_it_came_back_sealed(app):
    """#23.21: an opened jar of fried shallots is never sold to anyone again; a sealed one may be."""
    shallots = f.certified_food(name_id="Bawang Goreng", stock=9)
    sambal = f.certified_food(name_id="Sambal Roa", stock=9)
    order = delivered_order({shallots: 2, sambal: 2})
    shallot_line, sambal_line = order.lines
    staff = logged_in(app, "fulfilment")
    assert "Pangan: masih tersegel dan baik" in text_of(staff.get(f"/staf/pesanan/{order.number}"))

    staff.post(f"/staf/pesanan/{order.number}/retur", data={
        f"line-{shallot_line.id}": "2", f"line-{sambal_line.id}": "1", f"sealed-{sambal_line.id}": "1",
        "reason": "salah kirim"})

    db.session.expire_all()
    assert (stock_of(shallots), stock_of(sambal)) == (7, 8)  # the shallots stay off sale; the sealed sambal is back
    assert shallot_line.returned_quantity == 2  # yet they were received
    screen = text_of(staff.get(f"/staf/pesanan/{order.number}"))
    assert "2 × Bawang Goreng (tidak dijual lagi)" in screen and "1 × Sambal Roa — salah kirim" in screen


@pytest.mark.parametrize("typed, problem", [
    ({"bag": "2", "reason": "lagi"}, "Tidak bisa lebih banyak"),
    ({"bag": "0", "reason": "kosong"}, "Isi berapa unit"),
    ({"bag": "dua", "reason": "huruf"}, "Isi berapa unit"),
    ({"bag": "1", "reason": " "}, "Berikan alasan"),
])
def test_a_return_of_more_than_was_sent_or_without_reason_is_refused_and_changes_nothing(app, typed, problem):
    bag = f.product(stock=5)
    order = delivered_order({bag: 2})
    line = order.lines[0]
    desk.receive_return(order, {line.id: 1}, reason="pertama", actor=None)
    db.session.commit()
    staff = logged_in(app, "fulfilment")

    answer = staff.post(f"/staf/pesanan/{order.number}/retur", follow_redirects=True,
                        data={f"line-{line.id}": typed["bag"], "reason": typed["reason"]})

    assert problem in text_of(answer)
    db.session.expire_all()
    assert line.returned_quantity == 1 and stock_of(bag) == 4


def test_goods_cannot_be_received_back_before_they_were_shipped(app):
    bag = f.product(stock=5)
    order = f.order({bag: 1})
    orders.mark_paid(order)

    with pytest.raises(desk.FulfilmentError, match="not_returnable"):
        desk.receive_return(order, {order.lines[0].id: 1}, reason="x", actor=None)


def test_the_queue_sorts_by_state_before_it_takes_its_limit(app):
    """Bug: the 200 oldest orders were taken first, so a new paid order could fall out of the queue."""
    old = [f.order() for _ in range(3)]
    for order in old:
        for step in (OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED):
            orders.transition(order, step)
    new = f.order()
    orders.mark_paid(new)
    db.session.commit()

    shown = desk.queue(desk.QueueFilter(), limit=2)

    assert shown[0].number == new.number


def test_staff_sort_the_queue_newest_first_or_by_total_in_the_database(app):
    small, large, newest = (f.order({f.product(price=price): 1}) for price in (10_000, 900_000, 50_000))
    for order in (small, large, newest):
        orders.mark_paid(order)
    db.session.commit()

    assert [o.number for o in desk.queue(desk.QueueFilter(sort="newest"), limit=1)] == [newest.number]
    assert [o.number for o in desk.queue(desk.QueueFilter(sort="total_desc"), limit=1)] == [large.number]
    assert desk.queue(desk.QueueFilter(sort="bogus"))[0].number == small.number  # unknown: what to do first
    page = logged_in(app, "fulfilment").get("/staf/pesanan?sort=total_desc").get_data(as_text=True)
    assert page.index(large.number) < page.index(small.number)


def test_day_filters_cut_days_at_local_midnight(app):
    """Bug: days were cut at UTC midnight, eight hours off Palu time."""
    palu = f.facility(timezone="Asia/Makassar")
    tungkal = f.facility(timezone="Asia/Jakarta")
    order = f.order({f.product(facility=palu): 1, f.product(facility=tungkal): 1})
    order.created_at = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 24 Nov 00:30 in Palu, 23 Nov 23:30 in Jambi
    orders.mark_paid(order)
    db.session.commit()

    def shown(**filters) -> bool:
        return order in desk.queue(desk.QueueFilter(**filters))

    assert shown(day_from=date(2026, 11, 24), day_to=date(2026, 11, 24))
    assert not shown(day_to=date(2026, 11, 23))
    assert shown(facility_id=palu.id, day_from=date(2026, 11, 24))
    assert not shown(facility_id=tungkal.id, day_from=date(2026, 11, 24))  # in Jambi it was still the 23rd
    assert shown(facility_id=tungkal.id, day_to=date(2026, 11, 23))


def test_the_audit_log_filters_days_in_the_shops_time_zone(app):
    admin = logged_in(app, "admin")
    late = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 24 Nov 00:30 WITA
    db.session.add(AuditEntry(action="test.late", target_type="order", target_id="1", actor_email="x@y.id", at=late))
    db.session.add(AuditEntry(action="test.early", target_type="order", target_id="2", actor_email="x@y.id",
                              at=late - timedelta(hours=1)))  # 23 Nov 23:30 WITA
    db.session.commit()

    page = text_of(admin.get("/staf/audit?from=2026-11-24&to=2026-11-24"))

    assert "test.late" in page and "test.early" not in page


def test_the_refund_form_offers_the_lines_prefilled_from_the_return_and_refunds_only_those(app):
    """Two products; one shallot pack comes back. The form suggests exactly that pack, and the refund it records
    names only that line (the ledger reverses exactly the lines a refund names: tests/ledger/test_booking.py)."""
    bag, shallots = f.product(stock=5, name_id="Tas Rajut", price=45_000), f.product(stock=9, price=27_000)
    order = delivered_order({bag: 1, shallots: 2})
    bag_line, shallot_line = order.lines
    payment = db.session.scalar(select(Payment))
    staff = logged_in(app, "fulfilment")
    staff.post(f"/staf/pesanan/{order.number}/retur", data={"reason": "kemasan bocor", f"line-{shallot_line.id}": 1})

    page = staff.get(f"/staf/pesanan/{order.number}/pembayaran").get_data(as_text=True)
    assert f'name="qty-{shallot_line.id}" min="0" max="2" value="1"' in page
    assert f'name="qty-{bag_line.id}" min="0" max="1" value="0"' in page

    form = {"key": "r1", "reason": "kemasan bocor", "transfer_reference": "BRI 77", f"qty-{shallot_line.id}": "1",
            f"qty-{bag_line.id}": "0"}
    answer = staff.post(f"/staf/pembayaran/{payment.id}/refund", data=form, follow_redirects=True)

    assert "Pengembalian dana dicatat" in text_of(answer)
    db.session.expire_all()
    assert payment.refunded == 27_000
    assert [(item.order_line_id, item.quantity, item.amount) for item in payment.refunds[0].lines] == [
        (shallot_line.id, 1, 27_000)]
    assert stock_of(shallots) == 8  # the return put it back; the refund moved no stock
