"""Orders, their lines (snapshots of what was bought), and their events (every status move)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import Model, enum_column
from shop.shipping.models import Courier
from shop.timeutil import utcnow


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    OrderStatus.AWAITING_PAYMENT: _l("awaiting payment"),
    OrderStatus.PAID: _l("paid"),
    OrderStatus.PACKED: _l("packed"),
    OrderStatus.SHIPPED: _l("shipped"),
    OrderStatus.DELIVERED: _l("delivered"),
    OrderStatus.CANCELLED: _l("cancelled"),
}

# Where the goods are. Where the money is (paid, refunded in part or whole) is derived from the payment and
# refund rows (shop.payments.service.money_state), never stored here as a competing status.

_S = OrderStatus
# The one transition table of the order state machine: status → statuses it may move to. Goods move only
# forward; an order may be cancelled only before it ships. After that, goods come back through a return.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    _S.AWAITING_PAYMENT: frozenset({_S.PAID, _S.CANCELLED}),
    _S.PAID: frozenset({_S.PACKED, _S.CANCELLED}),
    _S.PACKED: frozenset({_S.SHIPPED, _S.CANCELLED}),
    _S.SHIPPED: frozenset({_S.DELIVERED}),
    _S.DELIVERED: frozenset(),
    _S.CANCELLED: frozenset(),
}
# Statuses in which the order holds its goods: its stock can never have been released.
HOLDS_GOODS = (_S.PAID, _S.PACKED, _S.SHIPPED, _S.DELIVERED)


class Order(Model):
    """One purchase by one buyer (a guest, or a customer account). Money in whole rupiah."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # KB-2026-000123, set from the id in the same transaction that creates the order (so NULL only before flush)
    number: Mapped[str] = mapped_column(String(20), unique=True, nullable=True)
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus, "status"),
                                                default=OrderStatus.AWAITING_PAYMENT, index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))  # E.164, +62…
    street: Mapped[str] = mapped_column(String(200))
    rt_rw: Mapped[str] = mapped_column(String(20), default="")
    kelurahan: Mapped[str] = mapped_column(String(100))
    kecamatan: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(100))  # kabupaten / kota
    province: Mapped[str] = mapped_column(String(60))
    postal_code: Mapped[str] = mapped_column(String(5))
    notes: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="id")
    courier_id: Mapped[int] = mapped_column(ForeignKey("courier.id", ondelete="RESTRICT"))
    weight_g: Mapped[int]
    subtotal: Mapped[int]
    shipping_cost: Mapped[int]
    total: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # while awaiting payment
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stock_released: Mapped[bool] = mapped_column(default=False)

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                  cascade="all, delete-orphan")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", order_by="OrderEvent.id",
                                                    cascade="all, delete-orphan")
    parcels: Mapped[list[OrderParcel]] = relationship(back_populates="order", order_by="OrderParcel.id",
                                                      cascade="all, delete-orphan")
    courier: Mapped[Courier] = relationship()

    __table_args__ = (
        CheckConstraint("subtotal >= 0 AND shipping_cost >= 0", name="amounts_not_negative"),
        CheckConstraint("total = subtotal + shipping_cost", name="total_adds_up"),
        # An order that holds its goods (paid and after) can never have given its stock back.
        CheckConstraint("NOT (stock_released AND status IN ('paid', 'packed', 'shipped', 'delivered'))",
                        name="goods_held_not_released"),
        Index("ix_order_status_expires_at", "status", "expires_at"),  # the expiry command's query
    )

    @property
    def address_lines(self) -> list[str]:
        street = f"{self.street} RT/RW {self.rt_rw}" if self.rt_rw else self.street
        return [street, f"{self.kelurahan}, {self.kecamatan}", f"{self.city}, {self.province} {self.postal_code}"]


class OrderLine(Model):
    """What was bought, as it was at that moment: name, price and facility are copied, not referenced."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"), index=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    facility_name: Mapped[str] = mapped_column(String(160))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"))
    unit_price: Mapped[int]
    unit_cost: Mapped[int] = mapped_column(default=0, server_default="0")  # the product's, when ordered
    quantity: Mapped[int]
    weight_g: Mapped[int]  # of one unit, with packaging
    returned_quantity: Mapped[int] = mapped_column(default=0, server_default="0")  # received back by staff

    order: Mapped[Order] = relationship(back_populates="lines")

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),
                      CheckConstraint("unit_price >= 0", name="price_not_negative"),
                      CheckConstraint("unit_cost >= 0", name="cost_not_negative"),
                      CheckConstraint("returned_quantity >= 0 AND returned_quantity <= quantity",
                                      name="returned_within_quantity"))

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity

    @property
    def total_weight_g(self) -> int:
        return self.weight_g * self.quantity


class OrderParcel(Model):
    """One facility's goods of an order, shipped as one parcel from that facility's region, with the shipping
    price the buyer paid for it (the order's `shipping_cost` is their sum)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"))
    facility_name: Mapped[str] = mapped_column(String(160))
    origin: Mapped[str] = mapped_column(String(80))  # the region it leaves from, as it was named then
    weight_g: Mapped[int]
    shipping_cost: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="parcels")

    __table_args__ = (UniqueConstraint("order_id", "facility_id", name="uq_order_parcel_order_facility"),
                      CheckConstraint("shipping_cost >= 0 AND weight_g >= 0", name="parcel_not_negative"))


class EventCode(enum.StrEnum):
    """What an order event says, stored as a code with parameters and worded in the reader's language."""

    PLACED = "placed"
    STATUS = "status"  # a move of the status: the new status says it
    PAID_TRANSFER = "paid_transfer"  # {reference}
    PAID_CARD = "paid_card"
    EXPIRED = "expired"  # cancelled when the time to pay ran out
    PARCEL_SHIPPED = "parcel_shipped"  # {courier, tracking}: one facility's parcel left
    RETURN_RECEIVED = "return_received"  # {units}
    NOTE = "note"  # staff's own words, in `note`
    RECEIPT_SENT = "receipt_sent"  # the buyer sent a transfer receipt
    PAID_ONLINE = "paid_online"  # {channel}: QRIS, an e-wallet, a virtual account, a minimarket (Midtrans)


EVENT_TEXTS = {
    EventCode.PLACED: _l("order placed"),
    EventCode.PAID_TRANSFER: _l("paid by bank transfer (%(reference)s)"),
    EventCode.PAID_CARD: _l("paid by card"),
    EventCode.EXPIRED: _l("the time to pay ran out"),
    EventCode.PARCEL_SHIPPED: _l("parcel shipped with %(courier)s, tracking number %(tracking)s"),
    EventCode.RETURN_RECEIVED: _l("goods returned: %(units)s"),
    EventCode.RECEIPT_SENT: _l("transfer receipt sent, being checked"),
    EventCode.PAID_ONLINE: _l("paid by %(channel)s"),
}


class OrderEvent(Model):
    """One move of an order's status, or a note: who, when, from, to, why.

    `code` and `params` say what happened in words chosen when it is read (buyer or staff, Indonesian or
    English); `note` holds only what a person typed (a cancel reason, an internal note)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")  # "system", "buyer", a staff email
    from_status: Mapped[OrderStatus | None] = mapped_column(enum_column(OrderStatus, "from_status"))
    to_status: Mapped[OrderStatus | None] = mapped_column(enum_column(OrderStatus, "to_status"))
    code: Mapped[EventCode] = mapped_column(enum_column(EventCode, "code"), default=EventCode.STATUS,
                                            server_default=EventCode.STATUS.value)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    internal: Mapped[bool] = mapped_column(default=False)  # staff notes the buyer does not see

    order: Mapped[Order] = relationship(back_populates="events")

    __table_args__ = (Index("ix_order_event_order", "order_id", "at"),)

    @property
    def text(self) -> str:
        """What happened, in the reader's language: the new status, and what the code adds to it."""
        said = [str(self.to_status.label)] if self.to_status is not None else []
        template = EVENT_TEXTS.get(self.code)
        if template is not None:
            said.append(str(template) % _Params(self.params or {}))
        return " — ".join(said)


# The words a parameter's stored value stands for, read in the reader's language. A higher layer names them
# (create_app wires the ways to pay: channel "bca_va" reads "virtual account BCA").
PARAM_WORDS: dict[str, Mapping[str, Any]] = {}


class _Params(dict[str, Any]):
    """An event's parameters; one missing from an old row reads as "?" rather than breaking the page."""

    def __missing__(self, key: str) -> str:
        return "?"

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        words = PARAM_WORDS.get(key)
        return str(words[value]) if words is not None and isinstance(value, str) and value in words else value


class OrderReturn(Model):
    """Goods that came back after shipping, received by staff: only what came back goes on sale again."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    lines: Mapped[list[ReturnLine]] = relationship(back_populates="order_return", order_by="ReturnLine.id",
                                                   cascade="all, delete-orphan")


class ReturnLine(Model):
    """How many units of one order line came back in one return."""

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("order_return.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int]
    # Back on sale: false for food that did not come back sealed and sound (fulfilment.service.receive_return).
    restocked: Mapped[bool] = mapped_column(default=True, server_default=true())

    order_return: Mapped[OrderReturn] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

