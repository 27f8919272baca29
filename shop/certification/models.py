"""Halal, BPOM and P-IRT certificates of products."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import Model, enum_column
from shop.timeutil import utcnow

if TYPE_CHECKING:
    from shop.catalog.models import Product


class CertType(enum.StrEnum):
    HALAL = "halal"  # BPJPH halal certificate, number "ID" + digits
    BPOM_MD = "bpom_md"  # BPOM distribution permit, domestic processed food
    BPOM_ML = "bpom_ml"  # BPOM distribution permit, imported processed food
    PIRT = "pirt"  # home-industry food permit (SPP-IRT), 15 digits

    @property
    def label(self) -> str:
        return str(TYPE_LABELS[self])


class RecordedStatus(enum.StrEnum):
    """What staff recorded. Expiry is not recorded: it is derived from the dates when read."""

    IN_PROCESS = "in_process"
    VALID = "valid"
    REVOKED = "revoked"


class CertStatus(enum.StrEnum):
    """The status a reader sees, derived at the moment of reading."""

    NOT_REQUIRED = "not_required"
    MISSING = "missing"
    IN_PROCESS = "in_process"
    VALID = "valid"
    EXPIRING_SOON = "expiring_soon"
    EXPIRED = "expired"
    REVOKED = "revoked"

    @property
    def allows_sale(self) -> bool:
        return self in (CertStatus.NOT_REQUIRED, CertStatus.VALID, CertStatus.EXPIRING_SOON)

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


TYPE_LABELS = {
    CertType.HALAL: _l("Halal"),
    CertType.BPOM_MD: _l("BPOM RI MD"),
    CertType.BPOM_ML: _l("BPOM RI ML"),
    CertType.PIRT: _l("P-IRT"),
}

STATUS_LABELS = {
    CertStatus.NOT_REQUIRED: _l("not required"),
    CertStatus.MISSING: _l("missing"),
    CertStatus.IN_PROCESS: _l("in process"),
    CertStatus.VALID: _l("valid"),
    CertStatus.EXPIRING_SOON: _l("expiring soon"),
    CertStatus.EXPIRED: _l("expired"),
    CertStatus.REVOKED: _l("revoked"),
}

REQUIREMENT_LABELS = {
    "halal": _l("Halal certificate"),
    "bpom_or_pirt": _l("Food permit (BPOM MD/ML or P-IRT)"),
}


class Certification(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    cert_type: Mapped[CertType] = mapped_column(enum_column(CertType, "cert_type"))
    number: Mapped[str] = mapped_column(String(40), default="")
    issuer: Mapped[str] = mapped_column(String(160), default="")
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[RecordedStatus] = mapped_column(enum_column(RecordedStatus, "status"), default=RecordedStatus.VALID)
    # Since Perppu 2/2022 a halal certificate lapses when composition or process changes.
    composition_changed: Mapped[bool] = mapped_column(default=False)
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(back_populates="certifications")

    def status_on(self, day: date, warning_days: int = 60) -> CertStatus:
        """The status on `day`: expired the day after `expires_on`, expiring soon within the window."""
        if self.status == RecordedStatus.REVOKED or self.composition_changed:
            return CertStatus.REVOKED
        if self.status == RecordedStatus.IN_PROCESS:
            return CertStatus.IN_PROCESS
        if self.expires_on is not None:
            if day > self.expires_on:
                return CertStatus.EXPIRED
            if day >= self.expires_on - timedelta(days=warning_days):
                return CertStatus.EXPIRING_SOON
        return CertStatus.VALID
