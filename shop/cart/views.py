"""Cart pages: show, add, change, remove."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from shop.cart import cart, service
from shop.cart.session import current_items, item_count, save_items
from shop.web import positive_int, safe_next, whole_number


def too_many(error: service.TooMany) -> str:
    return _("At most %(max)d of %(name)s fit in one order.", max=service.MAX_QUANTITY, name=error.product_name)


@cart.app_context_processor
def cart_count() -> dict[str, int]:
    """The number of items in the header's cart link."""
    return {"cart_count": item_count()}


@cart.get("/keranjang")
def show() -> str:
    return render_template("cart/show.html", cart=service.build(current_items()))


@cart.post("/keranjang/tambah")
def add() -> Response:
    product_id = positive_int(request.form.get("product_id"))
    raw = request.form.get("quantity")
    quantity = 1 if raw is None else whole_number(raw)  # a card's buy button sends no quantity: one
    back = safe_next(request.form.get("next"), url_for("cart.show"))
    if product_id is None:
        flash(_("That product could not be found."), "error")
        return redirect(back)
    if quantity is None or quantity < 1:
        flash(_("Enter how many you want as a whole number, 1 or more."), "error")
        return redirect(back)
    try:
        save_items(service.add(current_items(), product_id, quantity))
    except service.TooMany as error:
        flash(too_many(error), "error")
        return redirect(back)
    except service.Unavailable:
        flash(_("This product is temporarily unavailable and cannot be bought."), "error")
        return redirect(back)
    except service.NotEnoughStock as error:
        flash(_("Only %(count)d of %(name)s left in stock.", count=error.available, name=error.product_name),
              "error")
        return redirect(back)
    flash(_("Added to your cart."), "success")
    return redirect(url_for("cart.show"))


@cart.post("/keranjang/ubah")
def change() -> Response:
    product_id = positive_int(request.form.get("product_id"))
    quantity = whole_number(request.form.get("quantity"), negative=True)
    if product_id is None or quantity is None:
        flash(_("Enter a whole number of items."), "error")
        return redirect(url_for("cart.show"))
    if quantity < 0:
        flash(_("A quantity cannot be below 0. To take an item out of your cart, tap Remove."), "error")
        return redirect(url_for("cart.show"))
    try:
        save_items(service.set_quantity(current_items(), product_id, quantity))
    except service.TooMany as error:
        flash(too_many(error), "error")
    except service.NotEnoughStock as error:
        flash(_("Only %(count)d of %(name)s left in stock.", count=error.available, name=error.product_name),
              "error")
    return redirect(url_for("cart.show"))


@cart.post("/keranjang/hapus")
def remove() -> Response:
    product_id = positive_int(request.form.get("product_id"))
    if product_id is not None:
        save_items(service.set_quantity(current_items(), product_id, 0))
    return redirect(url_for("cart.show"))


@cart.post("/keranjang/sesuaikan")
def fix() -> Response:
    save_items(service.fix(current_items()))
    flash(_("Your cart now holds only what can be bought."), "success")
    return redirect(url_for("cart.show"))
