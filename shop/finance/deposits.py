"""PNBP deposits (recorded, corrected only by reversing deposits), facilities' deposit regimes, and closing and
reopening a facility's accounting month. Functions flush, never commit; every change is in the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shop.accounts.models import Role
from shop.audit.service import record
from shop.catalog.models import DepositRegime, Facility
from shop.extensions import db
from shop.finance.holidays import holidays
from shop.finance.models import DepositRegimeChange, PnbpDeposit, PnbpDepositMonth
from shop.ledger.models import LedgerEntry, Part, PeriodClose
from shop.ledger.service import lock_facilities, next_month
from shop.timeutil import local_today
from shop.uploads import DocumentRejected, checked_document, remove_private_document, save_private_document

if TYPE_CHECKING:
    from shop.accounts.models import User

BILLING_CODE = re.compile(r"\d{15}")
NTPN = re.compile(r"[0-9A-Z]{16}")
NTB = re.compile(r"[0-9A-Za-z\-/]{1,32}")
MONTH = re.compile(r"(20\d{2})-(0[1-9]|1[0-2])")  # an accounting month of this century


class DepositInvalid(Exception):
    """What is wrong with a deposit as typed: field name → problem key (the view words them)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{name}: {problem}" for name, problem in problems.items()))
        self.problems = problems


class PeriodError(Exception):
    """A close or reopen the rules refuse; `str()` is a problem key the view translates."""


@dataclass(frozen=True)
class DepositInput:
    """A deposit as finance typed it. `months` maps each accounting month it pays ("2026-10") to rupiah;
    `amount` is the total on the bank's receipt, which must equal their sum."""

    facility_id: int | None
    amount: int | None
    months: dict[str, int | None] = field(default_factory=dict)
    billing_code: str = ""
    billing_expires_on: date | None = None
    ntpn: str = ""
    ntb: str = ""
    deposited_on: date | None = None
    bank: str = ""
    note: str = ""
    repeated_months: tuple[str, ...] = ()  # a month typed on two lines of the form
    nothing_owed_confirmed: bool = False  # finance ticked "record it anyway" for a month that owes nothing


EARLIEST_DEPOSIT = date(2000, 1, 1)  # a deposit or billing date before this is a typing slip in the year


def facility_today(facility: Facility) -> date:
    return local_today(facility.timezone)


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def month_closed(facility_id: int, month: str) -> bool:
    return db.session.scalar(select(PeriodClose.id).where(PeriodClose.facility_id == facility_id,
                                                          PeriodClose.month == month)) is not None


def check_deposit(data: DepositInput, receipt: bytes | None = None) -> dict[str, str]:
    """Every problem with the deposit, per field (empty when it may be recorded)."""
    problems: dict[str, str] = {}
    facility = db.session.get(Facility, data.facility_id) if data.facility_id else None
    if facility is None:
        problems["facility_id"] = "required"
    if not data.months:
        problems["months"] = "required"
    if data.repeated_months:
        problems["months"] = "repeated_month"
    for month, amount in data.months.items():
        if "months" in problems:
            break
        if not MONTH.fullmatch(month):
            problems["months"] = "month"
        elif amount is None or amount <= 0:
            problems["months"] = "month_amount"
        elif facility is not None and month > month_of(facility_today(facility)):
            problems["months"] = "future_month"
        elif facility is not None and month_closed(facility.id, month):
            problems["months"] = "closed_month"
    if data.amount is None or data.amount <= 0:
        problems["amount"] = "amount"
    elif "months" not in problems and sum(a or 0 for a in data.months.values()) != data.amount:
        problems["amount"] = "sum"
    if not BILLING_CODE.fullmatch(data.billing_code):
        problems["billing_code"] = "billing_code"
    if data.billing_expires_on is None:
        problems["billing_expires_on"] = "date"
    if not NTPN.fullmatch(data.ntpn):
        problems["ntpn"] = "ntpn"
    elif standing_with_ntpn(data.ntpn):
        problems["ntpn"] = "ntpn_taken"
    if not NTB.fullmatch(data.ntb):
        problems["ntb"] = "ntb"
    if not data.bank.strip():
        problems["bank"] = "required"
    elif len(data.bank.strip()) > 80:
        problems["bank"] = "too_long"
    if data.deposited_on is None:
        problems["deposited_on"] = "date"
    elif data.deposited_on < EARLIEST_DEPOSIT:
        problems["deposited_on"] = "too_old"
    else:
        if facility is not None and data.deposited_on > facility_today(facility):
            problems["deposited_on"] = "future"
        elif data.months and "months" not in problems and data.deposited_on < date.fromisoformat(
                f"{min(data.months)}-01"):
            problems["deposited_on"] = "before_month"
        elif data.billing_expires_on is not None and data.deposited_on > data.billing_expires_on:
            problems["billing_expires_on"] = "expired"
    if data.billing_expires_on is not None and data.billing_expires_on < EARLIEST_DEPOSIT:
        problems["billing_expires_on"] = "too_old"
    if facility is not None and "months" not in problems and not data.nothing_owed_confirmed and any(
            outstanding(facility.id, month) <= 0 for month in data.months):
        problems["months"] = "nothing_owed"  # a slip of the drop-down (Bapas Luwuk for Lapas Luwuk), most likely
    try:
        checked_document(receipt or b"")
    except DocumentRejected as rejected:
        problems["receipt"] = rejected.reason
    return problems


def outstanding(facility_id: int, month: str) -> int:
    """PNBP booked in this facility-month less what deposits already paid for it (what is reclaimed apart)."""
    return pnbp_accrued(facility_id, month) + pnbp_to_reclaim(facility_id, month) - pnbp_deposited(facility_id, month)


def standing_with_ntpn(ntpn: str) -> bool:
    """Whether a deposit that stands (was not reversed) holds this NTPN: a reversed one frees it, so the corrected
    record of the same bank receipt can be made."""
    reversed_ids = select(PnbpDeposit.reverses_id).where(PnbpDeposit.reverses_id.is_not(None))
    return db.session.scalar(select(PnbpDeposit.id).where(PnbpDeposit.ntpn == ntpn,
                                                          PnbpDeposit.id.not_in(reversed_ids)).limit(1)) is not None


def record_deposit(data: DepositInput, receipt: bytes | None, *, actor: User | None) -> PnbpDeposit:
    """Record a deposit the bank confirmed (NTPN). Raises DepositInvalid with every problem at once."""
    problems = check_deposit(data, receipt)
    if problems:
        raise DepositInvalid(problems)
    assert data.facility_id is not None and data.amount is not None and data.deposited_on is not None
    lock_facilities([data.facility_id])
    closed = [month for month in data.months if month_closed(data.facility_id, month)]
    if closed:  # closed by someone else while this form was being filled in
        raise DepositInvalid({"months": "closed_month"})
    if standing_with_ntpn(data.ntpn):  # recorded by someone else while this form was being filled in
        raise DepositInvalid({"ntpn": "ntpn_taken"})
    uses = db.session.scalar(select(func.count(PnbpDeposit.id)).where(PnbpDeposit.ntpn == data.ntpn)) or 0
    try:
        stored = save_private_document(receipt or b"", "pnbp")
    except DocumentRejected as error:  # pragma: no cover - check_deposit already refused it
        raise DepositInvalid({"receipt": error.reason}) from None
    deposit = PnbpDeposit(facility_id=data.facility_id, amount=data.amount, billing_code=data.billing_code,
                          billing_expires_on=data.billing_expires_on, ntpn=data.ntpn, ntpn_use=uses + 1, ntb=data.ntb,
                          deposited_on=data.deposited_on, bank=data.bank.strip(), receipt=stored,
                          note=data.note.strip(), created_by_id=getattr(actor, "id", None))
    deposit.months = [PnbpDepositMonth(month=month, amount=amount or 0)
                      for month, amount in sorted(data.months.items())]
    db.session.add(deposit)
    try:
        db.session.flush()
    except IntegrityError:  # the same NTPN, recorded by someone else a moment ago; the caller rolls back
        remove_private_document(stored)  # the receipt of a deposit that was never recorded
        raise DepositInvalid({"ntpn": "ntpn_taken"}) from None
    record("pnbp_deposit.record", deposit, None, deposit_snapshot(deposit), note=deposit.note, actor=actor)
    return deposit


def reverse_deposit(deposit: PnbpDeposit, reason: str, *, actor: User | None) -> PnbpDeposit:
    """Cancel a deposit recorded by mistake with a reversing deposit: the same months, negative amounts."""
    if not reason.strip():
        raise PeriodError("reason")
    if deposit.reverses_id is not None:
        raise PeriodError("is_reversal")
    lock_facilities([deposit.facility_id])
    if db.session.scalar(select(PnbpDeposit.id).where(PnbpDeposit.reverses_id == deposit.id)) is not None:
        raise PeriodError("already_reversed")
    if any(month_closed(deposit.facility_id, part.month) for part in deposit.months):
        raise PeriodError("closed_month")
    reversal = PnbpDeposit(facility_id=deposit.facility_id, amount=-deposit.amount, billing_code=deposit.billing_code,
                           billing_expires_on=deposit.billing_expires_on, ntpn=None, ntb=deposit.ntb,
                           deposited_on=facility_today(deposit.facility), bank=deposit.bank, receipt=None,
                           note=reason.strip(), reverses_id=deposit.id, created_by_id=getattr(actor, "id", None))
    reversal.months = [PnbpDepositMonth(month=part.month, amount=-part.amount) for part in deposit.months]
    db.session.add(reversal)
    try:
        db.session.flush()
    except IntegrityError:  # a second request did the same a moment ago; the caller rolls back
        raise PeriodError("already_reversed") from None
    record("pnbp_deposit.reverse", deposit, deposit_snapshot(deposit), deposit_snapshot(reversal), note=reason.strip(),
           actor=actor)
    return reversal


def deposit_snapshot(deposit: PnbpDeposit) -> dict[str, object]:
    return {"facility_id": deposit.facility_id, "amount": deposit.amount, "billing_code": deposit.billing_code,
            "billing_expires_on": deposit.billing_expires_on, "ntpn": deposit.ntpn, "ntb": deposit.ntb,
            "deposited_on": deposit.deposited_on, "bank": deposit.bank, "reverses_id": deposit.reverses_id,
            "months": {part.month: part.amount for part in deposit.months}}


# -- closing a month

def pnbp_accrued(facility_id: int, month: str) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.part == Part.PNBP, LedgerEntry.facility_id == facility_id, LedgerEntry.month == month)) or 0)


def pnbp_to_reclaim(facility_id: int, month: str) -> int:
    """PNBP refunded in this month of sales of closed earlier months (their PNBP deposited): reclaimed from the
    treasury by a refund request (pengembalian PNBP), so kept out of what this month owes or has over-paid."""
    closed = select(PeriodClose.month).where(PeriodClose.facility_id == facility_id)
    per_origin = db.session.execute(
        select(LedgerEntry.origin_month, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.part == Part.PNBP, LedgerEntry.facility_id == facility_id, LedgerEntry.month == month,
               LedgerEntry.origin_month != month, LedgerEntry.origin_month.in_(closed))
        .group_by(LedgerEntry.origin_month)).tuples()
    return sum(max(0, -int(amount)) for _origin, amount in per_origin)


def pnbp_deposited(facility_id: int, month: str) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(PnbpDepositMonth.amount), 0)).join(PnbpDeposit).where(
        PnbpDeposit.facility_id == facility_id, PnbpDepositMonth.month == month)) or 0)


def close_month(facility: Facility, month: str, *, actor: User | None) -> PeriodClose:
    """Close a facility's month once it has ended and its PNBP balances: later entries go to the next open month."""
    if not MONTH.fullmatch(month) or month >= month_of(facility_today(facility)):
        raise PeriodError("not_ended")
    lock_facilities([facility.id])  # no sale, refund or deposit is written into the month meanwhile
    if month_closed(facility.id, month):
        raise PeriodError("already_closed")
    accrued, deposited = pnbp_accrued(facility.id, month), pnbp_deposited(facility.id, month)
    if accrued + pnbp_to_reclaim(facility.id, month) != deposited:
        raise PeriodError("not_balanced")
    closing = PeriodClose(facility_id=facility.id, month=month, accrued=accrued, deposited=deposited,
                          closed_by_id=getattr(actor, "id", None))
    db.session.add(closing)
    try:
        db.session.flush()
    except IntegrityError:  # a second request did the same a moment ago; the caller rolls back
        raise PeriodError("already_closed") from None
    record("period.close", ("Facility", facility.id), None, {"month": month, "accrued": accrued,
                                                             "deposited": deposited}, actor=actor)
    return closing


def reopen_month(facility: Facility, month: str, reason: str, *, actor: User | None) -> None:
    """Only an admin reopens a closed month, and says why (in the audit log)."""
    if actor is None or not actor.has_role(Role.ADMIN):
        raise PeriodError("admin_only")
    if not reason.strip():
        raise PeriodError("reason")
    lock_facilities([facility.id])
    closing = db.session.scalar(select(PeriodClose).where(PeriodClose.facility_id == facility.id,
                                                          PeriodClose.month == month))
    if closing is None:
        raise PeriodError("not_closed")
    record("period.reopen", ("Facility", facility.id), {"month": month, "accrued": closing.accrued,
                                                        "deposited": closing.deposited}, None,
           note=reason.strip(), actor=actor)
    db.session.delete(closing)
    db.session.flush()


# -- deposit regimes and deadlines

def set_deposit_regime(facility: Facility, regime: DepositRegime, period_days: int, *, actor: User | None) -> None:
    """From today (the facility's day) on; PNBP received before keeps its deadline (DepositRegimeChange)."""
    days = 1 if regime is DepositRegime.DAILY else period_days
    if not 1 <= days <= 31:
        raise PeriodError("period_days")
    before = {"deposit_regime": facility.deposit_regime.value, "deposit_period_days": facility.deposit_period_days}
    db.session.add(DepositRegimeChange(facility_id=facility.id, effective_from=facility_today(facility),
                                       previous_period_days=facility.deposit_period_days, period_days=days,
                                       created_by_id=getattr(actor, "id", None)))
    facility.deposit_regime, facility.deposit_period_days = regime, days
    db.session.flush()
    record("facility.deposit_regime", facility, before,
           {"deposit_regime": regime.value, "deposit_period_days": days}, actor=actor)


def regime_changes(facility_ids: list[int] | None = None) -> dict[int, list[tuple[date, int]]]:
    """Per facility, each change's first day and the period in force before it, oldest first (one query)."""
    query = select(DepositRegimeChange).order_by(DepositRegimeChange.effective_from, DepositRegimeChange.id)
    if facility_ids is not None:
        query = query.where(DepositRegimeChange.facility_id.in_(facility_ids))
    found: dict[int, list[tuple[date, int]]] = {}
    for change in db.session.scalars(query):
        found.setdefault(change.facility_id, []).append((change.effective_from, change.previous_period_days))
    return found


def period_on(day: date, current: int, changes: list[tuple[date, int]]) -> int:
    """The deposit period in force on `day`: before the first change that came after it, that change's previous
    period; else the current one."""
    return next((previous for since, previous in changes if since > day), current)


def working_day_on_or_after(day: date) -> date:
    """Saturdays, Sundays and the public holidays finance keeps (shop.finance.holidays) roll to the next working
    day."""
    kept = holidays()
    while day.weekday() >= 5 or day in kept:
        day += timedelta(days=1)
    return day


def deposit_due(received: date, period_days: int) -> date:
    """The last day PNBP received on `received` may reach the treasury: the next working day under the daily
    regime (period 1), else `period_days` later, rolled to a working day (PMK 3/PMK.06/2013)."""
    return working_day_on_or_after(received + timedelta(days=max(period_days, 1)))


def report_due(month: str) -> date:
    """A month's receipts and deposits are reported to the head of the facility by the 10th of the next
    month (PP 29/2009, art. 16)."""
    return date.fromisoformat(f"{next_month(month)}-10")
