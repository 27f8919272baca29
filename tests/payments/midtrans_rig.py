"""A local Midtrans for the tests, over real HTTP: a stand-in written from Midtrans's public documentation
(docs.midtrans.com: Snap API, Core API transaction status / cancel / expire / refund, HTTP notifications).

It is a stand-in, not Midtrans. It keeps its transactions in memory and does what the documentation says the
shop can rely on:

- `POST /snap/v1/transactions` (Basic auth with the server key): 201 `{token, redirect_url}`; 401 for a wrong
  key; 400 for an order_id already used, a gross_amount that is not a positive whole number, or item_details
  that do not sum to it.
- The Snap page at `redirect_url`: the buyer picks one of `enabled_payments`, gets a QR string, a virtual account
  number or a payment code (the transaction is `pending` from then on, and Midtrans notifies), and "pays" it
  (`settlement`); then the browser goes to `callbacks.finish` with `order_id`, `status_code` and
  `transaction_status`. Until a method is picked, the status API answers 404, as Midtrans does.
- `GET /v2/{order_id}/status`; `POST /v2/{order_id}/cancel` and `/expire` (only while `pending`, else 412);
  `POST /v2/{order_id}/refund` with `refund_key`, `amount`, `reason` (only for card, GoPay, ShopeePay and QRIS
  payments that settled, else 412; an amount beyond what is left 414; a repeated `refund_key` answers as the first
  time: Midtrans's pages differ on this, one calls it a safe retry, another answers 406, and the shop never sends
  a key twice for two refunds). `{order_id}` may also be Midtrans's transaction_id.
- HTTP notifications: the status body plus `signature_key` = SHA-512(order_id + status_code + gross_amount +
  server key), POSTed to `notification_url` from a background thread after each change, as Midtrans sends
  them after the fact; `wait_notified()` waits for them, `notify()` sends one again (a retry or a replay).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import queue
import secrets
import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from flask import Flask, jsonify, redirect, request
from markupsafe import escape
from werkzeug.serving import make_server

SERVER_KEY = "SB-Mid-server-karyabinaan-test"
CLIENT_KEY = "SB-Mid-client-karyabinaan-test"
WIB = timezone(timedelta(hours=7))
ONLINE_REFUNDS = {"credit_card", "gopay", "shopeepay", "qris"}
VA_BANKS = {"bca_va": "bca", "bni_va": "bni", "bri_va": "bri", "cimb_va": "cimb"}
STATUS_CODES = {"pending": "201", "settlement": "200", "capture": "200", "deny": "202", "cancel": "200",
                "expire": "407", "failure": "202", "refund": "200", "partial_refund": "200"}


def amount_text(amount: int) -> str:
    return f"{amount}.00"


def signature(order_id: str, status_code: str, gross_amount: str, server_key: str = SERVER_KEY) -> str:
    return hashlib.sha512(f"{order_id}{status_code}{gross_amount}{server_key}".encode()).hexdigest()


def _now_text() -> str:
    return datetime.now(WIB).strftime("%Y-%m-%d %H:%M:%S")


class MidtransStandIn:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.transactions: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}
        self.refund_keys: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, JSON body): what the shop sent
        self.notification_url = ""
        self.sent: list[dict[str, Any]] = []  # notifications delivered, with the shop's answer code
        self.auto_notify = True
        self._outbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._ids = itertools.count(1)
        self.base_url = ""
        self.app = self._routes()

    # -- the rig's own controls, for tests

    def clear(self) -> None:
        self.wait_notified()
        with self.lock:
            self.transactions.clear()
            self.tokens.clear()
            self.refund_keys.clear()
            self.requests.clear()
            self.sent.clear()
        self.auto_notify = True

    def choose(self, order_id: str, payment_type: str) -> dict[str, Any]:
        """The buyer picks a method on the Snap page: the transaction exists from now on, `pending`."""
        with self.lock:
            tx = self.transactions[order_id]
            if tx.get("transaction_status"):
                return tx
            if payment_type not in tx["enabled_payments"]:
                raise ValueError(f"{payment_type} is not enabled for {order_id}")
            tx.update(self._pending_fields(payment_type, tx))
            self._queue(tx)
            return tx

    def pay(self, order_id: str) -> dict[str, Any]:
        """The buyer pays what was chosen (scans the QR, transfers to the VA, pays at the counter)."""
        with self.lock:
            tx = self.transactions[order_id]
            if tx.get("transaction_status") != "pending":
                return tx
            tx["transaction_status"] = "settlement"
            tx["settlement_time"] = _now_text()
            self._queue(tx)
            return tx

    def set_status(self, order_id: str, status: str, **fields: Any) -> dict[str, Any]:
        """Midtrans changes the status on its own (an expiry, a denial, a refund in its dashboard)."""
        with self.lock:
            tx = self.transactions[order_id]
            tx["transaction_status"] = status
            tx.update(fields)
            self._queue(tx)
            return tx

    def body(self, order_id: str) -> dict[str, Any]:
        """The status body, signed as a notification."""
        with self.lock:
            status = self._status_body(self.transactions[order_id])
        status["signature_key"] = signature(status["order_id"], status["status_code"], status["gross_amount"])
        return status

    def notify(self, order_id: str, body: dict[str, Any] | None = None) -> requests.Response:
        """Send a notification now, in this thread (a retry, a replay, or a body the test made)."""
        answer = requests.post(self.notification_url, json=body or self.body(order_id), timeout=30)
        with self.lock:
            self.sent.append({"order_id": order_id, "code": answer.status_code})
        return answer

    def wait_notified(self, timeout: float = 30) -> None:
        """Wait until every notification queued so far was delivered."""
        done = threading.Event()
        self._outbox.put({"_done": done})
        if not done.wait(timeout):
            raise TimeoutError("the stand-in's notifications did not go out")

    # -- internals

    def _queue(self, tx: dict[str, Any]) -> None:
        if self.auto_notify and self.notification_url:
            self._outbox.put({"order_id": tx["order_id"]})

    def _deliver(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            if "_done" in item:
                item["_done"].set()
                continue
            try:
                self.notify(item["order_id"])
            except requests.RequestException:
                with self.lock:
                    self.sent.append({"order_id": item["order_id"], "code": 0})

    def _pending_fields(self, payment_type: str, tx: dict[str, Any]) -> dict[str, Any]:
        number = f"{next(self._ids):012d}"
        fields: dict[str, Any] = {"transaction_status": "pending", "fraud_status": "accept",
                                  "transaction_id": str(uuid.uuid4()), "transaction_time": _now_text(),
                                  "expiry_time": tx["expiry_time"]}
        if payment_type in VA_BANKS:
            fields.update(payment_type="bank_transfer",
                          va_numbers=[{"bank": VA_BANKS[payment_type], "va_number": "8808" + number}])
        elif payment_type == "permata_va":
            fields.update(payment_type="bank_transfer", permata_va_number="8778" + number)
        elif payment_type == "echannel":
            fields.update(payment_type="echannel", bill_key=number, biller_code="70012")
        elif payment_type in ("indomaret", "alfamart"):
            fields.update(payment_type="cstore", store=payment_type, payment_code="KB" + number[-10:])
        elif payment_type in ("gopay", "shopeepay"):
            fields.update(payment_type=payment_type, actions=[{
                "name": "deeplink-redirect", "method": "GET", "url": f"{self.base_url}/deeplink/{tx['order_id']}"}])
        elif payment_type == "other_qris":
            fields.update(payment_type="qris", acquirer="gopay",
                          qr_string=f"00020101021226620014COM.GO-JEK.WWW0118{number}5204599953033605802ID6304ABCD")
        else:
            fields.update(payment_type=payment_type)
        return fields

    def _status_body(self, tx: dict[str, Any]) -> dict[str, Any]:
        keep = ("transaction_id", "transaction_time", "transaction_status", "payment_type", "fraud_status",
                "expiry_time", "settlement_time", "va_numbers", "permata_va_number", "bill_key", "biller_code",
                "store", "payment_code", "acquirer", "qr_string", "actions", "refunds", "refund_amount")
        status = tx["transaction_status"]
        body = {"status_code": STATUS_CODES.get(status, "200"), "status_message": "Success, transaction is found",
                "order_id": tx["order_id"], "gross_amount": amount_text(tx["gross_amount"]), "currency": "IDR",
                "merchant_id": "G000000001"}
        body.update({key: tx[key] for key in keep if key in tx})
        return body

    def _authorized(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{SERVER_KEY}:".encode()).decode()
        return request.headers.get("Authorization") == expected

    def _routes(self) -> Flask:  # noqa: C901 (one function: the whole API, read top to bottom)
        app = Flask("midtrans_stand_in")
        rig = self

        def core_error(code: int, message: str) -> Any:
            return jsonify({"status_code": str(code), "status_message": message, "id": str(uuid.uuid4())}), code

        @app.before_request
        def remember() -> None:
            rig.requests.append((request.method, request.path, request.get_json(silent=True)))

        @app.post("/snap/v1/transactions")
        def snap_create() -> Any:
            if not rig._authorized():
                return jsonify({"error_messages": [
                    "Access denied due to unauthorized transaction, please check client or server key",
                    "Visit https://snap-docs.midtrans.com/#request-headers for more details"]}), 401
            data = request.get_json(silent=True) or {}
            details = data.get("transaction_details") or {}
            order_id, gross = details.get("order_id"), details.get("gross_amount")
            errors = []
            if not isinstance(order_id, str) or not order_id or len(order_id) > 50:
                errors.append("transaction_details.order_id is required")
            if not isinstance(gross, int) or isinstance(gross, bool) or gross < 1:
                errors.append("transaction_details.gross_amount must be a whole number of at least 1")
            items = data.get("item_details")
            if items is not None and isinstance(gross, int) and sum(
                    int(item["price"]) * int(item["quantity"]) for item in items) != gross:
                errors.append("transaction_details.gross_amount is not equal to the sum of item_details")
            with rig.lock:
                if isinstance(order_id, str) and order_id in rig.transactions:
                    errors.append("transaction_details.order_id sudah digunakan")
                if errors:
                    return jsonify({"error_messages": errors}), 400
                expiry = data.get("expiry") or {}
                unit = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
                start = datetime.strptime(expiry["start_time"], "%Y-%m-%d %H:%M:%S %z") if expiry else \
                    datetime.now(WIB)
                ends = start + timedelta(seconds=int(expiry.get("duration", 24)) *
                                         unit[expiry.get("unit", "hours")])
                token = secrets.token_hex(18)
                rig.transactions[order_id] = {
                    "order_id": order_id, "gross_amount": gross, "token": token, "item_details": items or [],
                    "customer_details": data.get("customer_details") or {},
                    "enabled_payments": data.get("enabled_payments") or ["other_qris", "bca_va"],
                    "finish": (data.get("callbacks") or {}).get("finish", ""),
                    "expiry_time": ends.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S"),
                    "refunds": [], "refunded": 0}
                rig.tokens[token] = order_id
            return jsonify({"token": token, "redirect_url": f"{rig.base_url}/snap/v4/redirection/{token}"}), 201

        def transaction(order_id: str) -> dict[str, Any] | None:
            """By order_id or by Midtrans's transaction_id (the Core API takes either)."""
            tx = rig.transactions.get(order_id) or next(
                (t for t in rig.transactions.values() if t.get("transaction_id") == order_id), None)
            return tx if tx and tx.get("transaction_status") else None

        @app.get("/v2/<order_id>/status")
        def status(order_id: str) -> Any:
            if not rig._authorized():
                return core_error(401, "Unknown Merchant server_key/id")
            with rig.lock:
                tx = transaction(order_id)
                if tx is None:
                    return core_error(404, "Transaction doesn't exist.")
                return jsonify(rig._status_body(tx))

        def change(order_id: str, to: str) -> Any:
            if not rig._authorized():
                return core_error(401, "Unknown Merchant server_key/id")
            with rig.lock:
                tx = transaction(order_id)
                if tx is None:
                    return core_error(404, "Transaction doesn't exist.")
                if tx["transaction_status"] != "pending":
                    return core_error(412, "Merchant cannot modify the status of the transaction")
                tx["transaction_status"] = to
                rig._queue(tx)
                body = rig._status_body(tx)
                body["status_message"] = f"Success, transaction is {'canceled' if to == 'cancel' else 'expired'}"
                return jsonify(body)

        @app.post("/v2/<order_id>/cancel")
        def cancel(order_id: str) -> Any:
            return change(order_id, "cancel")

        @app.post("/v2/<order_id>/expire")
        def expire(order_id: str) -> Any:
            return change(order_id, "expire")

        @app.post("/v2/<order_id>/refund")
        def refund(order_id: str) -> Any:
            if not rig._authorized():
                return core_error(401, "Unknown Merchant server_key/id")
            data = request.get_json(silent=True) or {}
            key, amount = data.get("refund_key"), data.get("amount")
            with rig.lock:
                if key and key in rig.refund_keys:
                    return jsonify(rig.refund_keys[key])
                tx = transaction(order_id)
                if tx is None:
                    return core_error(404, "Transaction doesn't exist.")
                if tx["transaction_status"] not in ("settlement", "capture", "partial_refund") or \
                        tx["payment_type"] not in ONLINE_REFUNDS:
                    return core_error(412, "Merchant cannot modify the status of the transaction")
                left = tx["gross_amount"] - tx["refunded"]
                if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= left:
                    return core_error(414, "Refund request is rejected due to invalid amount")
                tx["refunded"] += amount
                refund_id = next(rig._ids)
                tx["refunds"].append({"refund_chargeback_id": refund_id, "refund_amount": amount_text(amount),
                                      "created_at": _now_text(), "reason": data.get("reason", ""),
                                      "refund_key": key or ""})
                tx["refund_amount"] = amount_text(tx["refunded"])
                tx["transaction_status"] = "refund" if tx["refunded"] == tx["gross_amount"] else "partial_refund"
                rig._queue(tx)
                answer = {**rig._status_body(tx), "status_message": "Success, refund request is approved",
                          "refund_chargeback_id": refund_id, "refund_amount": amount_text(amount),
                          "refund_key": key or ""}
                if key:
                    rig.refund_keys[key] = answer
                return jsonify(answer)

        @app.get("/snap/v4/redirection/<token>")
        def snap_page(token: str) -> Any:
            order_id = rig.tokens.get(token)
            if order_id is None:
                return "Transaksi tidak ditemukan", 404
            tx = rig.transactions[order_id]
            if not tx.get("transaction_status"):
                buttons = "".join(
                    f'<button name="payment_type" value="{escape(p)}">{escape(p)}</button>'
                    for p in tx["enabled_payments"])
                body = f'<form method="post" action="{token}/choose">{buttons}</form>'
            elif tx["transaction_status"] == "pending":
                code = tx.get("qr_string") or tx.get("permata_va_number") or tx.get("payment_code") or \
                    tx.get("bill_key") or (tx.get("va_numbers") or [{}])[0].get("va_number", "")
                body = (f'<p class="code">{escape(code)}</p><form method="post" action="{token}/pay">'
                        f'<button>Bayar (simulasi)</button></form>')
            else:
                body = f'<p class="status">{escape(tx["transaction_status"])}</p>'
            return (f'<!doctype html><meta name="viewport" content="width=device-width"><title>Midtrans (stand-in)'
                    f'</title><h1>Rp{tx["gross_amount"]:,}</h1><p>{escape(order_id)}</p>{body}'
                    f'<p><a class="finish" href="{escape(rig._finish_url(tx))}">Kembali ke toko</a></p>')

        @app.post("/snap/v4/redirection/<token>/choose")
        def snap_choose(token: str) -> Any:
            rig.choose(rig.tokens[token], request.form["payment_type"])
            return redirect(f"{rig.base_url}/snap/v4/redirection/{token}", 303)

        @app.post("/snap/v4/redirection/<token>/pay")
        def snap_pay(token: str) -> Any:
            tx = rig.pay(rig.tokens[token])
            return redirect(rig._finish_url(tx), 303)

        return app

    def _finish_url(self, tx: dict[str, Any]) -> str:
        status = tx.get("transaction_status") or "pending"
        separator = "&" if "?" in tx["finish"] else "?"
        return (f"{tx['finish']}{separator}order_id={tx['order_id']}&status_code={STATUS_CODES.get(status, '201')}"
                f"&transaction_status={status}")

    # -- serving

    def start(self) -> None:
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self._serving = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._serving.start()
        self._delivering = threading.Thread(target=self._deliver, daemon=True)
        self._delivering.start()

    def stop(self) -> None:
        self._outbox.put(None)
        self.server.shutdown()
        self._delivering.join(10)
