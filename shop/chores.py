"""The last run of each scheduled chore (#30), kept in the database by the job that ran it, so the system page can
say that a schedule stopped (a cron or worker that died) before buyers notice what it no longer does."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import Model, db
from shop.timeutil import utcnow

PARAMETERS = re.compile(r"\[parameters: .*")

# (job, seconds between runs, or a daily time in SHOP_TIMEZONE): what `jobs cron` schedules (shop.jobs runs them).
SCHEDULE: list[tuple[str, dict[str, Any]]] = [
    ("deliver_mail", {"interval": 60}),
    ("expire_orders", {"interval": 300}),
    ("sync_online_payments", {"interval": 60}),
    ("certificate_alerts", {"daily_at": "06:00"}),  # in SHOP_TIMEZONE
    ("set_aside_lots", {"daily_at": "00:05"}),  # a lot's shelf life is counted in days: just after midnight
]


class ChoreRun(Model):
    """One row per chore: when it last began and ended, and whether it went well (its error when not)."""

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    error: Mapped[str] = mapped_column(Text, default="")
    last_ok_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def note_run(name: str, started_at: datetime, error: str = "") -> None:
    """Write the chore's outcome in a transaction of its own (the chore's own committed or rolled back already)."""
    now = utcnow()
    run = db.session.get(ChoreRun, name) or ChoreRun(name=name)
    # The error's kind and first line, without a database error's row values (they may hold buyers' addresses).
    error = PARAMETERS.sub("[parameters: …]", error.splitlines()[0] if error else "")
    run.started_at, run.finished_at, run.ok, run.error = started_at, now, not error, error[:500]
    if not error:
        run.last_ok_at = now
    db.session.add(run)
    db.session.commit()


def last_runs() -> dict[str, ChoreRun]:
    return {run.name: run for run in db.session.scalars(select(ChoreRun))}
