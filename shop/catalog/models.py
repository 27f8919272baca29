"""Regions, facilities, categories, products and their images."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import Model, enum_column
from shop.i18n import localized
from shop.timeutil import utcnow

if TYPE_CHECKING:
    from shop.certification.models import Certification


class FacilityKind(enum.StrEnum):
    """Kinds of UPT Pemasyarakatan (correctional technical units)."""

    LAPAS = "lapas"
    LAPAS_PEREMPUAN = "lapas_perempuan"
    LPKA = "lpka"
    RUTAN = "rutan"
    BAPAS = "bapas"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    FacilityKind.LAPAS: _l("Prison (Lapas)"),
    FacilityKind.LAPAS_PEREMPUAN: _l("Women's prison (Lapas Perempuan)"),
    FacilityKind.LPKA: _l("Juvenile facility (LPKA)"),
    FacilityKind.RUTAN: _l("Remand centre (Rutan)"),
    FacilityKind.BAPAS: _l("Probation office (Bapas)"),
}


class DepositRegime(enum.StrEnum):
    DAILY = "daily"
    PERIODIC = "periodic"

    @property
    def label(self) -> str:
        return str(_l("daily (next working day)") if self is DepositRegime.DAILY else _l("periodic"))


class Region(Model):
    """A province, served by one Kanwil Ditjenpas (regional corrections office)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    office: Mapped[str] = mapped_column(String(160))
    city: Mapped[str] = mapped_column(String(80))

    facilities: Mapped[list[Facility]] = relationship(back_populates="region", order_by="Facility.name")


class Facility(Model):
    """A Lapas, Rutan, LPKA or Bapas whose workshop makes what the shop sells."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[FacilityKind] = mapped_column(enum_column(FacilityKind, "kind"))
    facility_class: Mapped[str] = mapped_column(String(8), default="")
    name: Mapped[str] = mapped_column(String(160))
    city: Mapped[str] = mapped_column(String(80))
    story_id: Mapped[str] = mapped_column(Text, default="")
    story_en: Mapped[str] = mapped_column(Text, default="")
    image: Mapped[str | None] = mapped_column(String(255))
    # The facility's accounting day and month follow its own zone: Palu is WITA, Kuala Tungkal (Jambi) WIB.
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Makassar", server_default="Asia/Makassar")
    # When PNBP must reach the treasury (PMK 3/PMK.06/2013): by the next working day ("daily"), or every
    # `deposit_period_days` days where the regional treasury office allowed a periodic deposit.
    deposit_regime: Mapped[DepositRegime] = mapped_column(enum_column(DepositRegime, "deposit_regime"),
                                                          default=DepositRegime.DAILY, server_default="daily")
    deposit_period_days: Mapped[int] = mapped_column(default=1, server_default="1")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    region: Mapped[Region] = relationship(back_populates="facilities")
    products: Mapped[list[Product]] = relationship(back_populates="facility")

    __table_args__ = (CheckConstraint("deposit_period_days BETWEEN 1 AND 31", name="deposit_period_in_range"),)

    @property
    def story(self) -> str:
        return localized(self, "story")


class Category(Model):
    """A kind of product. `required_certs` names what its products need (see certification.rules)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_id: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    required_certs: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)

    @property
    def name(self) -> str:
        return localized(self, "name")


class Product(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    name_id: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    description_id: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # An anonymised maker note ("L., 35, learned crochet here"): never a full name (DOMAIN.md).
    maker_note_id: Mapped[str] = mapped_column(Text, default="")
    maker_note_en: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column()  # whole rupiah
    # What one unit costs the workshop to make (materials, packaging): a margin split rule shares only what
    # the price earns above it. Snapshotted on each order line.
    unit_cost: Mapped[int] = mapped_column(default=0, server_default="0")
    weight_g: Mapped[int] = mapped_column()  # the shipping weight: the goods with their packaging
    # The packed size in cm, for the couriers' volumetric weight (furniture, big bags); 0 where it does not matter.
    length_cm: Mapped[int] = mapped_column(default=0, server_default="0")
    width_cm: Mapped[int] = mapped_column(default=0, server_default="0")
    height_cm: Mapped[int] = mapped_column(default=0, server_default="0")
    # Ships in a wooden crate (packing kayu: furniture, glass), which couriers charge for per parcel.
    needs_crate: Mapped[bool] = mapped_column(default=False, server_default=false())
    # What the buyer gets, as the label says it ("200 g", "250 ml", "1 tas, 24 × 20 × 6 cm"); not the weight shipped.
    net_content: Mapped[str] = mapped_column(String(60), default="", server_default="")
    stock: Mapped[int] = mapped_column(default=0)
    # Its stock is kept in lots (`Lot`), and a stock change asks which; False: a plain stock (a craft never received
    # as a lot). Read with the stock UPDATE, so a product without lots costs no query more.
    lotted: Mapped[bool] = mapped_column(default=False, server_default=false())
    active: Mapped[bool] = mapped_column(default=True)
    featured: Mapped[bool] = mapped_column(default=False)
    # What search reads (shop.catalog.search): the names, category, facility, its city and region, and the
    # descriptions, in lower case; rewritten on every change of the product or of what it names.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Staff may override the certificates the category requires (None: follow the category), with a reason.
    required_certs_override: Mapped[list[str] | None] = mapped_column(JSON)
    required_certs_reason: Mapped[str] = mapped_column(Text, default="")
    # A change of what the product needs, waiting for a second person of the cooperative (certification.service):
    # {"requirements": [...] or None, "reason": ..., "by_id": ..., "by": email}.
    required_certs_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    facility: Mapped[Facility] = relationship(back_populates="products")
    category: Mapped[Category] = relationship()
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan"
    )
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="product", order_by="Certification.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("unit_cost >= 0", name="cost_not_negative"),
        CheckConstraint("weight_g > 0", name="weight_positive"),
        Index("ix_product_active_created", "active", "created_at"),
        # The home page's featured cards, in order straight from the index (no sort of the whole catalog), and
        # the products-per-facility count read from the index alone.
        Index("ix_product_active_featured_created", "active", "featured", "created_at"),
        Index("ix_product_active_facility", "active", "facility_id"),
    )

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def description(self) -> str:
        return localized(self, "description")

    @property
    def maker_note(self) -> str:
        return localized(self, "maker_note")

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def volume_cm3(self) -> int:
        return self.length_cm * self.width_cm * self.height_cm

    @property
    def cover(self) -> ProductImage | None:
        return self.images[0] if self.images else None


THUMB_SIDE = 480  # a thumbnail's longest side


class ProductImage(Model):
    """A photo of a product, stored under UPLOAD_FOLDER with a thumbnail made by Pillow."""

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    thumbnail: Mapped[str] = mapped_column(String(255))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    position: Mapped[int] = mapped_column(default=0)
    alt_id: Mapped[str] = mapped_column(String(200), default="")
    alt_en: Mapped[str] = mapped_column(String(200), default="")
    webp: Mapped[bool] = mapped_column(default=False, server_default=false())  # WebP copies stored beside the JPEGs
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    product: Mapped[Product] = relationship(back_populates="images")

    @property
    def alt(self) -> str:
        return localized(self, "alt")

    @property
    def webp_filename(self) -> str:
        return self.filename.rsplit(".", 1)[0] + ".webp"

    @property
    def webp_thumbnail(self) -> str:
        return self.thumbnail.rsplit(".", 1)[0] + ".webp"

    @property
    def thumbnail_width(self) -> int:
        """The thumbnail's width: the photo scaled so that its longest side is at most THUMB_SIDE."""
        return round(self.width * min(1.0, THUMB_SIDE / max(self.width, self.height, 1)))


class StockReason(enum.StrEnum):
    OPENING = "opening"  # the stock a product started with
    PRODUCTION = "production"  # a production batch received from the workshop
    DAMAGED = "damaged"
    CORRECTION = "correction"  # a stock count found a different number
    ORDER = "order"  # reserved by an order
    ORDER_RELEASED = "order_released"  # an unpaid or cancelled order gave it back
    RETURNED = "returned"  # goods a buyer sent back after delivery, received by staff
    EXPIRED = "expired"  # a lot reached its minimum remaining shelf life: set aside, never sold
    RECALLED = "recalled"  # a lot was recalled: its unsold units blocked at once
    DIRECT_SALE = "direct_sale"  # sold face to face at a gallery or an exhibition (#28)
    DIRECT_SALE_VOIDED = "direct_sale_voided"  # a direct sale voided on its day: the units back on the shelf

    @property
    def label(self) -> str:
        return str(STOCK_REASON_LABELS[self])


STOCK_REASON_LABELS = {
    StockReason.OPENING: _l("opening stock"),
    StockReason.PRODUCTION: _l("production batch received"),
    StockReason.DAMAGED: _l("damaged"),
    StockReason.CORRECTION: _l("count correction"),
    StockReason.ORDER: _l("order"),
    StockReason.ORDER_RELEASED: _l("order released"),
    StockReason.RETURNED: _l("returned by the buyer"),
    StockReason.EXPIRED: _l("set aside: near its best-before date"),
    StockReason.RECALLED: _l("lot recalled"),
    StockReason.DIRECT_SALE: _l("direct sale"),
    StockReason.DIRECT_SALE_VOIDED: _l("direct sale voided"),
}


class Lot(Model):
    """A batch (lot) of a product from its facility's workshop: its code as printed on the label (the production
    code BPOM and P-IRT ask for), production and best-before dates, and how many units it holds. `on_hand` is
    what may still be sold from it; units set aside (near their best-before date) leave it for `set_aside`.
    A product's stock is the sum of its lots' `on_hand` (a product without lots, a craft, keeps a plain stock).
    The lot made from stock that existed before lots has no dates and is sold first (`opening`)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    produced_on: Mapped[date | None]
    best_before: Mapped[date | None]
    received_qty: Mapped[int]
    on_hand: Mapped[int]
    set_aside: Mapped[int] = mapped_column(default=0, server_default="0")
    set_aside_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opening: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A recall: its unsold units blocked at once (`set_aside`), every buyer of it told (fulfilment.recalls).
    recalled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recall_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    recalled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    product: Mapped[Product] = relationship()

    __table_args__ = (
        UniqueConstraint("product_id", "code", name="uq_lot_product_code"),
        CheckConstraint("on_hand >= 0 AND set_aside >= 0 AND received_qty >= 0", name="units_not_negative"),
        CheckConstraint("best_before IS NULL OR produced_on IS NULL OR best_before >= produced_on",
                        name="best_before_after_production"),
    )


class StockMovement(Model):
    """One change of a product's stock on hand; the stock is always the sum of its movements."""

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"), index=True)
    delta: Mapped[int]
    reason: Mapped[StockReason] = mapped_column(enum_column(StockReason, "reason"))
    note: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="RESTRICT"), index=True)
    direct_sale_id: Mapped[int | None] = mapped_column(ForeignKey("direct_sale.id", ondelete="RESTRICT"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    lot: Mapped[Lot | None] = relationship()

    __table_args__ = (CheckConstraint("delta <> 0", name="delta_not_zero"),)


class SearchSynonym(Model):
    """A word buyers type and the word the catalogue uses for it (kripik → keripik), kept by the cooperative."""

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(60), unique=True)  # lower case, one word
    means: Mapped[str] = mapped_column(String(120))  # lower case, one or more words
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
