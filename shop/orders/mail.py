"""Mail to buyers about their orders."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop import mail
from shop.orders.models import Order


def send_confirmation(order: Order) -> bool:
    message = mail.render_message(
        "orders/mail/confirmation", to=order.email, language=order.language, order=order,
        subject=_l("Your order %(number)s at Karya Binaan", number=order.number))
    return mail.send(message)


def send_shipped(order: Order, shipment: object) -> bool:
    message = mail.render_message(
        "orders/mail/shipped", to=order.email, language=order.language, order=order, shipment=shipment,
        subject=_l("Your order %(number)s is on its way", number=order.number))
    return mail.send(message)
