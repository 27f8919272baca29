"""What the cooperative owes onward (#29): it collects the buyer's money, so each facility's PNBP, its makers' premi
and its workshop's production capital are owed to the facility. Transfers are recorded (date, part, amount, the
bank's reference, the receipt), never edited: a mistake is reversed. Earned, transferred and still owed per facility
and part, month by month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from shop.accounts.models import User
from shop.audit.service import record
from shop.catalog.models import Facility
from shop.extensions import db
from shop.finance.models import OnwardPart, OnwardTransfer
from shop.ledger.models import LedgerEntry, Part
from shop.timeutil import today
from shop.uploads import DocumentRejected, save_private_document

MAX_AMOUNT = 2_000_000_000  # rupiah in one transfer (the column is a 32-bit integer, as every amount is)


class TransferInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def record_transfer(facility: Facility | None, part: OnwardPart | None, amount: int | None, on: date | None,
                    reference: str, receipt: bytes | None, note: str, *, actor: User | None) -> OnwardTransfer:
    """A transfer from the cooperative to a facility (or its makers); refused field by field, nothing written."""
    errors: dict[str, str] = {}
    reference = " ".join(reference.split())
    if facility is None:
        errors["facility_id"] = _("Choose the facility.")
    if part is None:
        errors["part"] = _("Choose what was transferred: PNBP, premi or production capital.")
    if amount is None or not 0 < amount <= MAX_AMOUNT:
        errors["amount"] = _("Enter the amount as a whole number of rupiah above zero.")
    if on is None:
        errors["transferred_on"] = _("Enter the date of the transfer.")
    elif on > today():
        errors["transferred_on"] = _("The date of the transfer cannot be in the future.")
    if not reference:
        errors["reference"] = _("Enter the bank's reference of the transfer.")
    elif len(reference) > 80:
        errors["reference"] = _("At most 80 characters.")
    if not errors and facility is not None and part is not None:
        # The facility's row, locked: two clerks entering the same bank line at once go one after the other.
        db.session.execute(update(Facility).where(Facility.id == facility.id).values(active=Facility.active)
                           .execution_options(synchronize_session=False))
        standing = db.session.scalar(select(OnwardTransfer.id).where(
            OnwardTransfer.facility_id == facility.id, OnwardTransfer.part == part,
            OnwardTransfer.reference == reference, OnwardTransfer.reverses_id.is_(None),
            OnwardTransfer.id.not_in(select(OnwardTransfer.reverses_id).where(
                OnwardTransfer.reverses_id.is_not(None)))))
        if standing is not None:
            errors["reference"] = _("A transfer with this reference is already recorded for this facility and part.")
    stored = None
    if receipt and not errors:
        try:
            stored = save_private_document(receipt, "transfers")
        except DocumentRejected as rejected:
            errors["receipt"] = rejected.message
    if errors:
        raise TransferInvalid(errors)
    assert facility is not None and part is not None and amount is not None and on is not None  # noqa: S101
    transfer = OnwardTransfer(facility_id=facility.id, part=part, amount=amount, transferred_on=on,
                              reference=reference, receipt=stored, note=" ".join(note.split())[:500],
                              created_by_id=getattr(actor, "id", None))
    db.session.add(transfer)
    db.session.flush()
    record("onward_transfer.record", facility, None, {"part": part.value, "amount": amount,
                                                      "transferred_on": on.isoformat(), "reference": reference},
           actor=actor)
    return transfer


def reverse_transfer(transfer: OnwardTransfer, reason: str, *, actor: User | None) -> OnwardTransfer:
    """Correct a mistaken record by a reversing transfer (negative, naming it): once, never of a reversal."""
    reason = " ".join(reason.split())[:500]
    if not reason:
        raise TransferInvalid({"reason": _("Give the reason.")})
    if transfer.reverses_id is not None:
        raise TransferInvalid({"reason": _("A reversing transfer cannot itself be reversed.")})
    # The transfer's facility, locked: two reversals at once wait for each other, then the unique index refuses one.
    db.session.execute(update(Facility).where(Facility.id == transfer.facility_id).values(active=Facility.active)
                       .execution_options(synchronize_session=False))
    reversal = OnwardTransfer(facility_id=transfer.facility_id, part=transfer.part, amount=-transfer.amount,
                              transferred_on=today(), reference=transfer.reference, note=reason,
                              reverses_id=transfer.id, created_by_id=getattr(actor, "id", None))
    db.session.add(reversal)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise TransferInvalid({"reason": _("This transfer was already reversed.")}) from error
    record("onward_transfer.reverse", transfer.facility, None, {"reverses": transfer.id, "amount": -transfer.amount},
           note=reason, actor=actor)
    return reversal


LEDGER_PART = {OnwardPart.PNBP: Part.PNBP, OnwardPart.PREMI: Part.PREMI,
               OnwardPart.PRODUCTION_CAPITAL: Part.PRODUCTION_CAPITAL}


@dataclass(frozen=True)
class OwedMonth:
    month: str
    earned: int
    transferred: int
    owed: int  # still owed at the end of the month: everything earned up to it less everything transferred


@dataclass
class OwedLine:
    facility: Facility
    part: OnwardPart
    before: int  # owed at the start of the year
    months: list[OwedMonth]

    @property
    def owed(self) -> int:
        return self.months[-1].owed if self.months else self.before

    @property
    def earned(self) -> int:
        return sum(month.earned for month in self.months)

    @property
    def transferred(self) -> int:
        return sum(month.transferred for month in self.months)


def owed(year: int, facility_id: int | None = None) -> list[OwedLine]:
    """Per facility and part, month by month of `year`: earned (the ledger, every channel), transferred and still
    owed. Two GROUP BY queries."""
    parts = {ledger_part: part for part, ledger_part in LEDGER_PART.items()}
    earned: dict[tuple[int, OnwardPart], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    query = (select(LedgerEntry.facility_id, LedgerEntry.part, LedgerEntry.month, func.sum(LedgerEntry.amount))
             .where(LedgerEntry.part.in_(list(parts)), LedgerEntry.facility_id.is_not(None),
                    LedgerEntry.month <= f"{year}-12")
             .group_by(LedgerEntry.facility_id, LedgerEntry.part, LedgerEntry.month))
    if facility_id is not None:
        query = query.where(LedgerEntry.facility_id == facility_id)
    for booked_facility, part, month, amount in db.session.execute(query).tuples():
        if booked_facility is not None:
            earned[(booked_facility, parts[Part(part)])][month] += int(amount)
    sent: dict[tuple[int, OnwardPart], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    transfers = (select(OnwardTransfer.facility_id, OnwardTransfer.part, OnwardTransfer.transferred_on,
                        OnwardTransfer.amount).where(OnwardTransfer.transferred_on <= date(year, 12, 31)))
    if facility_id is not None:
        transfers = transfers.where(OnwardTransfer.facility_id == facility_id)
    for to_facility, onward_part, on, amount in db.session.execute(transfers).tuples():
        sent[(to_facility, OnwardPart(onward_part))][f"{on:%Y-%m}"] += int(amount)
    facilities = {f.id: f for f in db.session.scalars(select(Facility).where(
        Facility.id.in_({key[0] for key in [*earned, *sent]})))}
    lines = []
    first = f"{year}-01"
    for key in sorted(set(earned) | set(sent), key=lambda k: (facilities[k[0]].name, list(OnwardPart).index(k[1]))):
        made, paid = earned.get(key, {}), sent.get(key, {})
        before = sum(v for m, v in made.items() if m < first) - sum(v for m, v in paid.items() if m < first)
        running, months = before, []
        for month in sorted({m for m in [*made, *paid] if m >= first}):
            running += made.get(month, 0) - paid.get(month, 0)
            months.append(OwedMonth(month, made.get(month, 0), paid.get(month, 0), running))
        lines.append(OwedLine(facilities[key[0]], key[1], before, months))
    return lines


def transfers(year: int, facility_id: int | None = None) -> list[OnwardTransfer]:
    query = select(OnwardTransfer).where(OnwardTransfer.transferred_on.between(date(year, 1, 1), date(year, 12, 31)))
    if facility_id is not None:
        query = query.where(OnwardTransfer.facility_id == facility_id)
    return list(db.session.scalars(query.order_by(OnwardTransfer.transferred_on.desc(), OnwardTransfer.id.desc())))


def reversed_ids() -> set[int]:
    return set(db.session.scalars(select(OnwardTransfer.reverses_id).where(OnwardTransfer.reverses_id.is_not(None))))
