"""Accounts: login, roles, the staff menu and the permission decorator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, request
from flask_login import current_user

from shop.accounts.models import Role

accounts = Blueprint("accounts", __name__)


@dataclass(frozen=True)
class StaffLink:
    endpoint: str
    label: object  # a lazy translated string
    roles: tuple[Role, ...]
    # What waits there for this user (orders to pack, transfers to check …), shown beside the link; one query.
    count: Callable[[Any], int] | None = None


STAFF_LINKS: list[StaffLink] = []


@dataclass(frozen=True)
class StaffPanel:
    template: str
    context: Callable[[], dict[str, Any]]
    roles: tuple[Role, ...]


STAFF_PANELS: list[StaffPanel] = []


def register_staff_panel(template: str, context: Callable[[], dict[str, Any]], *roles: Role) -> None:
    """Each domain may show a panel on the staff home (alerts, queues) to the roles it concerns."""
    if all(panel.template != template for panel in STAFF_PANELS):
        STAFF_PANELS.append(StaffPanel(template, context, roles))


def register_staff_link(endpoint: str, label: object, *roles: Role, count: Callable[[Any], int] | None = None) -> None:
    """Each domain adds its staff screens to the staff menu, shown to the roles that may open them; `count`
    (given the user) says how much waits there."""
    if all(link.endpoint != endpoint for link in STAFF_LINKS):
        STAFF_LINKS.append(StaffLink(endpoint, label, roles, count))


def staff_menu(user: Any) -> list[tuple[StaffLink, int | None]]:
    """The links this user may open, each with what waits there."""
    return [(link, link.count(user) if link.count else None) for link in STAFF_LINKS if user.has_role(*link.roles)]


@accounts.app_context_processor
def _staff_navigation() -> dict[str, Any]:
    """Every staff page carries the staff menu with its counts, counted once per request (a request may render
    more than one template, e.g. a mail)."""
    if not request.path.startswith("/staf") or not getattr(current_user, "is_staff", False):
        return {}
    if "staff_nav" not in g:
        g.staff_nav = staff_menu(current_user)
    return {"staff_nav": g.staff_nav}
