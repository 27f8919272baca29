"""The revenue split: which rule is in force, how a sale is shared, and booking it (and its reversals) in the
append-only ledger. Functions flush, never commit: a sale is booked in the transaction that marks it paid."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, column, func, or_, select, table, update
from sqlalchemy.exc import IntegrityError

from shop.audit.service import record
from shop.catalog.models import Category, Facility, Product
from shop.extensions import db
from shop.ledger.models import (
    REVERSAL_KINDS,
    SHARES,
    Channel,
    EntryKind,
    LedgerEntry,
    Part,
    PeriodClose,
    SplitBase,
    SplitRule,
)
from shop.ledger.queries import DIRECT_SALE
from shop.money import allocate
from shop.orders.models import Order, OrderStatus
from shop.orders.service import lock_order
from shop.payments.models import Payment, PaymentStatus
from shop.timeutil import aware, shop_zone, today, utcnow

if TYPE_CHECKING:
    from shop.accounts.models import User
    from shop.orders.models import Order, OrderLine
    from shop.payments.models import Payment, Refund

# What a line holds: its sale, shared by a rule later if it waited for one, less its refunds.
REVERSIBLE = (EntryKind.SALE, EntryKind.ADJUSTMENT, *REVERSAL_KINDS)


class RuleError(Exception):
    """A split rule the rules refuse; `str()` is a problem key the view translates."""


# -- rules

@dataclass(frozen=True)
class RuleInput:
    """A new split rule as finance typed it, shares in basis points (1 % = 100)."""

    effective_from: date
    shares: dict[Part, int]
    base: SplitBase = SplitBase.GROSS
    facility_id: int | None = None
    category_id: int | None = None
    note: str = ""


def create_rule(data: RuleInput, *, actor: User | None) -> SplitRule:
    """A new rule (or a new version of a scope's rule, from its date). Earlier versions stay as they were."""
    if set(data.shares) != set(SHARES) or any(v < 0 for v in data.shares.values()):
        raise RuleError("shares")
    if sum(data.shares.values()) != 10_000:
        raise RuleError("sum")
    if (data.facility_id is not None and db.session.get(Facility, data.facility_id) is None) or \
            (data.category_id is not None and db.session.get(Category, data.category_id) is None):
        raise RuleError("scope")
    if data.effective_from < today() and _sales_booked_since(data.effective_from, data.facility_id):
        raise RuleError("past")  # booked sales keep their rule: a new one cannot reach back to them
    clash = db.session.scalar(select(SplitRule.id).where(
        SplitRule.effective_from == data.effective_from, _same_scope(data.facility_id, data.category_id)))
    if clash is not None:
        raise RuleError("same_day")
    rule = SplitRule(facility_id=data.facility_id, category_id=data.category_id, effective_from=data.effective_from,
                     base=data.base, pnbp_bp=data.shares[Part.PNBP], premi_bp=data.shares[Part.PREMI],
                     cooperative_bp=data.shares[Part.COOPERATIVE],
                     production_capital_bp=data.shares[Part.PRODUCTION_CAPITAL], note=data.note.strip(),
                     created_by_id=getattr(actor, "id", None))
    db.session.add(rule)
    db.session.flush()
    record("split_rule.create", rule, None, rule_snapshot(rule), note=rule.note, actor=actor)
    return rule


def _sales_booked_since(day: date, facility_id: int | None) -> bool:
    """Whether a sale was booked by a rule on or after `day` (of this facility, or of any when the rule is the
    shop's). Money booked while no rule was in force waits for one (unallocated), so it does not count."""
    query = select(LedgerEntry.id).where(LedgerEntry.kind == EntryKind.SALE, LedgerEntry.day >= day,
                                         LedgerEntry.rule_id.is_not(None))
    if facility_id is not None:
        query = query.where(LedgerEntry.facility_id == facility_id)
    return db.session.scalar(query.limit(1)) is not None


def delete_rule(rule: SplitRule, *, actor: User | None) -> None:
    """Only a rule no sale was booked with may go (a mistake caught in time); a used one stays for ever."""
    if is_used(rule):
        raise RuleError("used")
    record("split_rule.delete", rule, rule_snapshot(rule), None, actor=actor)
    db.session.delete(rule)
    try:
        db.session.flush()
    except IntegrityError as error:  # a sale was booked with it between the check and the delete
        raise RuleError("used") from error


def used_rule_ids() -> set[int]:
    return set(db.session.scalars(select(LedgerEntry.rule_id).where(LedgerEntry.rule_id.is_not(None)).distinct()))


def is_used(rule: SplitRule) -> bool:
    return db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.rule_id == rule.id).limit(1)) is not None


def rule_snapshot(rule: SplitRule) -> dict[str, object]:
    return {"facility_id": rule.facility_id, "category_id": rule.category_id,
            "effective_from": rule.effective_from.isoformat(), "base": rule.base.value,
            **{part.value: bp for part, bp in rule.shares.items()}}


def _same_scope(facility_id: int | None, category_id: int | None) -> ColumnElement[bool]:
    return ((SplitRule.facility_id == facility_id) if facility_id else SplitRule.facility_id.is_(None)) & \
        ((SplitRule.category_id == category_id) if category_id else SplitRule.category_id.is_(None))


def rule_in_force(facility_id: int, category_id: int | None, day: date) -> SplitRule | None:
    """The most specific rule for this facility and category whose date has come; the latest one of those."""
    return rules_in_force({(facility_id, category_id)}, day)[(facility_id, category_id)]


def rules_in_force(scopes: set[tuple[int, int | None]], day: date) -> dict[tuple[int, int | None], SplitRule | None]:
    """`rule_in_force` for several (facility, category) pairs at once, in one query (an order's lines)."""
    facilities = {facility for facility, _category in scopes}
    categories = {category for _facility, category in scopes if category is not None}
    candidates = db.session.scalars(select(SplitRule).where(
        SplitRule.effective_from <= day,
        or_(SplitRule.facility_id.is_(None), SplitRule.facility_id.in_(facilities)),
        or_(SplitRule.category_id.is_(None), SplitRule.category_id.in_(categories)))).all()
    return {(facility, category): max(
        (r for r in candidates if r.facility_id in (None, facility) and r.category_id in (None, category)),
        key=lambda r: (r.specificity, r.effective_from, r.id), default=None) for facility, category in scopes}


def split(gross: int, cost: int, rule: SplitRule | None) -> dict[Part, int]:
    """How `gross` rupiah are shared under `rule`: the parts add up to `gross` exactly.

    Gross rules share everything; margin rules first give the production `cost` back (never more than the
    gross), then share the rest. Without a rule the whole amount stays unallocated until finance acts."""
    if rule is None:
        return {Part.UNALLOCATED: gross}
    recovered = min(max(cost, 0), gross) if rule.base is SplitBase.MARGIN else 0
    shares = {part.value: points for part, points in rule.shares.items()}
    parts = {Part(name): amount for name, amount in allocate(gross - recovered, shares).items()}
    return {Part.PRODUCTION_COST: recovered, **parts} if recovered else parts


# -- time

def accounting_month(moment: datetime, zone: str | None = None) -> str:
    """The accounting month ("2026-11") of a moment, in the facility's time zone (the shop's by default)."""
    return aware(moment).astimezone(ZoneInfo(zone or shop_zone())).strftime("%Y-%m")


def _zones(facility_ids: Iterable[int]) -> dict[int, str]:
    ids = set(facility_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Facility.id, Facility.timezone).where(Facility.id.in_(ids))).tuples()
    return {facility_id: zone for facility_id, zone in rows}


# -- booking

def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def lock_facilities(facility_ids: Iterable[int | None]) -> list[int]:
    """Take the facilities' row locks (a no-op UPDATE, as orders.service.lock_order does), in id order.

    Booking into a facility's months and closing one of them both start here, so a month is never closed
    while an entry is being written into it: the second waits, then sees what the first committed."""
    ids = sorted({facility_id for facility_id in facility_ids if facility_id is not None})
    if ids:
        db.session.execute(update(Facility).where(Facility.id.in_(ids)).values(active=Facility.active)
                           .execution_options(synchronize_session=False))
    return ids


class OpenMonths:
    """Where the entries of one booking land: their own month, or, when finance closed it, the first later
    month that is open ("carried over"). Locks the facilities first (see `lock_facilities`)."""

    def __init__(self, facility_ids: Iterable[int | None]) -> None:
        ids = lock_facilities(facility_ids)
        self.closed: dict[int, set[str]] = defaultdict(set)
        if ids:
            for facility_id, month in db.session.execute(select(PeriodClose.facility_id, PeriodClose.month)
                                                         .where(PeriodClose.facility_id.in_(ids))).tuples():
                self.closed[facility_id].add(month)

    def month(self, facility_id: int | None, month: str) -> str:
        closed = self.closed.get(facility_id, set()) if facility_id is not None else set()
        while month in closed:
            month = next_month(month)
        return month


def carried_day(month: str, zone: str) -> date:
    """The accounting day of an entry carried into `month`: the day it is booked when that is in the month (its
    deposit deadline counts from then, not from the 1st, which would make it overdue at once), else the month's
    last day (an open month that has already ended)."""
    booked = aware(utcnow()).astimezone(ZoneInfo(zone)).date()
    if booked.strftime("%Y-%m") == month:
        return booked
    first = date.fromisoformat(f"{month}-01")
    last = date.fromisoformat(f"{next_month(month)}-01") - timedelta(days=1)
    return min(max(booked, first), last)


def _entry(set_key: str, kind: EntryKind, part: Part, amount: int, order: Order | None, *, at: datetime,
           periods: OpenMonths, zone: str | None = None, line: OrderLine | None = None,
           facility_id: int | None = None, rule: SplitRule | None = None, payment: Payment | None = None,
           refund: Refund | None = None, origin_month: str | None = None, quantity: int = 0,
           direct_sale_id: int | None = None) -> LedgerEntry:
    """One entry, of an online order or of a direct sale, dated in the facility's zone: its accounting day and month,
    carried over past closed months."""
    facility = facility_id if facility_id is not None else (line.facility_id if line else None)
    local = aware(at).astimezone(ZoneInfo(zone or shop_zone()))
    own = local.strftime("%Y-%m")
    month = periods.month(facility, own)
    day = local.date() if month == own else carried_day(month, zone or shop_zone())
    entry = LedgerEntry(set_key=set_key, kind=kind, part=part, amount=amount, order_id=order.id if order else None,
                        direct_sale_id=direct_sale_id,
                        channel=Channel.DIRECT if direct_sale_id is not None else Channel.ONLINE,
                        order_line_id=line.id if line else None, facility_id=facility, month=month, day=day,
                        origin_month=origin_month or own, quantity=quantity,
                        booked_at=at, rule_id=rule.id if rule else None,
                        payment_id=payment.id if payment else None, refund_id=refund.id if refund else None)
    db.session.add(entry)
    return entry


def book_sale(order: Order, payment: Payment | None = None) -> list[LedgerEntry]:
    """Book a paid order: per line its gross and each part under the rule in force when it was paid, plus the
    shipping passed through and the payment fee. Called by orders.service.mark_paid, in its transaction."""
    paid_at = aware(order.paid_at or utcnow())
    zones = _zones(line.facility_id for line in order.lines)
    periods = OpenMonths(zones)
    entries: list[LedgerEntry] = []
    for line in order.lines:
        zone = zones.get(line.facility_id, shop_zone())
        rule = rule_in_force(line.facility_id, line.category_id, paid_at.astimezone(ZoneInfo(zone)).date())
        key = f"sale:L{line.id}"
        entries.append(_entry(key, EntryKind.SALE, Part.GROSS, line.amount, order, at=paid_at, periods=periods,
                              zone=zone, line=line, rule=rule, payment=payment, quantity=line.quantity))
        for part, amount in split(line.amount, line.unit_cost * line.quantity, rule).items():
            if amount:
                entries.append(_entry(key, EntryKind.SALE, part, amount, order, at=paid_at, periods=periods,
                                      zone=zone, line=line, rule=rule, payment=payment))
    if order.shipping_cost:
        entries.append(_entry(f"shipping:O{order.id}", EntryKind.SHIPPING, Part.SHIPPING, order.shipping_cost,
                              order, at=paid_at, periods=periods, payment=payment))
    if payment is not None and payment.fee:
        entries.extend(_book_fee(order, payment, zones, paid_at, periods))
    db.session.flush()
    return entries


def _book_fee(order: Order, payment: Payment, zones: dict[int, str], at: datetime,
              periods: OpenMonths) -> list[LedgerEntry]:
    """The processor's fee: borne by the cooperative (default), or shared pro rata by every part but PNBP: the
    state's share is of what the buyer paid, and must come back to exactly zero when the sale is refunded, which a
    share of a fee (never refunded by the processor) would prevent."""
    fee, entries = payment.fee, []
    if current_app.config.get("LEDGER_FEE_SHARING", "cooperative") != "pro_rata" or not order.subtotal:
        key = f"fee:P{payment.id}"
        entries.append(_entry(key, EntryKind.FEE, Part.FEE, fee, order, at=at, periods=periods, payment=payment))
        entries.append(_entry(key, EntryKind.FEE, Part.COOPERATIVE, -fee, order, at=at, periods=periods,
                              payment=payment))
        return entries
    booked = _net_by_line(order.id)
    per_line = allocate(fee, {str(line.id): line.amount for line in order.lines})
    for line in order.lines:
        portion = per_line[str(line.id)]
        if not portion:
            continue
        key, zone = f"fee:P{payment.id}:L{line.id}", zones.get(line.facility_id)
        entries.append(_entry(key, EntryKind.FEE, Part.FEE, portion, order, at=at, periods=periods, zone=zone,
                              line=line, payment=payment))
        shares = {part.value: amount for part, amount in booked[line.id].items()
                  if part not in (Part.GROSS, Part.PNBP) and amount > 0} or {Part.COOPERATIVE.value: 1}
        for name, amount in allocate(portion, shares).items():
            if amount:
                entries.append(_entry(key, EntryKind.FEE, Part(name), -amount, order, at=at, periods=periods,
                                      zone=zone, line=line, payment=payment))
    return entries


PART_ORDER = {part: n for n, part in enumerate(Part)}  # the documented split order: PNBP, premi, cooperative, …


def _net_by_line(order_id: int) -> dict[int, dict[Part, int]]:
    """What is still booked per line and part (sales less reversals), for reversals and fee sharing: lines by id,
    parts in the split order, so the odd rupiah of an allocation always goes the same documented way."""
    db.session.flush()
    rows = db.session.execute(
        select(LedgerEntry.order_line_id, LedgerEntry.part, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.order_id == order_id, LedgerEntry.kind.in_(REVERSIBLE),
               LedgerEntry.order_line_id.is_not(None))
        .group_by(LedgerEntry.order_line_id, LedgerEntry.part)).tuples().all()
    booked: dict[int, dict[Part, int]] = defaultdict(dict)
    for line_id, part, amount in sorted(rows, key=lambda row: (row[0], PART_ORDER[Part(row[1])])):
        if line_id is not None:
            booked[line_id][Part(part)] = int(amount)
    return booked


def _units_by_line(order_id: int) -> dict[int, int]:
    """Units each line still counts as sold (its sale's quantity less those given back)."""
    return {int(line_id): int(units) for line_id, units in db.session.execute(
        select(LedgerEntry.order_line_id, func.sum(LedgerEntry.quantity))
        .where(LedgerEntry.order_id == order_id, LedgerEntry.kind.in_(REVERSIBLE), LedgerEntry.part == Part.GROSS,
               LedgerEntry.order_line_id.is_not(None))
        .group_by(LedgerEntry.order_line_id)).tuples() if line_id is not None}


def _net_shipping(order_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.order_id == order_id, LedgerEntry.part == Part.SHIPPING)) or 0)


def reversal(booked: dict[str, dict[Part, int]], amount: int) -> dict[str, dict[Part, int]]:
    """How much of each set and part a refund of `amount` reverses (positive amounts), given what each set
    (a line, or the shipping) still has booked: its GROSS and its parts.

    First over the sets in proportion to their gross, then within each set over its parts in proportion to
    what they still hold. Never more than is booked (the amount is capped at the total); reversing all that
    is left brings every part to exactly zero."""
    pool = {key: parts.get(Part.GROSS, 0) for key, parts in booked.items() if parts.get(Part.GROSS, 0) > 0}
    if not pool or amount <= 0:
        return {}
    result: dict[str, dict[Part, int]] = {}
    for key, portion in allocate(min(amount, sum(pool.values())), pool).items():
        if not portion:
            continue
        shares = {part.value: left for part, left in booked[key].items() if part is not Part.GROSS and left > 0}
        parts = {Part(name): share for name, share in allocate(portion, shares).items() if share}
        result[key] = {Part.GROSS: portion, **parts}
    return result


def targeted_reversal(booked: dict[str, dict[Part, int]], wanted: dict[str, int],
                      amount: int) -> dict[str, dict[Part, int]]:
    """The reversal of a refund that says what it gives back: exactly `wanted` from each named set (its parts in
    proportion, as `reversal`), so no other line's (no other facility's) parts move. Only what a named set no
    longer holds (an earlier refund made in Stripe's dashboard was spread over everything) is spread over the
    rest, so the whole `amount` is always reversed while anything is booked."""
    remaining = {key: dict(parts) for key, parts in booked.items()}
    result: dict[str, dict[Part, int]] = defaultdict(lambda: defaultdict(int))

    def take(keys: list[str], value: int) -> int:
        taken = 0
        for key, parts in reversal({k: remaining[k] for k in keys if k in remaining}, value).items():
            for part, share in parts.items():
                result[key][part] += share
                remaining[key][part] -= share
            taken += parts[Part.GROSS]
        return taken

    left = amount
    for key, value in wanted.items():
        left -= take([key], value)
    if left > 0:
        take(list(remaining), left)
    return {key: dict(parts) for key, parts in result.items()}


def book_refund(refund: Refund) -> list[LedgerEntry]:
    """Book the reversal of a refund in the current month (a closed month is never touched): exactly the lines
    and shipping the refund names (`targeted_reversal`), or, for a refund that names none, spread over all that
    is left (`reversal`).

    Money given back from a second (duplicate) payment, or for an order never booked as sold, reverses
    nothing: it was never in the ledger."""
    payment = refund.payment
    order = payment.order
    if payment.duplicate:
        return []
    booked: dict[str, dict[Part, int]] = {f"L{line_id}": parts for line_id, parts in _net_by_line(order.id).items()}
    shipping_left = _net_shipping(order.id)
    if shipping_left:
        booked["S"] = {Part.GROSS: shipping_left, Part.SHIPPING: shipping_left}
    wanted: dict[str, int] = defaultdict(int)
    returned: dict[int, int] = defaultdict(int)
    for item in refund.lines:
        wanted["S" if item.order_line_id is None else f"L{item.order_line_id}"] += item.amount
        if item.order_line_id is not None:
            returned[item.order_line_id] += item.quantity
    reversed_ = targeted_reversal(booked, wanted, refund.amount) if wanted else reversal(booked, refund.amount)
    kind = EntryKind.CANCELLATION_REVERSAL if order.status is OrderStatus.CANCELLED else EntryKind.REFUND_REVERSAL
    at = aware(refund.created_at or utcnow())
    lines = {line.id: line for line in order.lines}
    zones = _zones(line.facility_id for line in order.lines)
    periods = OpenMonths(zones)
    sold_units = _units_by_line(order.id)
    entries: list[LedgerEntry] = []
    for key, parts in reversed_.items():
        if key == "S":
            origin = db.session.scalar(select(LedgerEntry.origin_month).where(
                LedgerEntry.set_key == f"shipping:O{order.id}"))
            entries.append(_entry(f"refund:R{refund.id}:S", kind, Part.SHIPPING, -parts[Part.SHIPPING], order, at=at,
                                  periods=periods, payment=payment, refund=refund, origin_month=origin))
            continue
        line = lines[int(key[1:])]
        sale = db.session.scalar(select(LedgerEntry).where(LedgerEntry.set_key == f"sale:L{line.id}",
                                                           LedgerEntry.part == Part.GROSS))
        rule = sale.rule if sale else None
        # Units named by the refund count as unsold; a refund naming none gives units back only with the whole
        # of the line's money.
        left = sold_units.get(line.id, 0)
        if wanted:
            units = -min(returned.get(line.id, 0), left)
        else:
            units = -left if parts[Part.GROSS] == booked[key].get(Part.GROSS) else 0
        for part, amount in sorted(parts.items(), key=lambda item: PART_ORDER[item[0]]):
            entries.append(_entry(f"refund:R{refund.id}:L{line.id}", kind, part, -amount, order, at=at,
                                  periods=periods, zone=zones.get(line.facility_id), line=line, rule=rule,
                                  payment=payment, refund=refund, origin_month=sale.origin_month if sale else None,
                                  quantity=units if part is Part.GROSS else 0))
    db.session.flush()
    return entries


# -- direct sales (#28)

@dataclass(frozen=True)
class DirectLine:
    """A line of a direct sale, as the ledger needs it (the sale's model lives in a higher layer)."""

    line_id: int
    facility_id: int
    category_id: int | None
    amount: int
    cost: int  # the production cost of its units (a margin rule recovers it first)
    quantity: int


def book_direct_sale(sale_id: int, lines: Iterable[DirectLine], at: datetime) -> list[LedgerEntry]:
    """Book a direct sale as a paid order's lines are booked: per line its gross and each part under the rule in force
    on the sale's day in the product's facility's zone, channel "direct". No shipping, no payment fee."""
    lines = list(lines)
    zones = _zones(line.facility_id for line in lines)
    periods = OpenMonths(zones)
    at = aware(at)
    entries: list[LedgerEntry] = []
    for line in lines:
        zone = zones.get(line.facility_id, shop_zone())
        rule = rule_in_force(line.facility_id, line.category_id, at.astimezone(ZoneInfo(zone)).date())
        key = f"direct:D{line.line_id}"
        entries.append(_entry(key, EntryKind.SALE, Part.GROSS, line.amount, None, at=at, periods=periods, zone=zone,
                              facility_id=line.facility_id, rule=rule, quantity=line.quantity,
                              direct_sale_id=sale_id))
        for part, amount in split(line.amount, line.cost, rule).items():
            if amount:
                entries.append(_entry(key, EntryKind.SALE, part, amount, None, at=at, periods=periods, zone=zone,
                                      facility_id=line.facility_id, rule=rule, direct_sale_id=sale_id))
    db.session.flush()
    return entries


def reverse_direct_sale(sale_id: int, at: datetime) -> list[LedgerEntry]:
    """A voided direct sale: every part each of its lines still holds, reversed (a cancellation) in the first open
    month; nothing booked is changed."""
    db.session.flush()
    rows = db.session.execute(
        select(LedgerEntry.set_key, LedgerEntry.part, LedgerEntry.facility_id, func.min(LedgerEntry.rule_id),
               func.min(LedgerEntry.origin_month), func.sum(LedgerEntry.amount), func.sum(LedgerEntry.quantity))
        .where(LedgerEntry.direct_sale_id == sale_id, LedgerEntry.kind.in_(REVERSIBLE))
        .group_by(LedgerEntry.set_key, LedgerEntry.part, LedgerEntry.facility_id)).tuples().all()
    zones = _zones(facility_id for _key, _part, facility_id, *_rest in rows if facility_id is not None)
    periods = OpenMonths(zones)
    rules = {rule.id: rule for rule in db.session.scalars(select(SplitRule).where(
        SplitRule.id.in_({rule_id for *_head, rule_id, _origin, _amount, _units in rows if rule_id})))}
    entries: list[LedgerEntry] = []
    for key, part, facility_id, rule_id, origin, amount, units in sorted(
            rows, key=lambda row: (row[0], PART_ORDER[Part(row[1])])):
        if not amount:
            continue
        entries.append(_entry(f"void:{key.removeprefix('direct:')}", EntryKind.CANCELLATION_REVERSAL, Part(part),
                              -int(amount), None, at=aware(at), periods=periods,
                              zone=zones.get(facility_id) if facility_id is not None else None,
                              facility_id=facility_id, rule=rules.get(rule_id) if rule_id else None,
                              origin_month=origin, quantity=-int(units or 0), direct_sale_id=sale_id))
    db.session.flush()
    return entries


# -- money that waited for a rule

def unallocated_orders() -> list[tuple[int, str, int]]:
    """Orders and direct sales whose money was booked while no split rule was in force and waits for one:
    (id, number, rupiah); a direct sale's id is negative."""
    left = func.sum(LedgerEntry.amount)
    orders = [(int(order_id or 0), number, int(amount)) for order_id, number, amount in db.session.execute(
        select(LedgerEntry.order_id, Order.number, left).join(Order, Order.id == LedgerEntry.order_id)
        .where(LedgerEntry.part == Part.UNALLOCATED).group_by(LedgerEntry.order_id, Order.number)
        .having(left != 0).order_by(LedgerEntry.order_id)).tuples()]
    direct = [(-int(sale_id), number, int(amount)) for sale_id, number, amount in db.session.execute(
        select(LedgerEntry.direct_sale_id, DIRECT_SALE.c.number, left)
        .join(DIRECT_SALE, DIRECT_SALE.c.id == LedgerEntry.direct_sale_id)
        .where(LedgerEntry.part == Part.UNALLOCATED).group_by(LedgerEntry.direct_sale_id, DIRECT_SALE.c.number)
        .having(left != 0).order_by(LedgerEntry.direct_sale_id)).tuples()]
    return orders + direct


# A direct sale's lines, read by table name: their model lives in a higher layer (shop.sales).
DIRECT_LINE = table("direct_sale_line", column("id"), column("sale_id"), column("facility_id"),
                    column("category_id"), column("unit_cost"), column("quantity"), column("unit_price"))


def allocate_direct_sale(number: str, *, actor: User | None) -> list[LedgerEntry]:
    """`allocate_order` for a direct sale ("PJ-…"): its money booked unallocated, shared by the rule in force now
    in the first open month. RuleError "unknown", "nothing" or "no_rule"."""
    sale_id = db.session.scalar(select(DIRECT_SALE.c.id).where(DIRECT_SALE.c.number == number))
    if sale_id is None:
        raise RuleError("unknown")
    lines = db.session.execute(select(DIRECT_LINE).where(DIRECT_LINE.c.sale_id == sale_id)
                               .order_by(DIRECT_LINE.c.id)).all()
    zones = _zones(line.facility_id for line in lines)
    periods = OpenMonths(zones)  # the facilities' locks: a second allocation at the same moment waits, then sees
    held = dict(db.session.execute(
        select(LedgerEntry.set_key, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.direct_sale_id == sale_id, LedgerEntry.part == Part.UNALLOCATED)
        .group_by(LedgerEntry.set_key)).tuples().all())
    waiting_by_line: dict[int, int] = defaultdict(int)
    for key, amount in held.items():  # "direct:D7", "allocate:D7:…", "void:D7" … net to what still waits
        found = re.search(r":D(\d+)", key)
        if found:
            waiting_by_line[int(found.group(1))] += int(amount)
    at = utcnow()
    entries: list[LedgerEntry] = []
    for line in lines:
        waiting = waiting_by_line.get(line.id, 0)
        if waiting <= 0:
            continue
        zone = zones.get(line.facility_id, shop_zone())
        rule = rule_in_force(line.facility_id, line.category_id, at.astimezone(ZoneInfo(zone)).date())
        if rule is None:
            raise RuleError("no_rule")
        amount = line.quantity * line.unit_price
        cost = line.unit_cost * line.quantity * waiting // amount if amount else 0
        key = f"allocate:D{line.id}:{at.strftime('%Y%m%d%H%M%S%f')}"
        entries.append(_entry(key, EntryKind.ADJUSTMENT, Part.UNALLOCATED, -waiting, None, at=at, periods=periods,
                              zone=zone, facility_id=line.facility_id, rule=rule, direct_sale_id=sale_id))
        for part, share in split(waiting, cost, rule).items():
            if share:
                entries.append(_entry(key, EntryKind.ADJUSTMENT, part, share, None, at=at, periods=periods,
                                      zone=zone, facility_id=line.facility_id, rule=rule, direct_sale_id=sale_id))
    if not entries:
        raise RuleError("nothing")
    db.session.flush()
    record("ledger.allocate", ("DirectSale", sale_id), None, {"entries": len(entries)}, actor=actor)
    return entries


def allocate_order(order: Order, *, actor: User | None) -> list[LedgerEntry]:
    """Share money booked "unallocated" (paid while no rule was in force) under the rule in force now, in the first
    open month: per line, an adjustment set that reverses the unallocated amount still held and books each part
    of it. Refunds after that reverse the parts as for any sale. Raises RuleError "nothing" when nothing waits,
    "no_rule" while still no rule is in force for a line."""
    lock_order(order)
    zones = _zones(line.facility_id for line in order.lines)
    periods = OpenMonths(zones)
    lock_facilities(zones)
    at = utcnow()
    held = _net_by_line(order.id)
    entries: list[LedgerEntry] = []
    for line in sorted(order.lines, key=lambda item: item.id):
        waiting = held.get(line.id, {}).get(Part.UNALLOCATED, 0)
        if waiting <= 0:
            continue
        zone = zones.get(line.facility_id, shop_zone())
        rule = rule_in_force(line.facility_id, line.category_id, at.astimezone(ZoneInfo(zone)).date())
        if rule is None:
            raise RuleError("no_rule")
        cost = line.unit_cost * line.quantity * waiting // line.amount if line.amount else 0
        # The parts are owed from now (the month they are allocated in), not from the sale's month.
        key = f"allocate:L{line.id}:{at.strftime('%Y%m%d%H%M%S%f')}"
        entries.append(_entry(key, EntryKind.ADJUSTMENT, Part.UNALLOCATED, -waiting, order, at=at, periods=periods,
                              zone=zone, line=line, rule=rule))
        for part, amount in split(waiting, cost, rule).items():
            if amount:
                entries.append(_entry(key, EntryKind.ADJUSTMENT, part, amount, order, at=at, periods=periods,
                                      zone=zone, line=line, rule=rule))
    if not entries:
        raise RuleError("nothing")
    db.session.flush()
    record("ledger.allocate", order, None, {"entries": len(entries)}, actor=actor)
    return entries


# -- a shop that was live before the ledger

def unbooked_orders() -> list[int]:
    """Orders that were paid (at some point) but have no sale booked: those paid before the ledger existed."""
    booked = select(LedgerEntry.order_id).where(LedgerEntry.kind == EntryKind.SALE)
    return list(db.session.scalars(select(Order.id).where(Order.paid_at.is_not(None), Order.id.not_in(booked))
                                   .order_by(Order.id)))


def book_missing_order(order_id: int) -> int:
    """Book one old order as it happened: its sale when it was paid (the counted payment), then each refund
    of that payment in turn. Returns the number of entries written (0 when another run booked it meanwhile).

    Under the order's lock, which every refund takes too: a refund made at the same moment either committed
    first (and is booked here) or waits and then reverses the sale booked here; never lost between the two."""
    order = lock_order(db.session.get_one(Order, order_id))
    if db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.order_id == order.id,
                                                      LedgerEntry.kind == EntryKind.SALE).limit(1)) is not None:
        return 0  # booked by another run (or a payment) since the list was read
    payment = db.session.scalar(select(Payment).where(
        Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED, Payment.duplicate.is_(False))
        .order_by(Payment.paid_at, Payment.id))
    written = len(book_sale(order, payment))
    for refund in (payment.refunds if payment else []):
        written += len(book_refund(refund))
    return written


# -- what buyers are shown

@dataclass(frozen=True)
class SplitPreview:
    amount: int
    parts: dict[Part, int]
    rule: SplitRule | None


def preview_product(product: Product, on: date | None = None) -> SplitPreview:
    """Where the rupiah of this product's price go under the rule in force today (the same allocation)."""
    rule = rule_in_force(product.facility_id, product.category_id, on or today())
    return SplitPreview(product.price, split(product.price, product.unit_cost, rule), rule)


def order_split(order: Order) -> dict[Part, int]:
    """The order's goods money by part: as booked once it is paid, else as it would be booked today."""
    booked = db.session.execute(select(LedgerEntry.part, func.sum(LedgerEntry.amount)).where(
        LedgerEntry.order_id == order.id, LedgerEntry.kind == EntryKind.SALE, LedgerEntry.part != Part.GROSS,
        LedgerEntry.part != Part.SHIPPING).group_by(LedgerEntry.part)).tuples().all()
    if booked:
        return {Part(part): int(amount) for part, amount in booked}
    totals: dict[Part, int] = defaultdict(int)
    rules = rules_in_force({(line.facility_id, line.category_id) for line in order.lines}, today())
    for line in order.lines:
        rule = rules[(line.facility_id, line.category_id)]
        for part, amount in split(line.amount, line.unit_cost * line.quantity, rule).items():
            totals[part] += amount
    return dict(totals)
