"""PNBP reconciliation: what each facility's sales earned the state per accounting month (from the ledger),
what was deposited (PNBP deposits), what is still owed or overdue, and which months are closed. Every figure
is a SQL aggregate (per facility, month and day at most); nothing loops over ledger entries."""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from shop.audit.models import AuditEntry
from shop.catalog.models import Facility
from shop.extensions import db
from shop.finance.deposits import deposit_due, month_of, period_on, regime_changes, report_due
from shop.finance.models import PnbpDeposit, PnbpDepositMonth, StatementSent
from shop.ledger.models import Channel, LedgerEntry, Part, PeriodClose
from shop.timeutil import aware, local_today


class MonthState(enum.StrEnum):
    OPEN = "open"  # the month has not ended yet
    BALANCED = "balanced"
    OUTSTANDING = "outstanding"  # less deposited than accrued
    OVER_DEPOSITED = "over_deposited"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])


STATE_LABELS = {
    MonthState.OPEN: _l("running (month not ended)"),
    MonthState.BALANCED: _l("balanced"),
    MonthState.OUTSTANDING: _l("outstanding"),
    MonthState.OVER_DEPOSITED: _l("over-deposited"),
    MonthState.CLOSED: _l("closed"),
}


@dataclass
class MonthRow:
    """One facility's accounting month."""

    facility: Facility
    month: str
    accrued: int = 0  # PNBP booked in the month (sales less reversals, carried-over ones included)
    deposited: int = 0
    carried_in: int = 0  # of `accrued`: entries of sales of closed earlier months, booked here
    direct: int = 0  # of `accrued`: PNBP of direct sales at galleries and exhibitions (#28)
    # Of `carried_in`, PNBP refunded from closed months whose PNBP was deposited: it is reclaimed from the treasury
    # (pengembalian PNBP), never netted against this month's deposits.
    reclaim: int = 0
    overdue: int = 0  # owed and past its deposit deadline
    closed: PeriodClose | None = None
    sent: StatementSent | None = None  # its monthly statement, sent to the head of the facility (#29)
    today: date = field(default_factory=date.today)
    days: dict[date, int] = field(default_factory=dict)  # PNBP per accounting day
    regime_changes: list[tuple[date, int]] = field(default_factory=list)  # (first day, period before), oldest first

    def due(self, day: date) -> date:
        """The deposit deadline of the PNBP received on `day`, under the regime in force that day."""
        return deposit_due(day, period_on(day, self.facility.deposit_period_days, self.regime_changes))
    payments: list[tuple[date, int]] = field(default_factory=list)  # deposits for the month: (date, rupiah)

    @property
    def late(self) -> tuple[int, int]:
        """PNBP of this month deposited after its deadline, and the most days any of it was late: the question an
        inspector asks first. Deposits pay the month's earliest days first; a reversal takes back what the latest
        deposits paid."""
        owed: list[list[Any]] = [[self.due(day), amount]
                                 for day, amount in sorted(self.days.items()) if amount > 0]
        paid: list[list[Any]] = []  # [due, deposited on, amount] in the order deposits paid them
        for on, amount in sorted(self.payments, key=lambda payment: (payment[0], -payment[1])):
            while amount > 0 and owed:
                part = min(amount, owed[0][1])
                paid.append([owed[0][0], on, part])
                owed[0][1] -= part
                amount -= part
                if owed[0][1] == 0:
                    owed.pop(0)
            while amount < 0 and paid:
                back = min(-amount, paid[-1][2])
                paid[-1][2] -= back
                amount += back
                if paid[-1][2] == 0:
                    owed.insert(0, [paid.pop()[0], back])
        late = [(on - due).days for due, on, amount in paid if amount > 0 and on > due]
        return sum(amount for due, on, amount in paid if amount > 0 and on > due), max(late, default=0)

    @property
    def outstanding(self) -> int:
        """Positive: still to deposit; negative: deposited too much. What is reclaimed from the treasury is apart."""
        return self.accrued + self.reclaim - self.deposited

    @property
    def shortfall(self) -> int:
        """Still to deposit (never netted against another month's or facility's over-deposit)."""
        return max(0, self.outstanding)

    @property
    def over_deposit(self) -> int:
        return max(0, -self.outstanding)

    @property
    def ended(self) -> bool:
        return self.month < month_of(self.today)

    @property
    def state(self) -> MonthState:
        if self.closed is not None:
            return MonthState.CLOSED
        if not self.ended:
            return MonthState.OPEN
        if self.outstanding == 0:
            return MonthState.BALANCED
        return MonthState.OUTSTANDING if self.outstanding > 0 else MonthState.OVER_DEPOSITED

    @property
    def report_due(self) -> date:
        return report_due(self.month)

    @property
    def report_pending(self) -> bool:
        """Ended, and its statement to the head of the facility not yet recorded as sent: due by the 10th (or late).
        Closing the month alone does not send it."""
        return self.ended and self.sent is None

    @property
    def report_late(self) -> bool:
        return self.report_pending and self.today > self.report_due

    @property
    def closable(self) -> bool:
        return self.state is MonthState.BALANCED


@dataclass(frozen=True)
class Filters:
    facility_id: int | None = None
    year: int | None = None
    month: str | None = None


def overview(filters: Filters = Filters()) -> list[MonthRow]:
    """Every facility × month with PNBP booked or deposited (and each facility's current month), newest first."""
    facilities = {f.id: f for f in db.session.scalars(select(Facility).options(selectinload(Facility.region)))}
    if filters.facility_id is not None:
        facilities = {k: v for k, v in facilities.items() if k == filters.facility_id}
    rows: dict[tuple[int, str], MonthRow] = {}

    changes = regime_changes(list(facilities))

    def row(facility_id: int, month: str) -> MonthRow:
        if (facility_id, month) not in rows:
            facility = facilities[facility_id]
            rows[(facility_id, month)] = MonthRow(facility, month, today=local_today(facility.timezone),
                                                  regime_changes=changes.get(facility_id, []))
        return rows[(facility_id, month)]

    daily = _where(select(LedgerEntry.facility_id, LedgerEntry.month, LedgerEntry.day, LedgerEntry.channel,
                          func.sum(LedgerEntry.amount))
                   .where(LedgerEntry.part == Part.PNBP)
                   .group_by(LedgerEntry.facility_id, LedgerEntry.month, LedgerEntry.day, LedgerEntry.channel),
                   LedgerEntry.facility_id, LedgerEntry.month, filters)
    for facility_id, month, day, channel, amount in db.session.execute(daily).tuples():
        if facility_id in facilities:
            current = row(facility_id, month)
            current.accrued += int(amount)
            current.days[day] = current.days.get(day, 0) + int(amount)
            if channel == Channel.DIRECT:
                current.direct += int(amount)
    # Entries of earlier months' sales booked in this month: "carried over" only where that month is closed.
    earlier = _where(select(LedgerEntry.facility_id, LedgerEntry.month, LedgerEntry.origin_month,
                            func.sum(LedgerEntry.amount))
                     .where(LedgerEntry.part == Part.PNBP, LedgerEntry.origin_month != LedgerEntry.month)
                     .group_by(LedgerEntry.facility_id, LedgerEntry.month, LedgerEntry.origin_month),
                     LedgerEntry.facility_id, LedgerEntry.month, filters)
    closed_months = set(db.session.execute(select(PeriodClose.facility_id, PeriodClose.month)).tuples())

    deposited = _where(select(PnbpDeposit.facility_id, PnbpDepositMonth.month, PnbpDeposit.deposited_on,
                              func.sum(PnbpDepositMonth.amount))
                       .join(PnbpDeposit).group_by(PnbpDeposit.facility_id, PnbpDepositMonth.month,
                                                   PnbpDeposit.deposited_on),
                       PnbpDeposit.facility_id, PnbpDepositMonth.month, filters)
    for facility_id, month, on, amount in db.session.execute(deposited).tuples():
        if facility_id in facilities:
            row(facility_id, month).deposited += int(amount)
            row(facility_id, month).payments.append((on, int(amount)))

    for facility_id, month, origin, amount in db.session.execute(earlier).tuples():
        if facility_id in facilities and (facility_id, origin) in closed_months:
            row(facility_id, month).carried_in += int(amount)
            row(facility_id, month).reclaim += max(0, -int(amount))

    for closing in db.session.scalars(_where(select(PeriodClose), PeriodClose.facility_id, PeriodClose.month,
                                             filters)):
        if closing.facility_id in facilities:
            row(closing.facility_id, closing.month).closed = closing
    for sent in db.session.scalars(_where(select(StatementSent), StatementSent.facility_id, StatementSent.month,
                                          filters).order_by(StatementSent.recorded_at, StatementSent.id)):
        if sent.facility_id in facilities:  # the last one sent counts, and only if sent after the month's close
            current = row(sent.facility_id, sent.month)
            # (a month reopened since it was sent is not sent: its figures may change, and it is sent again)
            current.sent = sent if current.closed is not None and aware(sent.recorded_at) >= aware(
                current.closed.closed_at) else None

    if filters.month is None:
        for facility in facilities.values():
            current_month = month_of(local_today(facility.timezone))
            if facility.active and (filters.year is None or str(filters.year) == current_month[:4]):
                row(facility.id, current_month)
    for current in rows.values():
        current.overdue = overdue(current)
    by_place = sorted(rows.values(), key=lambda r: (r.facility.region.name, r.facility.name))
    return sorted(by_place, key=lambda r: r.month, reverse=True)  # newest month first, facilities A to Z in each


def _where(query: Any, facility_column: Any, month_column: Any, filters: Filters) -> Any:
    if filters.facility_id is not None:
        query = query.where(facility_column == filters.facility_id)
    if filters.month is not None:
        query = query.where(month_column == filters.month)
    elif filters.year is not None:
        query = query.where(month_column.between(f"{filters.year}-01", f"{filters.year}-12"))
    return query


def overdue(row: MonthRow) -> int:
    """PNBP of the month whose deposit deadline has passed and that the month's deposits do not cover yet.

    Deposits for a month pay its earliest days first; each day's PNBP is due by the facility's regime."""
    if row.closed is not None or row.outstanding <= 0:
        return 0
    due = sum(amount for day, amount in row.days.items() if row.due(day) < row.today)
    return max(0, min(due - row.deposited, row.outstanding))


def month_detail(facility: Facility, month: str) -> MonthRow:
    found = overview(Filters(facility_id=facility.id, month=month))
    return found[0] if found else MonthRow(facility, month, today=local_today(facility.timezone))


def month_entries(facility_id: int, month: str) -> Select[tuple[LedgerEntry]]:
    """The PNBP entries behind a month's accrued figure (a query, to paginate), newest first."""
    return (select(LedgerEntry).options(selectinload(LedgerEntry.order), selectinload(LedgerEntry.direct_sale))
            .where(LedgerEntry.part == Part.PNBP, LedgerEntry.facility_id == facility_id, LedgerEntry.month == month)
            .order_by(LedgerEntry.id.desc()))


def carried_out(facility_id: int, month: str) -> list[LedgerEntry]:
    """PNBP entries of this month's sales that were booked in a later month because this one was closed."""
    return list(db.session.scalars(
        select(LedgerEntry).options(selectinload(LedgerEntry.order), selectinload(LedgerEntry.direct_sale))
        .where(LedgerEntry.part == Part.PNBP, LedgerEntry.facility_id == facility_id,
               LedgerEntry.origin_month == month, LedgerEntry.month != month).order_by(LedgerEntry.id)))


@dataclass(frozen=True)
class PeriodEvent:
    """A close or reopen of a facility's month, from the audit log: when, by whom, and why (a reopen)."""

    at: datetime
    closed: bool
    by: str
    reason: str


def period_history(facility_id: int, month: str) -> list[PeriodEvent]:
    """Every close and reopen of this facility's month, oldest first."""
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action.in_(("period.close", "period.reopen")), AuditEntry.target_type == "Facility",
        AuditEntry.target_id == str(facility_id)).order_by(AuditEntry.at, AuditEntry.id))
    return [PeriodEvent(entry.at, entry.action == "period.close", entry.actor_email or "—", entry.note)
            for entry in entries if (entry.after or entry.before or {}).get("month") == month]


def month_deposits(facility_id: int, month: str) -> list[PnbpDepositMonth]:
    return list(db.session.scalars(
        select(PnbpDepositMonth).join(PnbpDeposit).options(selectinload(PnbpDepositMonth.deposit))
        .where(PnbpDeposit.facility_id == facility_id, PnbpDepositMonth.month == month)
        .order_by(PnbpDeposit.deposited_on, PnbpDeposit.id)))


def deposits(facility_id: int | None = None, year: int | None = None) -> list[PnbpDeposit]:
    query = (select(PnbpDeposit).options(selectinload(PnbpDeposit.months), selectinload(PnbpDeposit.facility))
             .order_by(PnbpDeposit.deposited_on.desc(), PnbpDeposit.id.desc()))
    if facility_id is not None:
        query = query.where(PnbpDeposit.facility_id == facility_id)
    if year is not None:
        query = query.where(PnbpDeposit.deposited_on.between(date(year, 1, 1), date(year, 12, 31)))
    return list(db.session.scalars(query))


def reversed_ids() -> set[int]:
    return set(db.session.scalars(select(PnbpDeposit.reverses_id).where(PnbpDeposit.reverses_id.is_not(None))))


def totals(rows: list[MonthRow]) -> dict[str, int]:
    sums: dict[str, int] = defaultdict(int)
    for current in rows:
        sums["accrued"] += current.accrued
        sums["deposited"] += current.deposited
        sums["outstanding"] += current.outstanding
        sums["shortfall"] += current.shortfall
        sums["over_deposit"] += current.over_deposit
        sums["overdue"] += current.overdue
        sums["carried_in"] += current.carried_in
        sums["reclaim"] += current.reclaim
    return dict(sums)
