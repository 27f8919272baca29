"""Direct sales (#28): points of sale (a facility's gallery, an exhibition), the sales made there, each day's close,
and the files of sales written on paper that were imported."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.models import Facility
from shop.extensions import Model, enum_column
from shop.timeutil import shop_zone, utcnow


class PointKind(enum.StrEnum):
    GALLERY = "gallery"  # a facility's own gallery or outlet: sells that facility's products
    EXHIBITION = "exhibition"  # a bazaar or exhibition, for some days, at a place

    @property
    def label(self) -> str:
        return str(_l("Facility gallery") if self is PointKind.GALLERY else _l("Exhibition"))


class PayMethod(enum.StrEnum):
    CASH = "cash"
    QRIS = "qris"  # the cooperative's static QRIS code, shown at the stand
    TRANSFER = "transfer"  # bank transfer to the cooperative's account

    @property
    def label(self) -> str:
        return str(PAY_LABELS[self])


PAY_LABELS = {PayMethod.CASH: _l("Cash"), PayMethod.QRIS: _l("QRIS"), PayMethod.TRANSFER: _l("Bank transfer")}
# The words of an import file's `pembayaran` column.
PAY_WORDS = {"tunai": PayMethod.CASH, "qris": PayMethod.QRIS, "transfer": PayMethod.TRANSFER}


point_seller = Table(
    "point_of_sale_seller", Model.metadata,
    Column("point_id", ForeignKey("point_of_sale.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class PointOfSale(Model):
    """Where staff sell face to face, and who may sell there."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[PointKind] = mapped_column(enum_column(PointKind, "kind"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"), index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    facility: Mapped[Facility | None] = relationship()
    sellers: Mapped[list[User]] = relationship(secondary=point_seller, order_by=User.email)

    __table_args__ = (
        CheckConstraint("kind <> 'gallery' OR facility_id IS NOT NULL", name="gallery_has_facility"),
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),
    )

    @property
    def zone(self) -> str:
        """The time zone its days are counted in: its facility's, else the shop's."""
        return self.facility.timezone if self.facility else shop_zone()


class DirectSale(Model):
    """One sale at a point of sale, booked like an order: stock movements and a ledger booking (channel "direct").
    Never edited: a void (same day, with a reason) reverses its stock and its ledger entries."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # on the receipt (struk): "PJ-20261204-0007"
    client_id: Mapped[str] = mapped_column(String(64), unique=True)  # made on the phone: a sale sent twice is one
    receipt_token: Mapped[str] = mapped_column(String(32), unique=True)  # the receipt's link for the buyer
    point_id: Mapped[int] = mapped_column(ForeignKey("point_of_sale.id", ondelete="RESTRICT"), index=True)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    method: Mapped[PayMethod] = mapped_column(enum_column(PayMethod, "method"))
    total: Mapped[int]
    sold_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    day: Mapped[date] = mapped_column(Date)  # the sale's day at the point (its day close, its void)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("sales_import.id", ondelete="RESTRICT"), index=True)
    # Recorded after its day was closed at its point (an offline phone sending late, an import): the close's totals
    # do not hold it, and the close screen says so.
    after_close: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    void_reason: Mapped[str] = mapped_column(Text, default="")

    point: Mapped[PointOfSale] = relationship()
    seller: Mapped[User | None] = relationship(foreign_keys=[seller_id])
    lines: Mapped[list[DirectSaleLine]] = relationship(back_populates="sale", order_by="DirectSaleLine.id")

    __table_args__ = (CheckConstraint("total >= 0", name="total_not_negative"),)


class DirectSaleLine(Model):
    """A product sold in a direct sale, at the catalogue price or another one with its reason."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("direct_sale.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"), index=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))  # the product's name when sold
    quantity: Mapped[int]
    unit_price: Mapped[int]
    catalog_price: Mapped[int]
    price_reason: Mapped[str] = mapped_column(Text, default="")
    unit_cost: Mapped[int] = mapped_column(default=0)

    sale: Mapped[DirectSale] = relationship(back_populates="lines")

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),
                      CheckConstraint("unit_price >= 0", name="price_not_negative"))

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


class DayClose(Model):
    """A point of sale's day, closed: the cash expected from the day's cash sales against what was counted, any
    difference with its reason, and the QRIS and transfer totals to match against the bank statement."""

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("point_of_sale.id", ondelete="RESTRICT"))
    day: Mapped[date] = mapped_column(Date)
    sales: Mapped[int]
    expected_cash: Mapped[int]
    counted_cash: Mapped[int]
    qris_total: Mapped[int]
    transfer_total: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    point: Mapped[PointOfSale] = relationship()
    closed_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("counted_cash >= 0", name="counted_not_negative"),
        CheckConstraint("counted_cash = expected_cash OR reason <> ''", name="difference_has_reason"),
        UniqueConstraint("point_id", "day", name="uq_day_close_point_day"),
    )

    @property
    def difference(self) -> int:
        return self.counted_cash - self.expected_cash


class SalesImport(Model):
    """A file of sales written on paper or in a spreadsheet, imported whole: the same file twice is refused."""

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("point_of_sale.id", ondelete="RESTRICT"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the file's bytes
    filename: Mapped[str] = mapped_column(String(200), default="")
    rows: Mapped[int]
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    point: Mapped[PointOfSale] = relationship()
