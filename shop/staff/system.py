"""The admin's "Sistem" page (#30): what is up and what is stuck, in one look. The database, Redis, the job queue and
the last run of each scheduled chore, mail that failed, payments stuck pending, refused or failing webhooks, free
space for uploads, versions; and a warning when several workers keep their rate limits in memory. `/healthz` stays
the load balancers' plain check."""

from __future__ import annotations

import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from sqlalchemy import func, select, text

from shop import chores, jobqueue, metrics, storage
from shop.accounts import accounts, register_staff_link
from shop.accounts.decorators import role_required
from shop.accounts.models import Role
from shop.extensions import db
from shop.i18n import format_moment
from shop.outbox.models import MailStatus, OutboxMessage
from shop.payments.service import STUCK_AFTER, stuck_payments
from shop.timeutil import aware, utcnow

register_staff_link("accounts.system", _l("System"), Role.ADMIN)
LOW_SPACE = 0.10  # a folder with less than this share of its disk free is a warning
LOW_SPACE_BYTES = 1024 ** 3


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False


@dataclass
class System:
    checks: list[Check] = field(default_factory=list)
    chores: list[dict[str, Any]] = field(default_factory=list)
    versions: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _database() -> tuple[Check, str]:
    started = time.perf_counter()
    try:
        dialect = db.engine.dialect.name
        server = db.session.scalar(text("SELECT version()" if dialect == "postgresql" else "SELECT sqlite_version()"))
        took = (time.perf_counter() - started) * 1000
        current = MigrationContext.configure(db.session.connection()).get_current_revision()
        folder = current_app.extensions["migrate"].directory
        head = ScriptDirectory(folder).get_current_head()
    except Exception as error:  # noqa: BLE001 - the page says what failed instead of failing
        db.session.rollback()
        return Check(_("Database"), False, str(error)[:300]), ""
    detail = _("%(engine)s answers in %(ms)s ms; schema %(current)s", engine=dialect, ms=f"{took:.1f}",
               current=current or "—")
    if current != head:
        return Check(_("Database"), False, detail + " · " + _("migrations to run: the latest is %(head)s",
                                                             head=head or "—")), str(server)
    return Check(_("Database"), True, detail), str(server)


def _redis(name: str, url: str) -> Check:
    try:
        started = time.perf_counter()
        Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
        return Check(name, True, _("answers in %(ms)s ms", ms=f"{(time.perf_counter() - started) * 1000:.1f}"))
    except Exception as error:  # noqa: BLE001
        return Check(name, False, str(error)[:300])


def _queue() -> Check:
    if not jobqueue.is_configured():
        return Check(_("Job queue"), True, _("not configured: mail goes in the request, chores run from cron"),
                     warning=False)
    try:
        waiting = jobqueue.queue()
        failed = waiting.failed_job_registry.count
        detail = _("%(waiting)s jobs waiting, %(failed)s failed in the last week", waiting=len(waiting), failed=failed)
        return Check(_("Job queue"), True, detail, warning=failed > 0)
    except Exception as error:  # noqa: BLE001
        return Check(_("Job queue"), False, str(error)[:300])


def _chores() -> list[dict[str, Any]]:
    """Each scheduled chore with its last run, late when it has not run for twice its interval (a day and two hours
    for the daily ones)."""
    runs = chores.last_runs()
    now = utcnow()
    rows = []
    for name, when in chores.SCHEDULE:
        run = runs.get(name)
        every = timedelta(seconds=when["interval"]) if "interval" in when else timedelta(days=1)
        late = run is None or now - aware(run.started_at) > (2 * every if "interval" in when else every +
                                                             timedelta(hours=2))
        rows.append({"name": name, "when": when, "run": run, "late": late,
                     "failed": run is not None and not run.ok})
    return rows


def _disk(name: str, folder: str) -> Check:
    try:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        usage = shutil.disk_usage(path)
    except OSError as error:
        return Check(name, False, str(error)[:300])
    free = usage.free / usage.total if usage.total else 0
    low = free < LOW_SPACE or usage.free < LOW_SPACE_BYTES
    return Check(name, not low, _("%(free)s GB free of %(total)s GB (%(share)s %%)", free=f"{usage.free / 1e9:.1f}",
                                  total=f"{usage.total / 1e9:.1f}", share=f"{free * 100:.0f}"), warning=low)


def _bucket(name: str, store: storage.BucketStore) -> Check:
    try:
        store.reachable()
    except Exception as error:  # noqa: BLE001
        return Check(name, False, f"{store.describe()}: {str(error)[:300]}")
    return Check(name, True, _("%(where)s answers", where=store.describe()))


def _webhooks() -> Check:
    """Webhooks refused or failing since the server started (every worker: the metrics' counts)."""
    refused = 0.0
    try:
        for family in text_string_to_metric_families(metrics.counters_exposition().decode()):
            for sample in family.samples:
                if sample.name == "kb_webhooks_total" and sample.labels.get("outcome") in ("invalid", "malformed",
                                                                                         "error"):
                    refused += sample.value
    except Exception as error:  # noqa: BLE001
        return Check(_("Payment webhooks"), False, str(error)[:300])
    return Check(_("Payment webhooks"), refused == 0,
                 _("%(count)s refused or failed since the server started", count=int(refused)), warning=refused > 0)


def _workers() -> int:
    """How many processes like this one its parent runs (gunicorn's workers), read from /proc; 1 when unknown."""
    try:
        me = Path(f"/proc/{os.getpid()}/cmdline").read_bytes()
        parent = os.getppid()
        count = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent and \
                        (stat.parent / "cmdline").read_bytes() == me:
                    count += 1
            except (OSError, ValueError, IndexError):
                continue
        return max(count, 1)
    except OSError:
        return 1


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "—"


def system() -> System:
    found = System()
    check, server = _database()
    found.checks.append(check)
    for name, key in ((_("Redis: cache"), "CACHE_REDIS_URL"), (_("Redis: rate limits"), "RATELIMIT_STORAGE_URI"),
                      (_("Redis: job queue"), "JOB_QUEUE_URL")):
        url = current_app.config.get(key) or ""
        if url.startswith(("redis://", "rediss://")):
            found.checks.append(_redis(name, url))
    found.checks.append(_queue())
    failed = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.status == MailStatus.FAILED)) or 0
    oldest = db.session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(
        (MailStatus.PENDING, MailStatus.SENDING))))
    waited = utcnow() - aware(oldest) if oldest else timedelta(0)
    found.checks.append(Check(_("Mail"), failed == 0 and waited < timedelta(hours=1),
                              _("%(failed)s failed for good; the oldest waiting for %(minutes)s minutes",
                                failed=failed, minutes=int(waited.total_seconds() // 60)),
                              warning=bool(failed) or waited >= timedelta(hours=1)))
    stuck = stuck_payments()
    found.checks.append(Check(_("Payments"), stuck == 0,
                              _("%(count)s still pending %(hours)s hours after they began", count=stuck,
                                hours=int(STUCK_AFTER.total_seconds() // 3600)), warning=stuck > 0))
    found.checks.append(_webhooks())
    if isinstance(storage.public(), storage.BucketStore):  # photos and documents share one bucket: asked once
        found.checks.append(_bucket(_("Uploads"), storage.public()))  # type: ignore[arg-type]
    else:
        found.checks.append(_disk(_("Uploads (photos)"), storage.public().describe()))
        found.checks.append(_disk(_("Uploads (receipts and scans)"), storage.private().describe()))
    found.chores = _chores()
    in_memory = current_app.config.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory://")
    workers = _workers() if in_memory else 0  # (only then does the count matter: read from /proc)
    if in_memory and workers > 1:
        found.warnings.append(_("%(workers)s workers keep their rate limits in memory: each counts on its own, so a "
                                "password guesser gets %(workers)s times the tries. Set RATELIMIT_STORAGE_URI to a "
                                "Redis.", workers=workers))
    found.versions = [("Karya Binaan", _version("karya-binaan")), ("Python", platform.python_version()),
                      ("Flask", _version("flask")), ("SQLAlchemy", _version("sqlalchemy")),
                      (_("Database server"), server), (_("Server"), request.environ.get("SERVER_SOFTWARE", "—")),
                      (_("Workers of this server"), str(workers) if workers else "—"),
                      (_("Checked at"), format_moment(utcnow()))]
    return found


@accounts.get("/staf/sistem", endpoint="system")
@login_required
@role_required(Role.ADMIN)
def system_page() -> str:
    return render_template("accounts/system.html", system=system())
