"""Accounts: login, roles, the staff menu and the permission decorator."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint

from shop.accounts.models import Role

accounts = Blueprint("accounts", __name__)


@dataclass(frozen=True)
class StaffLink:
    endpoint: str
    label: object  # a lazy translated string
    roles: tuple[Role, ...]


STAFF_LINKS: list[StaffLink] = []


def register_staff_link(endpoint: str, label: object, *roles: Role) -> None:
    """Each domain adds its staff screens to the staff menu, shown to the roles that may open them."""
    if all(link.endpoint != endpoint for link in STAFF_LINKS):
        STAFF_LINKS.append(StaffLink(endpoint, label, roles))


from shop.accounts import views  # noqa: E402,F401
