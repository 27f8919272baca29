"""Optional customer accounts: buyers who want to see past orders and keep an address. Guests need none."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from shop.extensions import Model
from shop.timeutil import utcnow


class Customer(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    session_token: Mapped[str] = mapped_column(String(64))
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the last checkout's address, to prefill
    active: Mapped[bool] = mapped_column(default=True)
    # When the buyer followed the link mailed to the address: only then are guest orders with it attached.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # Flask-Login
    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_customer = True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"c:{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Log out everywhere (see User.end_sessions)."""
        self.session_token = secrets.token_hex(16)

    def has_role(self, *roles: object) -> bool:
        return False

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.session_token = secrets.token_hex(16)  # a new password logs out every other session

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)
