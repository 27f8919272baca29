"""The order confirmation mail: what was ordered, where its money goes (the ledger's split) and how to pay."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop import mail
from shop.ledger.service import order_split
from shop.orders.models import Order
from shop.outbox import service as outbox


def queue_confirmation(order: Order) -> None:
    """In the transaction that placed the order: the mail is never lost, even when SMTP is down."""
    message = mail.render_message(
        "orders/mail/confirmation", to=order.email, language=order.language, order=order,
        split=order_split(order),  # once for both the text and the HTML part
        subject=_l("Your order %(number)s at Karya Binaan", number=order.number))
    outbox.queue(message, "order.confirmation")
