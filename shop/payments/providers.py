"""The one interface every way of paying sits behind: card (Stripe), QRIS, e-wallets and virtual accounts (Midtrans),
and a bank transfer staff confirm by hand. Refunds, the expiry of open attempts and the staff's payments screen ask
`of(payment)` what to do; only the classes here know which provider is which. A second gateway (Xendit, say) is a
new class here, its gateway module and its own start and notification routes: orders and the ledger do not change.

Starting a payment and reading a provider's notifications stay each provider's own flow (`service.start_card_payment`
and the Stripe webhook, `online.start` and the Midtrans notification, `service.start_bank_transfer`), since each
asks the buyer different things and hears back in its own format; each then settles through `service.settle`.
"""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l

from shop.payments import midtrans_gateway, stripe_gateway
from shop.payments.models import Payment, PaymentMethod, Refund, channel_label


class NotRefundableOnline(Exception):
    """This payment's money goes back by a transfer staff make, not through the provider."""


class Provider:
    """What the shop asks of a provider about a payment it made."""

    name: ClassVar[str] = ""
    checkable: ClassVar[bool] = False  # staff may ask the provider for the payment's status again
    confirmed_by_staff: ClassVar[bool] = False  # staff see the money arrive and confirm or reject it

    def configured(self) -> bool:
        return True

    def refunds_online(self, payment: Payment) -> bool:
        return False

    def refund_online(self, payment: Payment, item: Refund) -> None:
        """Send `item.amount` back through the provider, once per `item.idempotency_key`; its id goes on `item`."""
        raise NotRefundableOnline(payment.method.value)

    def expire(self, payment: Payment) -> None:
        """End an open attempt at the provider (nothing to do where none exists there)."""

    def facts(self, payment: Payment) -> list[tuple[str, str]]:
        """What staff read about the payment at the provider: its ids and status, in the reader's words."""
        return []


class StripeCard(Provider):
    name = "Stripe"

    def configured(self) -> bool:
        return stripe_gateway.is_configured()

    def refunds_online(self, payment: Payment) -> bool:
        return True

    def refund_online(self, payment: Payment, item: Refund) -> None:
        if not payment.stripe_payment_intent_id:
            raise NotRefundableOnline("not settled at Stripe")  # refundable only once Stripe settled it
        item.stripe_refund_id = stripe_gateway.refund(payment_intent_id=payment.stripe_payment_intent_id,
                                                      amount=item.amount, idempotency_key=item.idempotency_key).id

    def facts(self, payment: Payment) -> list[tuple[str, str]]:
        return [("Checkout Session", payment.stripe_checkout_session_id or "—"),
                ("PaymentIntent", payment.stripe_payment_intent_id or "—"),
                (str(_l("Charge")), payment.stripe_charge_id or "—"),
                (str(_l("Balance transaction")), payment.stripe_balance_transaction_id or "—")]


class Midtrans(Provider):
    name = "Midtrans"
    checkable = True

    def configured(self) -> bool:
        return midtrans_gateway.is_configured()

    def refunds_online(self, payment: Payment) -> bool:
        return payment.pay_type in midtrans_gateway.REFUNDABLE_ONLINE

    def refund_online(self, payment: Payment, item: Refund) -> None:
        if not payment.provider_ref or not self.refunds_online(payment):
            raise NotRefundableOnline(payment.pay_type or "not paid yet")
        item.provider_refund_id = midtrans_gateway.refund(
            payment.provider_ref, amount=item.amount, key=item.idempotency_key, reason=item.reason or "refund")[:64]

    def expire(self, payment: Payment) -> None:
        try:
            midtrans_gateway.cancel(payment.provider_ref or "")
        except midtrans_gateway.NotFound:
            pass  # the buyer never picked a method on Snap's page: nothing exists there to expire

    def facts(self, payment: Payment) -> list[tuple[str, str]]:
        way = channel_label(payment.channel)
        code = f"{payment.pay_code} ({payment.pay_bank.upper()})" if payment.pay_bank else payment.pay_code
        return [(str(_l("Way to pay")), f"{way} ({payment.pay_type})" if payment.pay_type else way),
                ("Midtrans order_id", payment.provider_ref or "—"),
                ("Transaction id", payment.provider_transaction_id or "—"),
                (str(_l("Status at Midtrans")), payment.provider_status or str(_l("not chosen yet"))),
                *([(str(_l("Payment code")), code)] if payment.pay_code else [])]


class ManualTransfer(Provider):
    name = "bank"  # the cooperative's own account: staff confirm each transfer and make each refund
    confirmed_by_staff = True


PROVIDERS: dict[PaymentMethod, Provider] = {
    PaymentMethod.CARD: StripeCard(),
    PaymentMethod.MIDTRANS: Midtrans(),
    PaymentMethod.BANK_TRANSFER: ManualTransfer(),
}


def of(payment: Payment) -> Provider:
    return PROVIDERS[payment.method]
