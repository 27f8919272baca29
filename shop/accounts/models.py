"""Users: staff with combinable roles, and optional customer accounts."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from shop.extensions import Model
from shop.timeutil import utcnow

if TYPE_CHECKING:
    from shop.catalog.models import Facility  # a layer above: the relationship is resolved by name


class Role(enum.StrEnum):
    ADMIN = "admin"  # users and roles, facilities, categories, couriers, settings
    FULFILMENT = "fulfilment"  # cooperative staff: orders, shipments, stock, products, certificates
    FINANCE = "finance"  # ledger, split rules, PNBP deposits, reconciliation, exports
    FACILITY = "facility"  # products, stock and certificates of their own facility only

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.FULFILMENT: _l("Fulfilment (cooperative staff)"),
    Role.FINANCE: _l("Finance"),
    Role.FACILITY: _l("Facility staff"),
}


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Facility staff see and change only this facility's products, stock and certificates.
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"), index=True)
    # Part of the login cookie: a new one on password change logs the user out everywhere.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    facility: Mapped[Facility | None] = relationship()

    is_customer = False  # staff; buyers with accounts are shop.customers.models.Customer

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)  # scrypt, werkzeug's default
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Log out everywhere: every session and remember-me cookie carries the old token and stops working."""
        self.session_token = new_session_token()

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: str | Role) -> bool:
        mine = set(self.roles or [])
        return any(str(role) in mine for role in roles)

    @property
    def is_staff(self) -> bool:
        return bool(set(self.roles or []) & {r.value for r in Role})

    def can_manage_facility(self, facility_id: int) -> bool:
        """Cooperative staff and admins manage every facility; facility staff only their own."""
        if self.has_role(Role.ADMIN, Role.FULFILMENT):
            return True
        return self.has_role(Role.FACILITY) and self.facility_id == facility_id


# Who did something: a staff user, a label for a non-staff party ("buyer", "system", "stripe"), or None for
# the logged-in staff member of the current request (or "system" outside a request).
Actor = User | str | None
