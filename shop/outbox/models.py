"""Outgoing mail waiting for, or done with, delivery."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import Model, enum_column
from shop.timeutil import utcnow


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by one deliverer
    SENT = "sent"
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS: staff see it and may send it again
    NOT_SENT = "not_sent"  # no MAIL_SERVER configured: logged only

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    MailStatus.PENDING: _l("waiting"), MailStatus.SENDING: _l("sending"), MailStatus.SENT: _l("sent"),
    MailStatus.FAILED: _l("failed"), MailStatus.NOT_SENT: _l("not sent (no mail server)"),
}


class OutboxMessage(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))  # e.g. "order.confirmation"
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)  # the whole RFC 5322 message, as rendered
    status: Mapped[MailStatus] = mapped_column(enum_column(MailStatus, "status"), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A mail that must go out once however often its job runs (the daily certificate list: kind and day).
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_outbox_message_status_next", "status", "next_attempt_at"),)
