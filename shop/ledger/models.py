"""Split rules (versioned, by scope) and the append-only ledger of every rupiah of every sale."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Category, Facility
from shop.extensions import Model, enum_column
from shop.guards import guard

if TYPE_CHECKING:
    from shop.sales.models import DirectSale
from shop.timeutil import utcnow


class Part(enum.StrEnum):
    """Where a rupiah of a sale goes. The first four are the shares a split rule sets."""

    PNBP = "pnbp"  # state non-tax revenue, deposited by the facility to the treasury
    PREMI = "premi"  # the working inmates' wage premium (PP 32/1999, art. 29)
    COOPERATIVE = "cooperative"  # Koperasi Farmtisan Lestari Berjaya: training, packaging, sales
    PRODUCTION_CAPITAL = "production_capital"  # the workshop's capital for the next batch
    PRODUCTION_COST = "production_cost"  # under a margin rule: the unit cost recovered before the split
    UNALLOCATED = "unallocated"  # no rule was in force: finance must set one (ledger verify reports it)
    GROSS = "gross"  # what the buyer paid for the goods: the sum of the parts above
    SHIPPING = "shipping"  # passed through to the courier, never split
    FEE = "fee"  # the payment processor's fee

    @property
    def label(self) -> str:
        return str(PART_LABELS[self])


PART_LABELS = {
    Part.PNBP: _l("PNBP (state revenue)"),
    Part.PREMI: _l("Makers' premi"),
    Part.COOPERATIVE: _l("Cooperative"),
    Part.PRODUCTION_CAPITAL: _l("Production capital"),
    Part.PRODUCTION_COST: _l("Production cost"),
    Part.UNALLOCATED: _l("Not allocated (no rule)"),
    Part.GROSS: _l("Gross sales"),
    Part.SHIPPING: _l("Shipping"),
    Part.FEE: _l("Payment fee"),
}
SHARES = (Part.PNBP, Part.PREMI, Part.COOPERATIVE, Part.PRODUCTION_CAPITAL)  # also the split's tie-break order
# The parts a buyer's goods money can go to, in the order they are shown.
SPLIT_PARTS = (Part.PNBP, Part.PREMI, Part.PRODUCTION_CAPITAL, Part.COOPERATIVE, Part.PRODUCTION_COST,
               Part.UNALLOCATED)
# What each part is, in one sentence a buyer understands (the "where your money goes" panel).
PART_EXPLAINED = {
    Part.PNBP: _l("State non-tax revenue: the facility deposits it to the treasury, as the law on inmates' work "
                  "programmes requires."),
    Part.PREMI: _l("Paid to the inmates who made the product, as a wage premium for their work."),
    Part.COOPERATIVE: _l("Keeps the cooperative going: training, packaging, certification, selling and shipping."),
    Part.PRODUCTION_CAPITAL: _l("Buys materials for the workshop's next batch."),
    Part.PRODUCTION_COST: _l("Pays back what the materials and packaging of this product cost."),
    Part.UNALLOCATED: _l("Not yet allocated: the shop's finance staff are setting how this product is shared."),
}


class SplitBase(enum.StrEnum):
    GROSS = "gross"  # the shares split the whole line amount
    MARGIN = "margin"  # first the production cost is recovered, the shares split what is left

    @property
    def label(self) -> str:
        return str(_l("gross revenue") if self is SplitBase.GROSS else _l("margin (gross minus production cost)"))


class EntryKind(enum.StrEnum):
    SALE = "sale"
    REFUND_REVERSAL = "refund_reversal"
    CANCELLATION_REVERSAL = "cancellation_reversal"
    FEE = "fee"
    SHIPPING = "shipping"
    ADJUSTMENT = "adjustment"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    EntryKind.SALE: _l("sale"),
    EntryKind.REFUND_REVERSAL: _l("refund (reversal)"),
    EntryKind.CANCELLATION_REVERSAL: _l("cancellation (reversal)"),
    EntryKind.FEE: _l("payment fee"),
    EntryKind.SHIPPING: _l("shipping"),
    EntryKind.ADJUSTMENT: _l("adjustment"),
}


REVERSAL_KINDS = (EntryKind.REFUND_REVERSAL, EntryKind.CANCELLATION_REVERSAL)


class Channel(enum.StrEnum):
    """Where a sale was made: the online shop, or face to face at a point of sale (#28)."""

    ONLINE = "online"
    DIRECT = "direct"

    @property
    def label(self) -> str:
        return str(_l("online") if self is Channel.ONLINE else _l("direct"))


class SplitRule(Model):
    """How a sale is shared, in basis points (10,000 = 100 %), from a date, for a scope.

    Scope: every product (no facility, no category), one facility, one category, or one facility's
    category; the most specific rule in force wins. A rule a booked sale used is never changed: a new rule
    from a later date replaces it, and the ledger entries keep naming the rule they used."""

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    base: Mapped[SplitBase] = mapped_column(enum_column(SplitBase, "base"), default=SplitBase.GROSS)
    pnbp_bp: Mapped[int]
    premi_bp: Mapped[int]
    cooperative_bp: Mapped[int]
    production_capital_bp: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    facility: Mapped[Facility | None] = relationship()
    category: Mapped[Category | None] = relationship()

    __table_args__ = (
        CheckConstraint("pnbp_bp >= 0 AND premi_bp >= 0 AND cooperative_bp >= 0 AND production_capital_bp >= 0",
                        name="shares_not_negative"),
        CheckConstraint("pnbp_bp + premi_bp + cooperative_bp + production_capital_bp = 10000",
                        name="shares_make_the_whole"),
    )

    @property
    def shares(self) -> dict[Part, int]:
        return {Part.PNBP: self.pnbp_bp, Part.PREMI: self.premi_bp, Part.COOPERATIVE: self.cooperative_bp,
                Part.PRODUCTION_CAPITAL: self.production_capital_bp}

    @property
    def specificity(self) -> int:
        return (2 if self.facility_id else 0) + (1 if self.category_id else 0)


class LedgerEntry(Model):
    """One signed amount of one part of one order (and line), booked once and never changed.

    Entries come in balanced sets (`set_key`): a sale or reversal set's parts add up to its gross; a fee
    set sums to zero. The database refuses UPDATE and DELETE (triggers, below); mistakes are corrected by
    reversing or adjusting entries."""

    id: Mapped[int] = mapped_column(primary_key=True)
    set_key: Mapped[str] = mapped_column(String(80))  # e.g. "sale:L12", "refund:R3:L12", "fee:P5:L12"
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind, "kind"))
    part: Mapped[Part] = mapped_column(enum_column(Part, "part"))
    amount: Mapped[int]  # rupiah, signed: reversals are negative
    # An online order's entries name the order; a direct sale's (#28) name the sale: exactly one of the two.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="RESTRICT"), index=True)
    direct_sale_id: Mapped[int | None] = mapped_column(ForeignKey("direct_sale.id", ondelete="RESTRICT"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"), default=Channel.ONLINE,
                                             server_default=Channel.ONLINE.value)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id", ondelete="RESTRICT"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"))
    month: Mapped[str] = mapped_column(String(7))  # accounting month "YYYY-MM" in the facility's time zone
    day: Mapped[date] = mapped_column(Date)  # accounting day, same zone (deposit deadlines count from it)
    # The month of the sale this entry belongs to: differs from `month` when a late refund of a closed month's
    # sale is carried over into the first open month.
    origin_month: Mapped[str] = mapped_column(String(7))
    quantity: Mapped[int] = mapped_column(default=0)  # units: on a sale's gross, less those cancelled
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("split_rule.id", ondelete="RESTRICT"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refund.id", ondelete="RESTRICT"))
    note: Mapped[str] = mapped_column(Text, default="")

    rule: Mapped[SplitRule | None] = relationship()
    order: Mapped[Order | None] = relationship()  # noqa: F821 (shop.orders.models)
    # A layer above (shop.sales): named, never imported here.
    direct_sale: Mapped[DirectSale | None] = relationship("DirectSale")

    __table_args__ = (
        CheckConstraint("(order_id IS NULL) <> (direct_sale_id IS NULL)", name="one_sale"),
        CheckConstraint("(channel = 'direct') = (direct_sale_id IS NOT NULL)", name="channel_of_its_sale"),
        # One entry per part in a set: booking the same sale (or refund) twice is impossible.
        Index("uq_ledger_entry_set_part", "set_key", "part", unique=True),
        Index("ix_ledger_entry_facility_month_part", "facility_id", "month", "part"),
        Index("ix_ledger_entry_month_part", "month", "part"),
        # Covers the reconciliation: PNBP per facility, month and day, read from the index alone.
        Index("ix_ledger_entry_part_facility_month_day", "part", "facility_id", "month", "day", "origin_month",
              "amount", "channel"),
    )

    @property
    def source_number(self) -> str:
        """The number of what was sold: the online order's, or the direct sale's (its receipt's)."""
        if self.order is not None:
            return self.order.number
        return self.direct_sale.number if self.direct_sale is not None else ""


# Append-only, enforced by the database itself on both engines (shop.guards): created with the table (create_all,
# the tests) and by the migrations.
APPEND_ONLY_DDL = guard(LedgerEntry.__table__, "ledger entries are append-only: correct them with a reversing entry")


class PeriodClose(Model):
    """A facility's accounting month that finance closed once its PNBP balanced: no entry is booked into it
    any more (a late refund goes to the first open month, "carried over"). Only an admin reopens it, with a
    reason; both are in the audit log."""

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"))
    month: Mapped[str] = mapped_column(String(7))
    accrued: Mapped[int]  # the PNBP accrued and deposited when it was closed (equal: only a balanced month closes)
    deposited: Mapped[int]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    facility: Mapped[Facility] = relationship()

    __table_args__ = (Index("uq_period_close_facility_month", "facility_id", "month", unique=True),)


# Its snapshot is never edited; reopening the month deletes the row (and says why in the audit log).
guard(PeriodClose.__table__, "a closed month is never edited: reopen it (an admin, with a reason)", deletable=True)


from shop.orders.models import Order  # noqa: E402
