"""The cart as this visitor's session holds it (a signed cookie): read, written, counted for the header."""

from __future__ import annotations

from flask import session

from shop.cart import service


def current_items() -> dict[int, int]:
    return service.parse(session.get("cart"))


def save_items(items: dict[int, int]) -> None:
    session["cart"] = service.dump(items)


def item_count() -> int:
    """The number of items in the header's cart link."""
    return sum(current_items().values())
