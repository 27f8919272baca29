"""Cart pages: show, add, change, remove."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from shop.cart import cart, service
from shop.cart.session import current_items, item_count, save_items
from shop.web import positive_int, safe_next, whole_number


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
    raw = (request.form.get("quantity") or "").strip()
    quantity = positive_int(raw) if raw else 1  # a card's buy button sends no quantity: one
    back = safe_next(request.form.get("next"), url_for("cart.show"))
    if product_id is None:
        flash(_("That product could not be found."), "error")
        return redirect(back)
    if quantity is None:
        flash(_("Enter how many you want as a whole number, 1 or more."), "error")
        return redirect(back)
    try:
        save_items(service.add(current_items(), product_id, quantity))
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
    quantity = whole_number(request.form.get("quantity"))
    if product_id is None or quantity is None:
        flash(_("Enter a whole number of items."), "error")
        return redirect(url_for("cart.show"))
    try:
        save_items(service.set_quantity(current_items(), product_id, quantity))
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
