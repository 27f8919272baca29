"""The shop's clock: one place to read "now", so tests can move time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """Now, in UTC. Tests may set app.config["FROZEN_NOW"] to a datetime to move the clock."""
    if has_app_context():
        frozen = current_app.config.get("FROZEN_NOW")
        if frozen is not None:
            return frozen
    return datetime.now(UTC)


def shop_zone() -> str:
    """The shop's own time zone name (SHOP_TIMEZONE; Palu's WITA by default)."""
    return current_app.config["SHOP_TIMEZONE"] if has_app_context() else "Asia/Makassar"


def today() -> date:
    """Today's date in the shop's time zone (certificates expire by local calendar day)."""
    return utcnow().astimezone(ZoneInfo(shop_zone())).date()


def local_today(zone: str) -> date:
    """Today's date in a facility's zone (its accounting day)."""
    return utcnow().astimezone(ZoneInfo(zone)).date()


def day_start(day: date, zone: str | None = None) -> datetime:
    """The UTC moment a calendar day begins in `zone` (the shop's by default): filters cut days there."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone or shop_zone())).astimezone(UTC)


def aware(value: datetime) -> datetime:
    """A stored time as aware UTC (SQLite gives back naive datetimes for UTC values)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
