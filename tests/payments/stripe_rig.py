"""A local Stripe for the tests, over real HTTP, for the real `stripe` library.

- **localstripe** (PyPI, GPL-3.0, test-only), a stateful Stripe emulator, serves the real API endpoints it
  has (PaymentIntents, charges, refunds, balance transactions) on a free loopback port, with its disk
  store turned off so nothing is left in /tmp.
- **A stand-in for the Checkout Session endpoints**, which localstripe lacks (`/v1/checkout/sessions` is
  404 there): create, retrieve and expire, added as routes on the same local server. It is a stand-in,
  not Stripe: it keeps sessions in a dict and honours `Idempotency-Key` the way Stripe documents it.
  "Paying" a session (`complete_checkout`) creates and confirms a real PaymentIntent on localstripe, so
  refunds and balance transactions run on the emulator.
- Events that localstripe never sends (`checkout.session.*`, `charge.refunded`) are built here and signed
  with the real scheme (`stripe.WebhookSignature`), as Stripe would sign them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import socket
import threading
import time
import warnings
from typing import Any

import stripe
from aiohttp import web

with warnings.catch_warnings():  # localstripe registers plain-function handlers, which aiohttp deprecates
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe import resources, server
    from localstripe.errors import UserError

API_KEY = "sk_test_karyabinaan"
WEBHOOK_SECRET = "whsec_test_karyabinaan"

# The emulator pickles its whole store to /tmp/localstripe.pickle on every write; keep it in memory.
resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CheckoutStandIn:
    """Checkout Sessions, kept in memory (see the module docstring)."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.base_url = ""

    def clear(self) -> None:
        self.sessions.clear()
        self.idempotent.clear()

    async def create(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        if key and key in self.idempotent:
            return server.json_response(self.idempotent[key])
        data = await server.get_post_data(request) or {}
        items = data.get("line_items") or []
        if isinstance(items, dict):
            items = [items[k] for k in sorted(items, key=int)]
        total = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
        currencies = {i["price_data"]["currency"] for i in items}
        if not items or len(currencies) != 1:
            raise UserError(400, "line_items with one currency are required")
        session_id = "cs_test_" + secrets.token_hex(12)
        session = {
            "id": session_id, "object": "checkout.session", "mode": data.get("mode", "payment"),
            "amount_total": total, "amount_subtotal": total, "currency": currencies.pop(),
            "status": "open", "payment_status": "unpaid", "payment_intent": None,
            "client_reference_id": data.get("client_reference_id"),
            "customer_email": data.get("customer_email"), "metadata": data.get("metadata") or {},
            "payment_intent_data": data.get("payment_intent_data") or {},
            "success_url": data.get("success_url"), "cancel_url": data.get("cancel_url"),
            "expires_at": int(data.get("expires_at") or time.time() + 86400), "created": int(time.time()),
            "livemode": False, "url": f"{self.base_url}/_checkout/pay/{session_id}",
        }
        self.sessions[session_id] = session
        if key:
            self.idempotent[key] = session
        return server.json_response(session)

    async def retrieve(self, request: web.Request) -> web.Response:
        return server.json_response(self._get(request.match_info["id"]))

    async def expire(self, request: web.Request) -> web.Response:
        session = self._get(request.match_info["id"])
        if session["status"] != "open":
            raise UserError(400, f"Only Checkout Sessions with a status of open can be expired; this one is "
                                 f"{session['status']}.")
        session["status"] = "expired"
        return server.json_response(session)

    def _get(self, session_id: str) -> dict[str, Any]:
        if session_id not in self.sessions:
            raise UserError(404, f"No such checkout.session: '{session_id}'")
        return self.sessions[session_id]

    def install(self, app: web.Application) -> None:
        app.router.add_post("/v1/checkout/sessions", self.create)
        app.router.add_get("/v1/checkout/sessions/{id}", self.retrieve)
        app.router.add_post("/v1/checkout/sessions/{id}/expire", self.expire)


class StripeRig:
    """The running emulator plus helpers for what a buyer and Stripe would do."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.api_base = f"http://127.0.0.1:{self.port}"
        self.checkout = CheckoutStandIn()
        self.checkout.base_url = self.api_base
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._events = itertools.count(1)
        self.client = stripe.StripeClient(API_KEY, base_addresses={"api": self.api_base}, max_network_retries=0)

    # -- lifecycle
    def start(self) -> StripeRig:
        self.checkout.install(server.app)
        threading.Thread(target=self._serve, name="stripe-rig", daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("the Stripe emulator did not start")
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(server.app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def reset(self) -> None:
        resources.store.clear()
        self.checkout.clear()

    # -- what a buyer does on the hosted page
    def complete_checkout(self, session_id: str, payment_method: str = "pm_card_visa") -> dict[str, Any]:
        """Pay the session with a real PaymentIntent on the emulator; returns the completed session."""
        session = self.checkout.sessions[session_id]
        metadata = (session.get("payment_intent_data") or {}).get("metadata") or session["metadata"]
        intent = self.client.v1.payment_intents.create(params={
            "amount": session["amount_total"], "currency": session["currency"], "payment_method": payment_method,
            "payment_method_types": ["card"], "confirm": True, "metadata": metadata})
        session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
        return dict(session)

    def intent_of(self, session_id: str) -> str:
        return self.checkout.sessions[session_id]["payment_intent"]

    # -- what Stripe sends
    def event(self, event_type: str, obj: dict[str, Any], created: int | None = None) -> dict[str, Any]:
        return {"id": f"evt_test_{next(self._events):06d}{secrets.token_hex(4)}", "object": "event",
                "type": event_type, "created": created or int(time.time()), "livemode": False,
                "api_version": "2025-01-27.acacia", "data": {"object": obj}}

    def completed_event(self, session_id: str) -> dict[str, Any]:
        return self.event("checkout.session.completed", dict(self.checkout.sessions[session_id]))

    def expired_event(self, session_id: str) -> dict[str, Any]:
        session = dict(self.checkout.sessions[session_id])
        session["status"] = "expired"
        return self.event("checkout.session.expired", session)

    def charge_refunded_event(self, payment_intent_id: str) -> dict[str, Any]:
        intent = self.client.v1.payment_intents.retrieve(payment_intent_id, params={"expand": ["latest_charge"]})
        charge = intent.to_dict()["latest_charge"]
        charge = self.client.v1.charges.retrieve(charge["id"] if isinstance(charge, dict) else charge).to_dict()
        return self.event("charge.refunded", charge)

    def payment_failed_event(self, session_id: str) -> dict[str, Any]:
        session = self.checkout.sessions[session_id]
        return self.event("payment_intent.payment_failed", {
            "id": "pi_failed_" + secrets.token_hex(6), "object": "payment_intent", "status": "requires_payment_method",
            "amount": session["amount_total"], "currency": session["currency"],
            "metadata": (session.get("payment_intent_data") or {}).get("metadata") or session["metadata"],
            "last_payment_error": {"message": "Your card was declined.", "code": "card_declined"}})

    @staticmethod
    def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET, timestamp: int | None = None
               ) -> tuple[bytes, dict[str, str]]:
        """The body and headers Stripe would post for this event."""
        payload = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
        return payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}
