"""Which orders this browser (or customer account) may see: those it placed or looked up by number and email."""

from __future__ import annotations

from flask import abort, redirect, request, session, url_for
from flask_login import current_user

from shop.extensions import db
from shop.orders import service
from shop.orders.models import Order

MAX_REMEMBERED = 20


def remember_order(number: str) -> None:
    """This browser placed or looked up the order: let it see the order page without asking again."""
    known = [n for n in session.get("orders", []) if n != number]
    session["orders"] = ([number] + known)[:MAX_REMEMBERED]


def order_for_visitor(number: str) -> Order:
    """The order, for a browser that placed or looked it up, or for the customer account that owns it."""
    order = service.order_by_number(number)
    owner = order is not None and order.customer_id is not None and getattr(current_user, "is_customer", False) \
        and current_user.id == order.customer_id
    if order is None or (number not in session.get("orders", []) and not owner):
        # A link from the order mail opened in another browser: ask for the email, the number filled in, then
        # come back here. A number that does not exist is answered the same way (no way to probe numbers).
        abort(redirect(url_for("orders.track", number=number, next=request.path)))
    if service.expire_if_due(order):
        db.session.commit()
    return order
