"""PNBP deposits to the state treasury (SIMPONI): what finance records against the PNBP the ledger accrues."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.models import Facility
from shop.extensions import Model, enum_column
from shop.guards import guard
from shop.timeutil import utcnow


class PnbpDeposit(Model):
    """PNBP a facility paid to the state treasury through SIMPONI: a kode billing (`billing_code`, 15 digits,
    valid until `billing_expires_on`) paid at a bank, proven by the NTPN (Nomor Transaksi Penerimaan Negara,
    16 letters and digits) and the bank's NTB. It may cover several accounting months (`months`).

    Never edited: a mistake is corrected by a reversing deposit (negative amount, `reverses_id`, a reason)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int]  # rupiah; negative on a reversal
    billing_code: Mapped[str] = mapped_column(String(15), default="")
    billing_expires_on: Mapped[date | None] = mapped_column(Date)
    ntpn: Mapped[str | None] = mapped_column(String(16))  # None on a reversal
    # The how-many-th deposit recorded with this NTPN: 1, then 2 after a mistaken record of it was reversed and the
    # corrected one recorded (the treasury's NTPN stays the same). Unique with the NTPN, so two records of one
    # NTPN at once cannot both stand; that no standing deposit holds it already is checked under the facility lock.
    ntpn_use: Mapped[int] = mapped_column(default=1, server_default="1")
    ntb: Mapped[str] = mapped_column(String(32), default="")
    deposited_on: Mapped[date] = mapped_column(Date)
    bank: Mapped[str] = mapped_column(String(80), default="")
    receipt: Mapped[str | None] = mapped_column(String(255))  # private upload (see shop.uploads)
    note: Mapped[str] = mapped_column(Text, default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("pnbp_deposit.id", ondelete="RESTRICT"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    facility: Mapped[Facility] = relationship()
    months: Mapped[list[PnbpDepositMonth]] = relationship(back_populates="deposit", order_by="PnbpDepositMonth.month")
    reverses: Mapped[PnbpDeposit | None] = relationship(remote_side=[id], foreign_keys=[reverses_id])

    __table_args__ = (
        Index("uq_pnbp_deposit_ntpn_use", "ntpn", "ntpn_use", unique=True),
        CheckConstraint("(reverses_id IS NULL AND amount > 0 AND ntpn IS NOT NULL) OR "
                        "(reverses_id IS NOT NULL AND amount < 0 AND ntpn IS NULL)",
                        name="deposit_or_reversal"),
    )


class PnbpDepositMonth(Model):
    """The part of a deposit that pays one accounting month's PNBP (signed like its deposit)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    deposit_id: Mapped[int] = mapped_column(ForeignKey("pnbp_deposit.id", ondelete="RESTRICT"))
    month: Mapped[str] = mapped_column(String(7))
    amount: Mapped[int]

    deposit: Mapped[PnbpDeposit] = relationship(back_populates="months")

    __table_args__ = (
        Index("uq_pnbp_deposit_month", "deposit_id", "month", unique=True),
        CheckConstraint("amount <> 0", name="month_amount_not_zero"),
    )


# A deposit is corrected by a reversing deposit, never edited (shop.guards).
guard(PnbpDeposit.__table__, "PNBP deposits are never edited: correct one with a reversing deposit")
guard(PnbpDepositMonth.__table__, "PNBP deposits are never edited: correct one with a reversing deposit")


class DepositRegimeChange(Model):
    """A facility's PNBP deposit regime changed from `effective_from` on: PNBP received before that day keeps the
    deadline of the regime it was received under (a change never moves a deadline that has already been set)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    previous_period_days: Mapped[int]  # the period before the change (1: the daily regime)
    period_days: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HolidayKind(enum.StrEnum):
    NATIONAL = "national"  # libur nasional
    COLLECTIVE = "collective"  # cuti bersama (the SKB of three ministers): not a working day for deposits either

    @property
    def label(self) -> str:
        return str(_l("National holiday") if self is HolidayKind.NATIONAL else _l("Collective leave (cuti bersama)"))


class PublicHoliday(Model):
    """A day that is not a working day for PNBP deposit deadlines (weekends never are), kept by finance per year."""

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[HolidayKind] = mapped_column(enum_column(HolidayKind, "kind"), default=HolidayKind.NATIONAL)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StatementSent(Model):
    """A facility's monthly PNBP statement (laporan bulanan, PP 29/2009) sent to the head of the facility: when and
    by whom. The overview's "report due / late" follows this record, not the month's close alone."""

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"))
    month: Mapped[str] = mapped_column(String(7))
    sent_on: Mapped[date] = mapped_column(Date)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sent_by: Mapped[User | None] = relationship()

    # Sent again after a reopened month is closed anew: the last one sent after the close counts.
    __table_args__ = (Index("ix_statement_sent_facility_month", "facility_id", "month"),)


guard(StatementSent.__table__, "the sending of a statement is recorded once and never edited")


class OnwardPart(enum.StrEnum):
    """What the cooperative, which collects the buyer's money, owes onward: the facility's PNBP, the makers' premi
    and the workshop's production capital."""

    PNBP = "pnbp"
    PREMI = "premi"
    PRODUCTION_CAPITAL = "production_capital"

    @property
    def label(self) -> str:
        return str(ONWARD_LABELS[self])


ONWARD_LABELS = {OnwardPart.PNBP: _l("PNBP (to the facility, for the treasury)"),
                 OnwardPart.PREMI: _l("Makers' premi"), OnwardPart.PRODUCTION_CAPITAL: _l("Production capital")}


class OnwardTransfer(Model):
    """Money the cooperative transferred to a facility (its PNBP, its production capital) or a workshop's makers
    (premi): date, part, amount, the bank's reference and its receipt. Never edited: a mistake is corrected by a
    reversing transfer (negative amount, `reverses_id`, a reason), as deposits are."""

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"), index=True)
    part: Mapped[OnwardPart] = mapped_column(enum_column(OnwardPart, "part"))
    amount: Mapped[int]  # rupiah; negative on a reversal
    transferred_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(80), default="")
    receipt: Mapped[str | None] = mapped_column(String(255))  # private upload (see shop.uploads)
    note: Mapped[str] = mapped_column(Text, default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("onward_transfer.id", ondelete="RESTRICT"),
                                                    unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    facility: Mapped[Facility] = relationship()

    __table_args__ = (
        CheckConstraint("(reverses_id IS NULL AND amount > 0) OR (reverses_id IS NOT NULL AND amount < 0)",
                        name="transfer_or_reversal"),
    )


guard(OnwardTransfer.__table__, "transfers are never edited: correct one with a reversing transfer")
