"""The shop's one door to Stripe: the only module that imports `stripe`.

Amounts cross this door as whole rupiah (int) and are converted here: IDR is not a zero-decimal currency
in Stripe, so Rp45.000 travels as 4500000. Every create call carries an idempotency key derived from the
order, so a retried click cannot make two sessions or two refunds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import stripe
from flask import current_app

from shop.payments import errors

CURRENCY = "idr"


class GatewayError(errors.GatewayError):
    """Stripe refused or could not be reached; the message is safe to log, not to show to buyers."""


class InvalidWebhook(Exception):
    """A webhook whose payload or signature does not verify."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str
    amount: int  # rupiah
    payment_intent_id: str | None


@dataclass(frozen=True)
class PaymentDetails:
    """What finance needs to match a payout to an order; money in whole rupiah."""

    payment_intent_id: str
    status: str
    charge_id: str | None
    balance_transaction_id: str | None
    gross: int
    fee: int
    net: int
    currency: str
    refunded: int = 0  # rupiah refunded on the charge so far, whoever made the refunds


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount: int
    status: str


def to_stripe_amount(rupiah: int) -> int:
    if not isinstance(rupiah, int) or isinstance(rupiah, bool):
        raise TypeError("rupiah amounts are int")
    return rupiah * 100


def from_stripe_amount(minor: int) -> int:
    rupiah, cents = divmod(int(minor), 100)
    if cents:
        raise GatewayError(f"IDR amount {minor} is not whole rupiah")
    return rupiah


def is_configured() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def _client() -> stripe.StripeClient:
    config = current_app.config
    if not config.get("STRIPE_SECRET_KEY"):
        raise GatewayError("STRIPE_SECRET_KEY is not set")
    base: Any = {"api": config["STRIPE_API_BASE"]} if config.get("STRIPE_API_BASE") else None
    # Stripe's own default waits 80 s for an answer; a buyer's click (and the order's row lock) must not.
    http = stripe.new_default_http_client(timeout=config.get("STRIPE_TIMEOUT", 10))
    return stripe.StripeClient(config["STRIPE_SECRET_KEY"], base_addresses=base, http_client=http,
                               max_network_retries=config.get("STRIPE_NETWORK_RETRIES", 2))


def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except stripe.StripeError as error:
        raise GatewayError(f"{type(error).__name__}: {error.user_message or error}") from error


def _session(obj: Any) -> CheckoutSession:
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    intent = data.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return CheckoutSession(id=data["id"], url=data.get("url") or "", status=data.get("status") or "",
                           amount=from_stripe_amount(data.get("amount_total") or 0), payment_intent_id=intent)


def create_checkout_session(*, order_number: str, amount: int, description: str, email: str, locale: str,
                            success_url: str, cancel_url: str, expires_at: int, idempotency_key: str,
                            metadata: dict[str, str]) -> CheckoutSession:
    """One hosted Checkout page for the whole order (one line: the order total incl. shipping)."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": CURRENCY, "unit_amount": to_stripe_amount(amount),
            "product_data": {"name": description}}}],
        "payment_method_types": ["card"],
        "client_reference_id": order_number,
        "customer_email": email,
        "locale": locale,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": expires_at,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
    }
    return _session(_call(_client().v1.checkout.sessions.create, params=params,
                          options={"idempotency_key": idempotency_key}))


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    return _session(_call(_client().v1.checkout.sessions.retrieve, session_id))


def expire_checkout_session(session_id: str) -> CheckoutSession:
    return _session(_call(_client().v1.checkout.sessions.expire, session_id))


def payment_details(payment_intent_id: str) -> PaymentDetails:
    intent = _call(_client().v1.payment_intents.retrieve, payment_intent_id,
                   params={"expand": ["latest_charge.balance_transaction"]}).to_dict()
    charge = intent.get("latest_charge")
    charge = charge if isinstance(charge, dict) else None
    balance = charge.get("balance_transaction") if charge else None
    balance = balance if isinstance(balance, dict) else None
    gross = from_stripe_amount(balance["amount"] if balance else intent.get("amount_received") or intent["amount"])
    fee = from_stripe_amount(balance.get("fee", 0)) if balance else 0
    return PaymentDetails(
        payment_intent_id=intent["id"], status=intent.get("status") or "",
        charge_id=charge["id"] if charge else None, balance_transaction_id=balance["id"] if balance else None,
        gross=gross, fee=fee, net=gross - fee, currency=intent.get("currency") or CURRENCY,
        refunded=from_stripe_amount(charge.get("amount_refunded") or 0) if charge else 0)


def refund(*, payment_intent_id: str, amount: int, idempotency_key: str, reason: str | None = None) -> RefundResult:
    params: dict[str, Any] = {"payment_intent": payment_intent_id, "amount": to_stripe_amount(amount)}
    if reason in {"duplicate", "fraudulent", "requested_by_customer"}:
        params["reason"] = reason
    result = _call(_client().v1.refunds.create, params=params, options={"idempotency_key": idempotency_key})
    return RefundResult(id=result["id"], amount=from_stripe_amount(result["amount"]), status=result["status"] or "")


def parse_webhook(payload: bytes, signature_header: str | None) -> dict[str, Any]:
    """The verified event as a plain dict; raises InvalidWebhook for a bad signature, a body that is not JSON,
    or an event of an unexpected shape (a validly signed body is still checked before anything reads it)."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise InvalidWebhook("STRIPE_WEBHOOK_SECRET is not set")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature_header, secret,
                                              tolerance=current_app.config.get("STRIPE_WEBHOOK_TOLERANCE", 300))
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError, stripe.SignatureVerificationError) as error:
        raise InvalidWebhook(str(error)[:200]) from error
    problem = event_shape_problem(event)
    if problem:
        raise InvalidWebhook(problem)
    return event


def event_shape_problem(event: Any) -> str:
    """What is wrong with an event's envelope, or "" when it has the shape every Stripe event has."""
    if not isinstance(event, dict):
        return "the event is not an object"
    if "\\u0000" in json.dumps(event):
        return "the event holds a NUL character"
    if not isinstance(event.get("id"), str) or not 0 < len(event["id"]) <= 255:
        return "the event has no id of up to 255 characters"
    if not isinstance(event.get("type"), str) or not 0 < len(event["type"]) <= 80:
        return "the event has no type"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "the event has no data object"
    if not isinstance(data["object"].get("id", ""), str) or len(data["object"].get("id", "")) > 255:
        return "the event's object has an id that is not a string of up to 255 characters"
    return ""
