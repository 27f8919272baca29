"""Mail to buyers about their orders: the confirmation, and a word at every change a buyer waits for (paid,
transfer not found, cancelled, shipped, return received, money refunded). Each is queued in the outbox inside the
transaction that made the change, so it is never lost and never sent for a change that was rolled back."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop import mail
from shop.orders.models import Order
from shop.outbox import service as outbox


def queue_shipped(order: Order, shipment: object) -> None:
    message = mail.render_message(
        "orders/mail/shipped", to=order.email, language=order.language, order=order, shipment=shipment,
        subject=_l("Your order %(number)s is on its way", number=order.number))
    outbox.queue(message, "order.shipped")


def _queue_update(order: Order, kind: str, subject: str, **context: object) -> None:
    """One template (`orders/mail/update`), a block per `kind`: every amount and date is formatted in the buyer's
    language when the mail is rendered, not here."""
    message = mail.render_message("orders/mail/update", to=order.email, language=order.language, order=order,
                                  kind=kind, subject=subject, **context)
    outbox.queue(message, f"order.{kind}")


def queue_paid(order: Order, amount: int) -> None:
    _queue_update(order, "paid", _l("Payment received for order %(number)s", number=order.number), amount=amount)


def queue_transfer_rejected(order: Order, reason: str) -> None:
    _queue_update(order, "transfer_rejected", _l("We could not find your transfer for order %(number)s",
                                                 number=order.number), reason=reason)


def queue_cancelled(order: Order, reason: str, refunded: int) -> None:
    _queue_update(order, "cancelled", _l("Order %(number)s was cancelled", number=order.number), reason=reason,
                  refunded=refunded)


def queue_return_received(order: Order, returned: list[tuple[str, int]]) -> None:
    """`returned`: each product's name and the units that came back."""
    _queue_update(order, "return_received", _l("We received your return for order %(number)s", number=order.number),
                  returned=returned)


def queue_refunded(order: Order, amount: int, items: list[tuple[str, int, int]], reason: str) -> None:
    """`items`: what the money is for, each as (product name, or "" for the shipping; units; rupiah)."""
    _queue_update(order, "refunded", _l("Money refunded for order %(number)s", number=order.number), amount=amount,
                  items=items, reason=reason)
