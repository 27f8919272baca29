"""Queueing and delivering mail. `queue` runs inside the caller's transaction (flush only); `deliver_due`
commits after each message, so it runs after the request or command committed its own work.

Two deliverers never send one message twice: each claims a message with an UPDATE that names the state it
expects. A deliverer that dies between sending and recording leaves the message "sending"; after
MAIL_CLAIM_MINUTES it is tried again (at least once, never lost)."""

from __future__ import annotations

import logging
from datetime import timedelta
from email import message_from_string, policy
from email.message import EmailMessage

from flask import current_app, g, has_request_context
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from shop import mail, metrics
from shop.extensions import db, rows_changed
from shop.jobqueue import enqueue
from shop.outbox.models import MailStatus, OutboxMessage
from shop.timeutil import aware, utcnow

log = logging.getLogger(__name__)


def queue(message: EmailMessage, kind: str, dedupe_key: str | None = None) -> OutboxMessage | None:
    """Write the mail into the outbox in the caller's transaction. With a `dedupe_key`, a second mail with the same
    key (a job run twice, by a retry or a second scheduler) is not queued: None."""
    row = OutboxMessage(kind=kind, recipient=str(message["To"]), subject=str(message["Subject"])[:255],
                        message=message.as_string(policy=policy.SMTP), dedupe_key=dedupe_key)
    if dedupe_key is not None:
        if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
            return None
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # queued by another run a moment ago
            return None
    else:
        db.session.add(row)
        db.session.flush()
    if has_request_context():  # what this request queued: the only mail `deliver_after_commit` sends inline
        g.setdefault("outbox_queued", []).append(row.id)
    return row


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failed attempt, at most six hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def _due() -> ColumnElement[bool]:
    now = utcnow()
    stale = now - timedelta(minutes=current_app.config["MAIL_CLAIM_MINUTES"])
    return or_(and_(OutboxMessage.status == MailStatus.PENDING, OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.status == MailStatus.SENDING, OutboxMessage.claimed_at < stale))


def deliver_due(limit: int = 50, only: list[int] | None = None) -> dict[str, int]:
    """Try every message that is due (or, with `only`, those of them); returns how many were sent, failed for
    now, or gave up."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "not_sent": 0}
    query = select(OutboxMessage.id).where(_due())
    if only is not None:
        query = query.where(OutboxMessage.id.in_(only))
    ids = list(db.session.scalars(query.order_by(OutboxMessage.id).limit(limit)))
    db.session.commit()
    for message_id in ids:
        claim = utcnow()
        claimed = db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, _due())
                                     .values(status=MailStatus.SENDING, claimed_at=claim)
                                     .execution_options(synchronize_session=False))
        db.session.commit()
        if rows_changed(claimed) != 1:
            continue  # another deliverer has it
        row = db.session.get_one(OutboxMessage, message_id)
        db.session.refresh(row)
        outcome, values = _attempt(row)
        # The outcome is written only while this deliverer's claim still holds: a send slower than
        # MAIL_CLAIM_MINUTES may have been claimed (and sent) by another deliverer, whose state then stands.
        written = db.session.execute(update(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.status == MailStatus.SENDING,
            OutboxMessage.claimed_at == claim).values(**values).execution_options(synchronize_session=False))
        db.session.commit()
        if rows_changed(written) != 1:
            log.warning("mail %s was claimed by another deliverer meanwhile; its outcome stands", message_id)
        counts[outcome] += 1
        metrics.MAIL.labels(outcome).inc()
    return counts


def _backlog() -> list[tuple[dict[str, str], float]]:
    """Mail waiting to go, by status, and the age of the oldest mail still waiting (the outbox's backlog)."""
    rows = db.session.execute(select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
                              .where(OutboxMessage.status.in_((MailStatus.PENDING, MailStatus.SENDING,
                                                               MailStatus.FAILED)))
                              .group_by(OutboxMessage.status)).tuples().all()
    found = [({"status": str(MailStatus(status).value)}, float(count)) for status, count, _oldest in rows]
    return found


def _oldest_waiting() -> list[tuple[dict[str, str], float]]:
    oldest = db.session.scalar(select(func.min(OutboxMessage.created_at)).where(
        OutboxMessage.status.in_((MailStatus.PENDING, MailStatus.SENDING))))
    return [({}, (utcnow() - aware(oldest)).total_seconds() if oldest else 0.0)]


metrics.register_gauge("kb_outbox_messages", "Mail in the outbox not sent, by status (pending, sending, failed)",
                       _backlog)
metrics.register_gauge("kb_outbox_oldest_waiting_seconds", "Age of the oldest mail still waiting to be sent",
                       _oldest_waiting)


def _attempt(row: OutboxMessage) -> tuple[str, dict[str, object]]:
    """Send one claimed message; its outcome and the columns to write (the caller writes them under its claim)."""
    if not current_app.config.get("MAIL_SERVER"):
        log.info("MAIL_SERVER not set; not sent: %s to %s", row.subject, row.recipient)
        return "not_sent", {"status": MailStatus.NOT_SENT}
    attempts = row.attempts + 1
    error = mail.deliver(message_from_string(row.message, policy=policy.SMTP))
    if error is None:
        return "sent", {"status": MailStatus.SENT, "sent_at": utcnow(), "last_error": "", "attempts": attempts}
    if attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        log.error("mail %s to %s failed for good after %d attempts: %s", row.id, row.recipient, attempts, error)
        return "failed", {"status": MailStatus.FAILED, "last_error": error[:2000], "attempts": attempts}
    log.warning("mail %s to %s failed (attempt %d), retrying: %s", row.id, row.recipient, attempts, error)
    return "retry", {"status": MailStatus.PENDING, "next_attempt_at": utcnow() + backoff(attempts),
                     "last_error": error[:2000], "attempts": attempts}


def retry(row: OutboxMessage) -> None:
    """Staff send a failed message again: from now, with a fresh count."""
    row.status, row.attempts, row.next_attempt_at, row.claimed_at = MailStatus.PENDING, 0, utcnow(), None
    db.session.flush()
    if has_request_context():  # staff asked for this one: it goes out with their request
        g.setdefault("outbox_queued", []).append(row.id)


def _troubled() -> ColumnElement[bool]:
    """Messages that failed for good or keep failing: what staff should look at."""
    return or_(OutboxMessage.status == MailStatus.FAILED,
               and_(OutboxMessage.status == MailStatus.PENDING, OutboxMessage.attempts > 0))


def troubled(limit: int = 200) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(_troubled())
                                   .order_by(OutboxMessage.id.desc()).limit(limit)))


def not_sent_count() -> int:
    """Mail that was only logged because no mail server is configured."""
    return int(db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.status == MailStatus.NOT_SENT)) or 0)


def troubled_count() -> int:
    return int(db.session.scalar(select(func.count(OutboxMessage.id)).where(_troubled())) or 0)


def deliver_after_commit() -> None:
    """Called by a view once its transaction committed, for the mail that request queued (nothing else): with
    MAIL_DELIVERY=inline (the default) it goes out now, in this request; with MAIL_DELIVERY=queue a job is queued
    for `flask --app shop jobs worker`; with MAIL_DELIVERY=worker it is left to `flask --app shop mail deliver`
    (or the `jobs cron` schedule). Others' retries are the deliverer's, never a buyer's wait."""
    queued = g.pop("outbox_queued", []) if has_request_context() else []
    if not queued:
        return
    if current_app.config["MAIL_DELIVERY"] == "queue":
        enqueue("deliver_mail")
    elif current_app.config["MAIL_DELIVERY"] == "inline":
        try:
            deliver_due(limit=len(queued), only=queued)
        except Exception:  # noqa: BLE001 - the change the mail is about is saved; the mail waits in the outbox
            db.session.rollback()
            log.exception("mail delivery after commit failed; the outbox keeps the mail")
