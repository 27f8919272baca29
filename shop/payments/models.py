"""Payments of orders (card through Stripe Checkout, or bank transfer), their refunds, and Stripe events seen."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, event, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop import metrics
from shop.extensions import Model, enum_column
from shop.timeutil import utcnow

if TYPE_CHECKING:
    from shop.orders.models import Order


class PaymentMethod(enum.StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    MIDTRANS = "midtrans"  # QRIS, e-wallets, virtual accounts and minimarkets through Midtrans Snap

    @property
    def label(self) -> str:
        return str(METHOD_LABELS[self])


METHOD_LABELS = {PaymentMethod.CARD: _l("Card (Stripe)"), PaymentMethod.BANK_TRANSFER: _l("Bank transfer"),
                 PaymentMethod.MIDTRANS: _l("QRIS, e-wallet or virtual account (Midtrans)")}


# The ways to pay through Midtrans, by Snap's names, as buyers know them.
CHANNEL_LABELS = {
    "other_qris": _l("QRIS (any bank or e-wallet app: DANA, OVO, GoPay …)"),
    "gopay": _l("GoPay"),
    "shopeepay": _l("ShopeePay"),
    "bca_va": _l("BCA virtual account"),
    "bni_va": _l("BNI virtual account"),
    "bri_va": _l("BRI virtual account"),
    "echannel": _l("Mandiri virtual account (bill payment)"),
    "permata_va": _l("Permata virtual account"),
    "indomaret": _l("Indomaret"),
    "alfamart": _l("Alfamart"),
}


def channel_label(name: str) -> str:
    """A way to pay by Midtrans's name for it, as buyers know it (an unknown name as it is)."""
    return str(CHANNEL_LABELS.get(name, name))


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # card: Checkout page open; transfer: waiting for the buyer's transfer
    SUBMITTED = "submitted"  # transfer: receipt uploaded, waiting for staff
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    REJECTED = "rejected"  # transfer: staff found no matching transfer

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    PaymentStatus.PENDING: _l("pending"),
    PaymentStatus.SUBMITTED: _l("receipt sent, being checked"),
    PaymentStatus.SUCCEEDED: _l("paid"),
    PaymentStatus.FAILED: _l("failed"),
    PaymentStatus.EXPIRED: _l("expired"),
    PaymentStatus.REJECTED: _l("rejected"),
}


class Payment(Model):
    """One attempt to pay one order. Money in whole rupiah; Stripe ids kept so payouts match orders."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="RESTRICT"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod, "method"))
    status: Mapped[PaymentStatus] = mapped_column(enum_column(PaymentStatus, "status"), default=PaymentStatus.PENDING)
    amount: Mapped[int]
    refunded: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failure: Mapped[str] = mapped_column(Text, default="")
    # card
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str] = mapped_column(Text, default="")
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255))
    stripe_balance_transaction_id: Mapped[str | None] = mapped_column(String(255))
    fee: Mapped[int] = mapped_column(default=0)
    # Money that arrived for an order another payment had already paid: refunded in full, never counted.
    duplicate: Mapped[bool] = mapped_column(default=False, server_default=false())
    net: Mapped[int] = mapped_column(default=0)
    # through a gateway that names each attempt (Midtrans): its order_id, its own id and status, the way the buyer
    # chose (Snap's name: other_qris, bca_va …), and what the buyer pays to until the deadline
    provider_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    provider_transaction_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    provider_status: Mapped[str] = mapped_column(String(30), default="", server_default="")
    channel: Mapped[str] = mapped_column(String(30), default="", server_default="")
    pay_type: Mapped[str] = mapped_column(String(30), default="", server_default="")  # as paid: qris, gopay, cstore …
    pay_code: Mapped[str] = mapped_column(String(255), default="", server_default="")
    pay_bank: Mapped[str] = mapped_column(String(40), default="", server_default="")
    pay_qr: Mapped[str] = mapped_column(Text, default="", server_default="")
    pay_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # bank transfer
    receipt: Mapped[str | None] = mapped_column(String(255))
    receipt_uploaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payer_note: Mapped[str] = mapped_column(Text, default="")
    bank_reference: Mapped[str] = mapped_column(String(120), default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[Order] = relationship()
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded >= 0 AND refunded <= amount", name="refunded_within_amount"),
        # At most one open payment of each kind per order, whatever double clicks arrive at once.
        Index("uq_payment_open_per_method", "order_id", "method", unique=True,
              sqlite_where=text("status IN ('pending', 'submitted')"),
              postgresql_where=text("status IN ('pending', 'submitted')")),
    )

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded if self.status is PaymentStatus.SUCCEEDED else 0


PROVIDERS = {PaymentMethod.CARD: "stripe", PaymentMethod.MIDTRANS: "midtrans", PaymentMethod.BANK_TRANSFER: "bank"}
OUTCOMES = {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.REJECTED}


@event.listens_for(Payment.status, "set")
def _count_outcome(payment: Payment, value: PaymentStatus, old: Any, _initiator: Any) -> None:
    """Each payment reaching an outcome, counted for /metrics by provider, the way it was paid and the outcome."""
    if value in OUTCOMES and value != old:
        metrics.on_commit(metrics.PAYMENTS, PROVIDERS.get(payment.method, str(payment.method)),
                          payment.pay_type or payment.channel or str(payment.method), str(value))


class Refund(Model):
    """Money given back from one payment: through Stripe's Refund API, or by a bank transfer staff made."""

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    provider_refund_id: Mapped[str] = mapped_column(String(64), default="", server_default="")  # Midtrans's
    transfer_reference: Mapped[str] = mapped_column(String(120), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    lines: Mapped[list[RefundLine]] = relationship(back_populates="refund", order_by="RefundLine.id",
                                                   cascade="all, delete-orphan")

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class RefundLine(Model):
    """What a refund gives back: money for one order line (and the units returned with it), or for the shipping
    (no line). The ledger reverses exactly these; a refund without lines (made in Stripe's dashboard) is spread
    over all that is left of the order."""

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(default=0)  # units given back as unsold; 0: money only
    amount: Mapped[int]

    refund: Mapped[Refund] = relationship(back_populates="lines")

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      CheckConstraint("quantity >= 0", name="quantity_not_negative"))


class StripeEvent(Model):
    """Every Stripe event id handled, once: a second delivery of the same id changes nothing."""

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(200), default="")
