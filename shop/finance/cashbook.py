"""The receiving treasurer's month (#29): the cash book (Buku Kas Umum) of a facility's PNBP, and the monthly
statement (laporan bulanan) sent to the head of the facility by the 10th (PP 29/2009).

The cash book counts in days: each day's PNBP received (the ledger, every channel: online and direct), each deposit
to the treasury on the day it was made (its kode billing and NTPN), and PNBP refunded after its month was closed and
deposited (asked back from the treasury). The balance is what the treasurer holds and still owes: from the month's
opening balance (everything received before the month less everything deposited before it) to its closing balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.audit.service import record
from shop.catalog.models import Facility
from shop.extensions import db
from shop.finance.models import PnbpDeposit, PnbpDepositMonth, StatementSent
from shop.finance.reconciliation import MonthRow, month_detail
from shop.ledger.models import LedgerEntry, Part, PeriodClose
from shop.ledger.service import lock_facilities, next_month
from shop.timeutil import local_today


@dataclass(frozen=True)
class BookRow:
    day: date
    text: str
    reference: str = ""  # kode billing and NTPN of a deposit
    received: int = 0  # PNBP received (a day's net: refunds before the deposit lower it)
    deposited: int = 0  # paid to the treasury (a reversal of a mistaken record is negative)
    reclaimed: int = 0  # refunded after its month was closed and deposited: asked back from the treasury
    balance: int = 0


@dataclass
class CashBook:
    facility: Facility
    month: str
    opening: int
    rows: list[BookRow] = field(default_factory=list)

    @property
    def received(self) -> int:
        return sum(row.received for row in self.rows)

    @property
    def deposited(self) -> int:
        return sum(row.deposited for row in self.rows)

    @property
    def reclaimed(self) -> int:
        return sum(row.reclaimed for row in self.rows)

    @property
    def closing(self) -> int:
        return self.opening + self.received - self.deposited - self.reclaimed


def month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    return first, date.fromisoformat(f"{next_month(month)}-01") - timedelta(days=1)


def cash_book(facility: Facility, month: str) -> CashBook:
    """The month's cash book (three aggregate queries and the month's deposits)."""
    first, last = month_bounds(month)
    before_in = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.part == Part.PNBP, LedgerEntry.facility_id == facility.id, LedgerEntry.month < month)) or 0
    before_out = db.session.scalar(select(func.coalesce(func.sum(PnbpDeposit.amount), 0)).where(
        PnbpDeposit.facility_id == facility.id, PnbpDeposit.deposited_on < first)) or 0
    book = CashBook(facility, month, int(before_in) - int(before_out))
    closed = set(db.session.scalars(select(PeriodClose.month).where(PeriodClose.facility_id == facility.id)))
    lines: list[tuple[date, int, BookRow]] = []
    by_origin: dict[str, list[tuple[date, int]]] = {}
    for day, origin, amount in db.session.execute(
            select(LedgerEntry.day, LedgerEntry.origin_month, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.part == Part.PNBP, LedgerEntry.facility_id == facility.id, LedgerEntry.month == month)
            .group_by(LedgerEntry.day, LedgerEntry.origin_month)).tuples():
        if int(amount):
            by_origin.setdefault(origin, []).append((day, int(amount)))
    for origin, days in by_origin.items():
        net = sum(amount for _day, amount in days)
        if origin != month and origin in closed and net < 0:
            # As the reconciliation counts it: a closed month's entries carried here are netted over the month, and
            # only what is left below zero is asked back (on the day of the last of them).
            last = max(day for day, _amount in days)
            lines.append((last, 2, BookRow(last, _("PNBP of %(month)s refunded after it was deposited: to ask back "
                                                   "from the treasury", month=origin), reclaimed=-net)))
            continue
        for day, amount in days:
            if origin == month:
                text = _("PNBP received") if amount > 0 else _("PNBP refunded before it was deposited")
            elif amount > 0:
                text = _("PNBP received (a sale of %(month)s, carried over)", month=origin)
            else:
                text = _("PNBP of %(month)s refunded (carried over)", month=origin)
            lines.append((day, 0, BookRow(day, text, received=amount)))
    for deposit in db.session.scalars(select(PnbpDeposit).where(
            PnbpDeposit.facility_id == facility.id, PnbpDeposit.deposited_on >= first,
            PnbpDeposit.deposited_on <= last).order_by(PnbpDeposit.deposited_on, PnbpDeposit.id)):
        months = ", ".join(part.month for part in deposit.months)
        if deposit.reverses_id:
            text = _("Correction: deposit no. %(id)s reversed (%(reason)s)", id=deposit.reverses_id,
                     reason=deposit.note)
            reference = ""
        else:
            text = _("Deposited to the state treasury for %(months)s", months=months)
            reference = f"{deposit.billing_code} · NTPN {deposit.ntpn}"
        lines.append((deposit.deposited_on, 1, BookRow(deposit.deposited_on, text, reference,
                                                       deposited=deposit.amount)))
    balance = book.opening
    for _day, _order, row in sorted(lines, key=lambda item: (item[0], item[1])):
        balance += row.received - row.deposited - row.reclaimed
        book.rows.append(BookRow(row.day, row.text, row.reference, row.received, row.deposited, row.reclaimed,
                                 balance))
    return book


# -- the monthly statement

@dataclass(frozen=True)
class Deposited:
    deposited_on: date
    billing_code: str
    ntpn: str
    amount: int  # the part of it that paid this month's PNBP


@dataclass
class Statement:
    facility: Facility
    month: str
    book: CashBook
    row: MonthRow  # the reconciliation's month: accrued, deposited for it, late deposits, reclaim, closed
    deposits: list[Deposited]
    sent: StatementSent | None

    @property
    def late_amount(self) -> int:
        return self.row.late[0]

    @property
    def late_days(self) -> int:
        return self.row.late[1]

    @property
    def ended(self) -> bool:
        return self.month < f"{local_today(self.facility.timezone):%Y-%m}"

    @property
    def final(self) -> bool:
        """Produced from a closed month: the figures can no longer change."""
        return self.row.closed is not None


def statement(facility: Facility, month: str) -> Statement:
    deposits = [Deposited(deposit.deposited_on, deposit.billing_code, deposit.ntpn or "", int(part_amount))
                for deposit, part_amount in db.session.execute(
                    select(PnbpDeposit, PnbpDepositMonth.amount).join(PnbpDepositMonth)
                    .where(PnbpDeposit.facility_id == facility.id, PnbpDepositMonth.month == month)
                    .order_by(PnbpDeposit.deposited_on, PnbpDeposit.id)).tuples()]
    row = month_detail(facility, month)
    sent = row.sent
    return Statement(facility, month, cash_book(facility, month), row, deposits, sent)


def latest_sent(facility_id: int, month: str, since: datetime | None = None) -> StatementSent | None:
    """The month's last statement recorded as sent; with `since` (the month's close), only one sent after it: a month
    reopened and closed again is sent again, with its new figures."""
    query = select(StatementSent).where(StatementSent.facility_id == facility_id, StatementSent.month == month)
    if since is not None:
        query = query.where(StatementSent.recorded_at >= since)
    return db.session.scalar(query.order_by(StatementSent.recorded_at.desc(), StatementSent.id.desc()).limit(1))


class StatementRefused(Exception):
    """Why the statement cannot be marked sent, in the reader's language."""


def mark_sent(facility: Facility, month: str, sent_on: date, *, actor: User) -> StatementSent:
    """Record that the month's statement went to the head of the facility: only for a closed month, once."""
    lock_facilities([facility.id])  # a close or reopen of the month at the same moment waits, or this waits for it
    closing = db.session.scalar(select(PeriodClose).where(PeriodClose.facility_id == facility.id,
                                                          PeriodClose.month == month))
    if closing is None:
        raise StatementRefused(_("Close the month first: the statement is sent with the figures of a closed month."))
    if sent_on > local_today(facility.timezone) or f"{sent_on:%Y-%m}" <= month:
        raise StatementRefused(_("The date it was sent must be after the month and not in the future."))
    if latest_sent(facility.id, month, since=closing.closed_at) is not None:
        raise StatementRefused(_("This month's statement was already recorded as sent."))
    sent = StatementSent(facility_id=facility.id, month=month, sent_on=sent_on, sent_by_id=actor.id)
    db.session.add(sent)
    db.session.flush()
    record("pnbp_statement.sent", facility, None, {"month": month, "sent_on": sent_on.isoformat()}, actor=actor)
    return sent
