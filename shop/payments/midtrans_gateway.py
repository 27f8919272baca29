"""The shop's one door to Midtrans (QRIS, e-wallets, virtual accounts, minimarkets): the only module that knows its
API. Plain HTTP with `requests`, as Midtrans documents it (Basic auth with the server key; Snap to start a payment,
the Core API's `/v2/{order_id}/…` to read, cancel, expire and refund it), not the official `midtransclient`: that
library has no documented setting for its hosts (a local stand-in, which the tests talk to, could be reached only by
overwriting its URL constants on each client object) and raises one error type for every refusal, where the shop must
tell 404 from 412. `MIDTRANS_API_BASE` and
`MIDTRANS_SNAP_BASE` point elsewhere, for the tests alone.

Amounts cross this door as whole rupiah (int); Midtrans writes them as "145000.00".
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import requests
from flask import current_app

from shop.payments import errors

# The ways to pay that Midtrans's Snap offers and the shop may enable (MIDTRANS_METHODS), by their Snap name:
# whether the buyer pays at once in an app (the order's own hold) or later at a bank or counter (as long as a
# bank transfer), and the kind Midtrans reports back (`payment_type`) with what fees are set by.
CHANNELS: dict[str, dict[str, Any]] = {
    "other_qris": {"kind": "qris", "later": False},
    "gopay": {"kind": "gopay", "later": False},
    "shopeepay": {"kind": "shopeepay", "later": False},
    "bca_va": {"kind": "bank_transfer", "later": True},
    "bni_va": {"kind": "bank_transfer", "later": True},
    "bri_va": {"kind": "bank_transfer", "later": True},
    "echannel": {"kind": "echannel", "later": True},  # Mandiri Bill Payment
    "permata_va": {"kind": "bank_transfer", "later": True},
    "indomaret": {"kind": "cstore", "later": True},
    "alfamart": {"kind": "cstore", "later": True},
}
# Payment types Midtrans can refund online; money paid to a virtual account or at a counter goes back by transfer.
REFUNDABLE_ONLINE = {"credit_card", "gopay", "shopeepay", "qris"}
WIB = timezone(timedelta(hours=7))  # Midtrans writes its times in GMT+7


class GatewayError(errors.GatewayError):
    """Midtrans refused or could not be reached; the message is safe to log, not to show to buyers."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class NotFound(GatewayError):
    """Midtrans knows no transaction by that order_id (yet: a Snap payment exists once the buyer picks a method)."""


class NotAllowed(GatewayError):
    """412: the transaction's status does not allow the change (a settled payment cancelled, a VA refunded)."""


@dataclass(frozen=True)
class SnapSession:
    token: str
    redirect_url: str


@dataclass(frozen=True)
class Status:
    """A transaction as Midtrans's status API tells it; money in whole rupiah."""

    order_id: str
    status: str  # transaction_status: pending, settlement, capture, deny, cancel, expire, failure, refund, …
    fraud_status: str
    payment_type: str
    transaction_id: str
    gross: int
    currency: str
    pay_code: str = ""  # the VA number, bill key or counter code the buyer pays to
    bank: str = ""  # the VA's bank, or the counter (indomaret, alfamart)
    qr_string: str = ""
    expires_at: datetime | None = None
    refunded: int = 0

    @property
    def paid(self) -> bool:
        return self.status == "settlement" or (self.status == "capture" and self.fraud_status == "accept")

    @property
    def failed(self) -> bool:
        return self.status in ("deny", "cancel", "expire", "failure")


def is_configured() -> bool:
    return bool(current_app.config.get("MIDTRANS_SERVER_KEY"))


def enabled_channels() -> list[str]:
    """MIDTRANS_METHODS (comma-separated Snap names), in that order, those the shop knows."""
    raw = current_app.config.get("MIDTRANS_METHODS") or ",".join(CHANNELS)
    return [name for name in (part.strip() for part in raw.split(",")) if name in CHANNELS]


def fee(kind: str, amount: int) -> int:
    """The fee Midtrans keeps for a payment of `kind` (its payment_type), from MIDTRANS_FEES: "qris=0.7%,
    bank_transfer=4000" — a percentage of the amount (rounded half up to whole rupiah) or a fixed sum."""
    for part in (current_app.config.get("MIDTRANS_FEES") or "").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip() != kind or not value.strip():
            continue
        value = value.strip()
        if value.endswith("%"):
            rate = Decimal(value[:-1])  # exact: "0.7" is 7/10, never a float
            return min(amount - 1, int((amount * rate / 100).quantize(Decimal(1), ROUND_HALF_UP)))
        return min(amount - 1, int(value))
    return 0


def _bases() -> tuple[str, str]:
    config = current_app.config
    production = bool(config.get("MIDTRANS_IS_PRODUCTION"))
    api = config.get("MIDTRANS_API_BASE") or ("https://api.midtrans.com" if production
                                              else "https://api.sandbox.midtrans.com")
    snap = config.get("MIDTRANS_SNAP_BASE") or ("https://app.midtrans.com" if production
                                                else "https://app.sandbox.midtrans.com")
    return api.rstrip("/"), snap.rstrip("/")


def _call(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        answer = requests.request(method, url, json=body, auth=(current_app.config["MIDTRANS_SERVER_KEY"], ""),
                                  headers={"Accept": "application/json"},
                                  timeout=current_app.config.get("MIDTRANS_TIMEOUT", 15))
    except requests.RequestException as error:
        raise GatewayError(f"Midtrans unreachable: {error}") from error
    try:
        data = answer.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    # The Core API may also answer HTTP 200 with the error in status_code (4xx, 5xx); 201 is pending and 407 an
    # expired transaction, both answers, not errors. Snap answers error_messages with the HTTP status.
    code, said = answer.status_code, str(data.get("status_code", ""))
    if code < 300 and said.isdigit() and int(said) >= 400 and int(said) != 407:
        code = int(said)
    if code >= 300:
        message = "; ".join(data.get("error_messages") or []) or str(data.get("status_message", answer.text[:200]))
        kind = {404: NotFound, 412: NotAllowed}.get(code, GatewayError)
        raise kind(f"Midtrans {code}: {message}", code)
    return data


def create_snap(payload: dict[str, Any]) -> SnapSession:
    _, snap = _bases()
    data = _call("POST", f"{snap}/snap/v1/transactions", payload)
    if not isinstance(data.get("token"), str) or not isinstance(data.get("redirect_url"), str):
        raise GatewayError("Midtrans Snap answered without a token")
    return SnapSession(data["token"], data["redirect_url"])


def _rupiah(value: Any) -> int:
    """"145000.00" → 145000; anything that is not whole rupiah is refused."""
    text = str(value)
    whole, _, cents = text.partition(".")
    if not whole.isdigit() or cents.strip("0"):
        raise GatewayError(f"not whole rupiah: {text!r}")
    return int(whole)


def parse_status(data: dict[str, Any]) -> Status:
    """A status body (from the status API or a notification) as a Status; GatewayError when it lacks a field."""
    try:
        kind = str(data.get("payment_type") or "")
        code, bank, qr = "", "", str(data.get("qr_string") or "")
        if data.get("va_numbers"):
            bank, code = str(data["va_numbers"][0]["bank"]), str(data["va_numbers"][0]["va_number"])
        elif data.get("permata_va_number"):
            bank, code = "permata", str(data["permata_va_number"])
        elif data.get("bill_key"):
            bank, code = "mandiri", f"{data.get('biller_code', '')} {data['bill_key']}".strip()
        elif data.get("payment_code"):
            bank, code = str(data.get("store") or ""), str(data["payment_code"])
        expiry = data.get("expiry_time")
        expires = datetime.strptime(str(expiry), "%Y-%m-%d %H:%M:%S").replace(tzinfo=WIB).astimezone(
            UTC) if expiry else None  # stored in UTC, as every time in the shop
        return Status(order_id=str(data["order_id"]), status=str(data["transaction_status"]),
                      fraud_status=str(data.get("fraud_status") or ""), payment_type=kind,
                      transaction_id=str(data.get("transaction_id") or ""), gross=_rupiah(data["gross_amount"]),
                      currency=str(data.get("currency") or "IDR"), pay_code=code[:255], bank=bank[:40],
                      qr_string=qr[:2000], expires_at=expires,
                      refunded=_rupiah(data["refund_amount"]) if data.get("refund_amount") else 0)
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise GatewayError(f"unreadable Midtrans status: {error!r}") from error


def status(order_id: str) -> Status:
    api, _ = _bases()
    return parse_status(_call("GET", f"{api}/v2/{requests.utils.quote(order_id, safe='')}/status"))


def cancel(order_id: str) -> None:
    """Expire a pending transaction (nothing was paid yet); NotFound when the buyer never picked a method."""
    api, _ = _bases()
    _call("POST", f"{api}/v2/{requests.utils.quote(order_id, safe='')}/expire")


def refund(order_id: str, *, amount: int, key: str, reason: str) -> str:
    """Refund online (card, GoPay, ShopeePay, QRIS); the same `key` refunds once. Returns Midtrans's refund id."""
    api, _ = _bases()
    data = _call("POST", f"{api}/v2/{requests.utils.quote(order_id, safe='')}/refund",
                 {"refund_key": key, "amount": amount, "reason": reason[:255]})
    return str(data.get("refund_chargeback_id") or data.get("refund_key") or key)


def signature_ok(body: dict[str, Any]) -> bool:
    """A notification's signature_key: SHA-512 of order_id + status_code + gross_amount + the server key."""
    given = body.get("signature_key")
    parts = [body.get("order_id"), body.get("status_code"), body.get("gross_amount")]
    if not isinstance(given, str) or not all(isinstance(part, str) for part in parts):
        return False
    expected = hashlib.sha512((
        "".join(str(part) for part in parts) + current_app.config["MIDTRANS_SERVER_KEY"]).encode()).hexdigest()
    return hmac.compare_digest(given, expected)
