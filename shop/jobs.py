"""Background jobs on RQ (a queue in the Redis that production already runs): the mail a request wrote,
delivered by a worker instead of in the buyer's request, and the schedule that cron lines used to keep
(unpaid orders expired, mail retried, certificate alerts), run by `flask --app shop jobs cron`.

Without JOB_QUEUE_URL nothing here runs and nothing is needed: `scripts/start` delivers mail inline and the
cron commands still work. Every job is safe to run twice or at once on two workers (mail is claimed by a
conditional UPDATE, an order moves only from the state it was read in), so a retried job changes nothing
twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, tzinfo
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context
from rq import SimpleWorker, get_current_job
from rq.cron import CronScheduler

from shop import chores, create_app
from shop.catalog.stock import set_aside_due_lots
from shop.certification.alerts import send_alerts
from shop.certification.service import alerts
from shop.extensions import db
from shop.fulfilment.lot_alerts import queue_lot_alerts
from shop.jobqueue import connection, enqueue, is_configured, queue  # noqa: F401 (the queue, for callers)
from shop.logs import run_with_request_id
from shop.orders.service import expire_overdue_orders
from shop.outbox.service import deliver_after_commit, deliver_due
from shop.payments import midtrans_gateway, online
from shop.payments.models import Payment
from shop.timeutil import utcnow

log = logging.getLogger(__name__)

SCHEDULE = chores.SCHEDULE  # what `jobs cron` schedules (kept with the record of each chore's last run)
_worker_app: Flask | None = None


def _in_app(job: Callable[[], Any]) -> Callable[[], Any]:
    """Run the job in an app context of its own (so its own database session, committed once, removed after),
    whether the worker is `flask jobs worker` (inside the app) or a plain `rq worker` (outside any app)."""

    @wraps(job)
    def run() -> Any:
        global _worker_app
        if has_app_context():
            app = current_app._get_current_object()  # type: ignore[attr-defined]
        else:
            if _worker_app is None:
                _worker_app = create_app()
            app = _worker_app
        current = get_current_job()
        with app.app_context():  # its log lines carry the id of the request that enqueued it, if one did
            return run_with_request_id(current.meta.get("request_id") if current else None, lambda: _run(job))

    return run


def _run(job: Callable[[], Any]) -> Any:
    started = utcnow()
    try:
        result = job()
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _note(job.__name__, started, f"{type(error).__name__}: {error}" or "failed")
        db.session.remove()
        raise
    _note(job.__name__, started)
    db.session.remove()
    return result


def _note(name: str, started: Any, error: str = "") -> None:
    """The chore's last run, for the system page; never the reason a chore fails."""
    try:
        chores.note_run(name, started, error)
    except Exception:  # noqa: BLE001 - the record of a run is news, not the work itself
        db.session.rollback()
        log.warning("the last run of %s could not be recorded", name, exc_info=True)


@_in_app
def deliver_mail() -> dict[str, int]:
    return deliver_due(limit=200)


@_in_app
def expire_orders() -> list[str]:
    return expire_overdue_orders()


@_in_app
def sync_online_payments() -> dict[str, str]:
    """Midtrans attempts still open after a missed notification, or of orders the shop stopped waiting for: each is
    read from Midtrans and applied (expired there if the order was cancelled), committed one at a time."""
    done: dict[str, str] = {}
    if not midtrans_gateway.is_configured():
        return done
    for payment_id in online.due_for_sync():
        payment = db.session.get(Payment, payment_id)
        if payment is None:
            continue
        try:
            done[payment.provider_ref or str(payment_id)] = online.sync(payment)
            db.session.commit()
        except midtrans_gateway.GatewayError as error:
            db.session.rollback()
            log.warning("Midtrans sync of payment %s: %s", payment_id, error)
    deliver_after_commit()
    return done


@_in_app
def set_aside_lots() -> int:
    """Lots near their best-before date taken off sale (as `batches set-aside`)."""
    return set_aside_due_lots()


@_in_app
def certificate_alerts() -> int:
    """The daily lists for the cooperative (as `certs check --mail-cooperative`), through the outbox: certificates
    to renew and products not on sale, and lots near their best-before date."""
    queue_lot_alerts(current_app.config["COOPERATIVE_EMAIL"])
    found = alerts(current_app.config["CERT_EXPIRY_WARNING_DAYS"])
    if found.expiring or found.unsellable:
        send_alerts(found, current_app.config["COOPERATIVE_EMAIL"], current_app.config["CERT_EXPIRY_WARNING_DAYS"],
                    daily=True)
    return len(found.expiring) + len(found.unsellable)


def local_cron(daily_at: str, zone: str, server_zone: tzinfo | None = None) -> str:
    """The cron line, in the server's own time zone (RQ's cron reads it so), for a daily time in `zone` (Indonesia
    keeps no summer time, so the line holds all year)."""
    hour, minute = (int(part) for part in daily_at.split(":"))
    moment = datetime.combine(date.today(), time(hour, minute), ZoneInfo(zone)).astimezone(server_zone)
    return f"{moment.minute} {moment.hour} * * *"


def scheduler() -> Any:
    """RQ's CronScheduler with SCHEDULE registered on this shop's queue."""
    cron = CronScheduler(connection=connection(), name=f"{current_app.config['JOB_QUEUE_NAME']}-cron")
    for name, when in SCHEDULE:
        if "daily_at" in when:
            when = {"cron": local_cron(str(when["daily_at"]), current_app.config["SHOP_TIMEZONE"])}
        cron.register(globals()[name], queue_name=current_app.config["JOB_QUEUE_NAME"], job_timeout=300, **when)
    return cron


def worker(burst: bool = False) -> Any:
    """Work the queue in this process (no fork per job: the jobs are short database chores)."""
    return SimpleWorker([queue()], connection=connection()).work(burst=burst, with_scheduler=False)
