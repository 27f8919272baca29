"""The buyer's order page: status, history, parcels and money, for the browser that placed or found the order."""

from __future__ import annotations

from flask import render_template

from shop.fulfilment.service import shipments
from shop.orders import orders
from shop.orders.visitor import order_for_visitor
from shop.payments.service import money_state, transfer_under_review


@orders.get("/pesanan/<number>")
def detail(number: str) -> str:
    order = order_for_visitor(number)
    return render_template("orders/detail.html", order=order, shipments=shipments(order), money=money_state(order),
                           under_review=transfer_under_review(order))
