"""Finding an order by its number and the buyer's email (the order page itself: `shop.storefront.order_page`)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from shop.extensions import limiter, submitted_email, submitted_order_number
from shop.orders import orders, service
from shop.orders.visitor import remember_order
from shop.web import safe_next


@orders.route("/pesanan/lacak", methods=["GET", "POST"])
# Buyers behind a mobile carrier's NAT share one address: the limit per address is generous, and the guesses
# are limited per email and per order number tried, wherever they come from.
@limiter.limit("30 per minute; 300 per hour", methods=["POST"])
@limiter.limit("10 per hour", methods=["POST"], key_func=submitted_email)
@limiter.limit("10 per hour", methods=["POST"], key_func=submitted_order_number)
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
