"""The database itself refuses what the rules forbid, on SQLite as on PostgreSQL: values outside an enum, rows
pointing at nothing, an order holding goods whose stock went back, a second open payment of one kind."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shop.extensions import db
from shop.payments.models import Payment, PaymentMethod
from tests import factories as f


def refused(statement: str, **params) -> None:
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(text(statement), params)


@pytest.mark.parametrize("table, column", [
    ("order", "status"), ("payment", "status"), ("payment", "method"), ("facility", "kind"),
    ("certification", "cert_type"), ("stock_movement", "reason")])
def test_a_value_outside_the_enum_is_refused_by_the_database(table, column):
    order = f.order()
    f.certificate(f.product())
    db.session.add(Payment(order=order, method=PaymentMethod.CARD, amount=order.total))
    db.session.commit()

    refused(f'UPDATE "{table}" SET {column} = \'refunded-ish\'')


def test_a_row_pointing_at_nothing_is_refused_on_every_database():
    order = f.order()
    db.session.commit()

    refused("UPDATE order_line SET product_id = 999999 WHERE order_id = :id", id=order.id)


def test_an_order_that_holds_its_goods_cannot_have_its_stock_released():
    order = f.order()
    db.session.commit()
    db.session.execute(text("UPDATE \"order\" SET status = 'paid' WHERE id = :id"), {"id": order.id})
    db.session.commit()

    refused('UPDATE "order" SET stock_released = true WHERE id = :id', id=order.id)


def test_one_order_has_at_most_one_open_payment_of_each_kind():
    order = f.order()
    db.session.add(Payment(order=order, method=PaymentMethod.BANK_TRANSFER, amount=order.total))
    db.session.add(Payment(order=order, method=PaymentMethod.CARD, amount=order.total))  # another kind: fine
    db.session.commit()

    refused("INSERT INTO payment (order_id, method, status, amount, refunded, created_at, failure, checkout_url, "
            "fee, net, payer_note, bank_reference, rejection_reason, duplicate) VALUES (:id, 'bank_transfer', "
            "'submitted', 100, 0, '2026-01-01', '', '', 0, 0, '', '', '', false)", id=order.id)
