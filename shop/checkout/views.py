"""The checkout page: one form, re-shown with every typed value and a message at each wrong field."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from shop.cart import service as cart_service
from shop.cart.session import current_items, save_items
from shop.checkout import checkout
from shop.checkout.forms import CheckoutForm
from shop.checkout.mail import queue_confirmation
from shop.customers.service import remember_address
from shop.customers.views import current_customer
from shop.extensions import db
from shop.i18n import current_language
from shop.orders import service as orders
from shop.orders.visitor import remember_order
from shop.outbox import service as outbox
from shop.shipping import quotes as shipping
from shop.shipping.models import Courier


def _courier_choices(form: CheckoutForm, parcels: list[shipping.Parcel]) -> dict[str, shipping.Quote]:
    """Courier radio buttons: with prices (per parcel) once a province is chosen; returns code → quote."""
    if form.province.data and parcels:
        quotes = shipping.quotes(form.province.data, parcels)
        form.courier.choices = [SelectChoice(q.courier.code, q.courier.name) for q in quotes]
        return {q.courier.code: q for q in quotes}
    couriers = db.session.scalars(select(Courier).where(Courier.active.is_(True)).order_by(Courier.position))
    form.courier.choices = [SelectChoice(c.code, c.name) for c in couriers]
    return {}


DRAFT_FIELDS = ("name", "email", "phone", "street", "rt_rw", "kelurahan", "kecamatan", "city", "province",
                "postal_code", "courier", "notes")


def _keep_draft(form: CheckoutForm) -> None:
    """Keep what the buyer typed for their return (the cart had to change, or the order could not be written)."""
    session["checkout_draft"] = {name: request.form.get(name, "") for name in DRAFT_FIELDS}


@checkout.route("/checkout", methods=["GET", "POST"])
def form() -> str | Response:
    cart = cart_service.build(current_items())
    if not cart.lines:
        flash(_("Your cart is empty."), "warning")
        return redirect(url_for("cart.show"))
    form = CheckoutForm()
    customer = current_customer()
    if request.method == "GET":
        saved = session.get("checkout_draft") or (
            (customer.address or {"name": customer.name, "email": customer.email}) if customer else None)
        if saved:
            form.process(data=saved)
    parcels = cart.parcels()
    quotes = _courier_choices(form, parcels)
    if request.method == "POST" and request.form.get("action") == "quote" and not form.province.data:
        form.province.errors = [_("Choose your province first: shipping prices depend on it.")]
    if request.method == "POST" and request.form.get("action") == "place" and form.validate():
        _keep_draft(form)  # until the order is committed: whatever fails, the buyer's typing survives
        if not cart.ready:
            flash(_("Some items in your cart cannot be bought as they are: check your cart."), "error")
            return redirect(url_for("cart.show"))
        quote = quotes.get(form.courier.data or "")
        courier_id = quote.courier.id if quote else \
            db.session.scalar(select(Courier.id).where(Courier.code == form.courier.data)) or 0
        buyer = orders.Buyer(**{name: (getattr(form, name).data or "").strip() for name in DRAFT_FIELDS
                                if name != "courier"})
        try:
            order = orders.place_order(cart.items(), buyer, courier_id, language=current_language(),
                                       customer_id=customer.id if customer else None,
                                       loaded=[line.product for line in cart.lines], quote=quote)
        except orders.OutOfStock as error:
            db.session.rollback()
            flash(_("Sold out: only %(count)d of %(name)s left. Your cart was not ordered; adjust it and try "
                    "again.", count=error.available, name=error.product_name), "error")
            return redirect(url_for("cart.show"))
        except orders.NotSellable as error:
            db.session.rollback()
            flash(_("%(name)s is temporarily unavailable (its certificate is not valid) and was not ordered.",
                    name=error.product_name), "error")
            return redirect(url_for("cart.show"))
        except orders.OrderTooLarge:
            db.session.rollback()
            flash(_("This order is larger than the shop can take at once: please split it, or write to us."),
                  "error")
            return redirect(url_for("cart.show"))
        except orders.NoShippingRate:
            db.session.rollback()
            form.courier.errors = [_("This courier does not deliver to the chosen province.")]
        else:
            if customer is not None:
                remember_address(customer, buyer)
            queue_confirmation(order)
            db.session.commit()
            remember_order(order.number)
            save_items({})
            session.pop("checkout_draft", None)
            outbox.deliver_after_commit()
            return redirect(url_for("payments.pay", number=order.number))
    return render_template("checkout/form.html", form=form, cart=cart, quotes=quotes, parcels=parcels)
