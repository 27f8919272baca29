"""The buyer's order pages: track by number + email, order status and history, the payment step."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from shop.extensions import db, limiter, submitted_email
from shop.orders import orders, service
from shop.orders.models import Order
from shop.web import safe_next

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


@orders.route("/pesanan/lacak", methods=["GET", "POST"])
@limiter.limit("20 per minute; 60 per hour", methods=["POST"])
@limiter.limit("10 per hour", methods=["POST"], key_func=submitted_email)
def track() -> str | Response:
    """Finding an order needs its number and the buyer's email; guesses are limited per address and per email,
    so knowing a buyer's email is not enough to walk the order numbers."""
    number = (request.values.get("number") or "").strip()
    email = (request.values.get("email") or "").strip()
    if request.method == "POST":
        order = service.order_for_buyer(number, email) if number and email else None
        if order is not None:
            remember_order(order.number)
            back = safe_next(request.values.get("next"), "")
            if back.startswith(f"/pesanan/{order.number}"):  # the page of this order the buyer came from
                return redirect(back)
            return redirect(url_for("orders.detail", number=order.number))
        flash(_("No order matches that number and email. Check both and try again."), "error")
    return render_template("orders/track.html", number=number, email=email)


@orders.get("/pesanan/<number>")
def detail(number: str) -> str:
    from shop.fulfilment.service import shipments
    from shop.payments.service import money_state, transfer_under_review

    order = order_for_visitor(number)
    return render_template("orders/detail.html", order=order, shipments=shipments(order), money=money_state(order),
                           under_review=transfer_under_review(order))
