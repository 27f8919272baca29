"""Read-only questions to the ledger: browsing, totals, the invariants `ledger verify` checks, and exports."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, column, func, select, table
from sqlalchemy.orm import selectinload

from shop.extensions import db
from shop.ledger.models import REVERSAL_KINDS, EntryKind, LedgerEntry, Part, PeriodClose
from shop.orders.models import Order, OrderLine
from shop.payments.models import Payment, PaymentStatus
from shop.web import positive_int


@dataclass(frozen=True)
class LedgerFilter:
    facility_id: int | None = None
    month: str | None = None  # "YYYY-MM"
    part: Part | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LedgerFilter:
        """The ledger browser's filters from its query string (and its download's): anything odd is ignored."""
        month, part = args.get("month") or "", args.get("part")
        return cls(facility_id=positive_int(args.get("facility")),
                   month=month if re.fullmatch(r"\d{4}-\d{2}", month) else None,
                   part=Part(part) if part in {p.value for p in Part} else None)


def entries(filters: LedgerFilter) -> Select[tuple[LedgerEntry]]:
    query = (select(LedgerEntry).options(selectinload(LedgerEntry.order), selectinload(LedgerEntry.direct_sale))
             .order_by(LedgerEntry.id.desc()))
    return filtered_entries(query, filters)


def filtered_entries(query: Any, filters: LedgerFilter) -> Any:
    if filters.facility_id:
        query = query.where(LedgerEntry.facility_id == filters.facility_id)
    if filters.month:
        query = query.where(LedgerEntry.month == filters.month)
    if filters.part:
        query = query.where(LedgerEntry.part == filters.part)
    return query


def totals(filters: LedgerFilter) -> dict[Part, int]:
    """The sum per part of the entries the filter selects (one GROUP BY, never a loop over entries)."""
    query = filtered_entries(select(LedgerEntry.part, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.part), filters)
    found = {Part(part): int(amount) for part, amount in db.session.execute(query).tuples()}
    return {part: found[part] for part in Part if part in found}


def months() -> list[str]:
    return list(db.session.scalars(select(LedgerEntry.month).distinct().order_by(LedgerEntry.month.desc())))


# -- the invariants

# The direct sales' table, by name: their model lives in a higher layer (shop.sales), the ledger only reads numbers.
DIRECT_SALE = table("direct_sale", column("id"), column("number"))
# Whose entry it is: an order's id, or minus a direct sale's id.
OWNER = func.coalesce(LedgerEntry.order_id, -LedgerEntry.direct_sale_id)

@dataclass(frozen=True)
class Breach:
    order_number: str
    problem: str


def verify() -> list[Breach]:
    """Every invariant of the ledger, each checked by aggregation:

    - each set balances (a sale or reversal set's parts add up to its gross; a fee set sums to zero);
    - every paid order has exactly one sale set per line, and every rupiah was allocated by a rule;
    - no part of a line was reversed beyond what was booked;
    - per order, goods plus shipping booked equal what its counted payments kept (paid less refunded);
    - per order, the PNBP (fees included) is never negative, and zero once everything paid went back.

    A direct sale (#28) counts as an order of its own (its number on its receipt); it has no payments to match."""
    numbers = dict(db.session.execute(select(Order.id, Order.number)).tuples().all())
    numbers.update((-sale_id, number) for sale_id, number in db.session.execute(
        select(DIRECT_SALE.c.id, DIRECT_SALE.c.number)).tuples())
    breaches: list[Breach] = []

    gross = func.sum(case((LedgerEntry.part == Part.GROSS, LedgerEntry.amount), else_=0))
    rest = func.sum(case((LedgerEntry.part != Part.GROSS, LedgerEntry.amount), else_=0))
    for order_id, key, kind, g, r in db.session.execute(
            select(OWNER, LedgerEntry.set_key, func.min(LedgerEntry.kind), gross, rest)
            .group_by(OWNER, LedgerEntry.set_key)).tuples():
        if EntryKind(kind) is EntryKind.SHIPPING or key.endswith(":S"):
            continue
        if (EntryKind(kind) is EntryKind.FEE and g + r != 0) or (EntryKind(kind) is not EntryKind.FEE and g != r):
            breaches.append(Breach(numbers.get(order_id, "?"), f"set {key} does not balance ({g} vs {r})"))

    sale_sets = dict(db.session.execute(
        select(LedgerEntry.order_line_id, func.count()).where(LedgerEntry.kind == EntryKind.SALE,
                                                              LedgerEntry.part == Part.GROSS)
        .group_by(LedgerEntry.order_line_id)).tuples().all())
    paid_lines = db.session.execute(select(OrderLine.id, OrderLine.order_id).join(Order).where(
        Order.paid_at.is_not(None))).tuples().all()
    for line_id, order_id in paid_lines:
        if sale_sets.get(line_id) != 1:
            breaches.append(Breach(numbers[order_id], f"line {line_id} has {sale_sets.get(line_id, 0)} sale sets"))
    for order_id, in db.session.execute(select(OWNER).where(LedgerEntry.part == Part.UNALLOCATED)
                                        .group_by(OWNER).having(func.sum(LedgerEntry.amount) != 0)
                                        ).tuples():
        breaches.append(Breach(numbers[order_id], "no split rule was in force: its money is not allocated "
                                                  "(flask --app shop ledger allocate --order NUMBER)"))

    net = func.sum(LedgerEntry.amount)
    for order_id, reversed_line, part, amount in db.session.execute(
            select(OWNER, LedgerEntry.order_line_id, LedgerEntry.part, net)
            .where(LedgerEntry.kind.in_((EntryKind.SALE, EntryKind.SHIPPING, EntryKind.ADJUSTMENT, *REVERSAL_KINDS)))
            .group_by(OWNER, LedgerEntry.order_line_id, LedgerEntry.part)).tuples():
        if amount < 0:
            breaches.append(Breach(numbers[order_id], f"{part} of line {reversed_line} reversed beyond its booking"))

    booked = dict(db.session.execute(
        select(OWNER, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.part.in_((Part.GROSS, Part.SHIPPING)))
        .group_by(OWNER)).tuples().all())
    kept: dict[int, int] = defaultdict(int)
    for order_id, amount, refunded in db.session.execute(
            select(Payment.order_id, Payment.amount, Payment.refunded).where(
                Payment.status == PaymentStatus.SUCCEEDED, Payment.duplicate.is_(False))).tuples():
        kept[order_id] += amount - refunded
    for order_id in set(booked) | {order_id for _line, order_id in paid_lines}:
        if order_id in kept and booked.get(order_id, 0) != kept[order_id]:
            breaches.append(Breach(numbers[order_id], f"booked {booked.get(order_id, 0)} but payments kept "
                                                      f"{kept[order_id]}"))

    # The state's share, fees and all: never below zero, and exactly zero once everything paid went back.
    for order_id, pnbp in db.session.execute(
            select(OWNER, func.sum(LedgerEntry.amount)).where(LedgerEntry.part == Part.PNBP)
            .group_by(OWNER)).tuples():
        if pnbp < 0 or (pnbp != 0 and order_id in kept and kept[order_id] == 0):
            breaches.append(Breach(numbers[order_id], f"PNBP {pnbp} after its payments kept {kept.get(order_id)}"))
    return breaches + closed_month_breaches()


def closed_month_breaches() -> list[Breach]:
    """A closed month's PNBP as it was closed (its snapshot) against the live sum of its entries: nothing may be
    booked into a closed month, so the two differ only if the ledger was changed behind the shop's back."""
    live = dict(((facility_id, month), int(amount)) for facility_id, month, amount in db.session.execute(
        select(LedgerEntry.facility_id, LedgerEntry.month, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.part == Part.PNBP).group_by(LedgerEntry.facility_id, LedgerEntry.month)).tuples())
    return [Breach(f"{closing.facility.slug} {closing.month}",
                   f"closed with PNBP {closing.accrued}, its entries now sum to "
                   f"{live.get((closing.facility_id, closing.month), 0)}")
            for closing in db.session.scalars(select(PeriodClose).options(selectinload(PeriodClose.facility)))
            if live.get((closing.facility_id, closing.month), 0) != closing.accrued]
