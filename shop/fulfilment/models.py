"""Shipments: one per facility group of an order, with courier and tracking number (resi)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import Model
from shop.orders.models import Order
from shop.shipping.models import Courier
from shop.timeutil import utcnow


class Shipment(Model):
    """The parcel that carries an order's lines from one facility. `tracking_number` is the courier's *resi*."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("courier.id", ondelete="RESTRICT"))
    tracking_number: Mapped[str] = mapped_column(String(60))
    shipped_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    shipped_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # this parcel reached the buyer

    courier: Mapped[Courier] = relationship()

    __table_args__ = (UniqueConstraint("order_id", "facility_id", name="uq_shipment_order_facility"),)

    @property
    def tracking_url(self) -> str:
        return self.courier.tracking_url.replace("{resi}", self.tracking_number) if self.courier.tracking_url else ""


class RecallNotice(Model):
    """A buyer told of a recalled lot: an order that received or holds units of it, the mail queued to its buyer,
    and whether staff reached the buyer (by phone or WhatsApp) as well."""

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id", ondelete="RESTRICT"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="RESTRICT"))
    units: Mapped[int]
    mailed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reached_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[Order] = relationship()

    __table_args__ = (UniqueConstraint("lot_id", "order_id", name="uq_recall_notice_lot_order"),)
