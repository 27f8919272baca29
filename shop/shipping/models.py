"""Couriers and their shipping rates by origin region and destination province."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import Model


class Courier(Model):
    """A delivery company (JNE, J&T Express, SiCepat, POS Indonesia…); its tracking numbers are *resi*."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    tracking_url: Mapped[str] = mapped_column(String(255), default="")  # with {resi} in it
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    # Volumetric weight in kg = length × width × height (cm) ÷ this (JNE, J&T, SiCepat: 6000; 0: by weight only).
    volumetric_divisor: Mapped[int] = mapped_column(default=6000, server_default="6000")
    crate_fee: Mapped[int] = mapped_column(default=0, server_default="0")  # rupiah per parcel in a wooden crate
    # A cargo service (JNE Trucking, Indah Cargo …) for furniture and other large goods: cheaper per kilogram, but
    # each parcel is charged at least `min_weight_g`, and it is offered only for an order with a parcel that heavy.
    cargo: Mapped[bool] = mapped_column(default=False, server_default=false())
    min_weight_g: Mapped[int] = mapped_column(default=0, server_default="0")

    rates: Mapped[list[ShippingRate]] = relationship(back_populates="courier", cascade="all, delete-orphan")


class ShippingRate(Model):
    """Price from one region (the facility's province) to one province: `first_kg` for the first started
    kilogram, `next_kg` for each one after. A rate with no origin region applies from any region that has no
    rate of its own."""

    id: Mapped[int] = mapped_column(primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("courier.id", ondelete="CASCADE"))
    origin_region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    province: Mapped[str] = mapped_column(String(60))
    first_kg: Mapped[int]
    next_kg: Mapped[int]
    days_min: Mapped[int] = mapped_column(default=2)
    days_max: Mapped[int] = mapped_column(default=5)

    courier: Mapped[Courier] = relationship(back_populates="rates")

    __table_args__ = (
        UniqueConstraint("courier_id", "origin_region_id", "province", name="uq_shipping_rate_courier_origin_province"),
        Index("uq_shipping_rate_courier_province_any_origin", "courier_id", "province", unique=True,
              sqlite_where=text("origin_region_id IS NULL"), postgresql_where=text("origin_region_id IS NULL")),
        CheckConstraint("first_kg >= 0 AND next_kg >= 0", name="prices_not_negative"),
    )

    def price_for(self, weight_g: int) -> int:
        kilos = max(1, -(-weight_g // 1000))  # every started kilogram counts
        return self.first_kg + (kilos - 1) * self.next_kg
