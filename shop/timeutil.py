"""The shop's clock: one place to read "now", so tests can move time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """Now, in UTC. Tests may set app.config["FROZEN_NOW"] to a datetime to move the clock."""
    if has_app_context():
        frozen = current_app.config.get("FROZEN_NOW")
        if frozen is not None:
            return frozen
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the shop's time zone (certificates expire by local calendar day)."""
    zone = ZoneInfo(current_app.config["SHOP_TIMEZONE"]) if has_app_context() else ZoneInfo("Asia/Makassar")
    return utcnow().astimezone(zone).date()


def aware(value: datetime) -> datetime:
    """A stored time as aware UTC (SQLite gives back naive datetimes for UTC values)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
