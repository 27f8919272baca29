"""The Stripe webhook and Midtrans notification endpoints: verify the signature, apply each once, answer fast."""

from __future__ import annotations

import logging

from flask import request
from werkzeug.wrappers import Response

from shop import metrics
from shop.extensions import csrf, db
from shop.outbox import service as outbox
from shop.payments import midtrans_gateway, online, payments, service
from shop.payments import stripe_gateway as gateway

log = logging.getLogger(__name__)


@payments.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook() -> Response:
    try:
        event = gateway.parse_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except gateway.InvalidWebhook as error:
        log.warning("refused Stripe webhook: %s", error)
        metrics.WEBHOOKS.labels("stripe", "invalid").inc()
        return Response("invalid signature\n", status=400, mimetype="text/plain")
    try:
        outcome = service.handle_stripe_event(event)
        db.session.commit()
        outbox.deliver_after_commit()  # the buyer's "paid" or "refunded" mail
    except service.DuplicateEvent:
        db.session.rollback()
        outcome = service.WebhookOutcome(event["id"], "duplicate", duplicate=True)
    except service.MalformedEvent as error:
        db.session.rollback()
        log.error("refused malformed Stripe event: %s", error)
        metrics.WEBHOOKS.labels("stripe", "malformed").inc()
        return Response("malformed event\n", status=400, mimetype="text/plain")
    except Exception:
        db.session.rollback()  # nothing of this event is kept: Stripe's retry will be handled afresh
        metrics.WEBHOOKS.labels("stripe", "error").inc()
        raise
    metrics.WEBHOOKS.labels("stripe", "duplicate" if outcome.duplicate else "ok").inc()
    log.info("Stripe event %s %s: %s", event["id"], event["type"], outcome.outcome)
    return Response(f"{outcome.outcome}\n", status=200, mimetype="text/plain")


@payments.post("/midtrans/notification")
@csrf.exempt
def midtrans_notification() -> Response:
    """Midtrans's HTTP notification. A wrong signature gets 403 and a body that is not a notification 400, with
    nothing written; an unknown order_id 200 (logged). Only the status API is believed (shop.payments.online). If
    Midtrans cannot be asked now, the answer is still 200: the scheduled sync reads the status again shortly."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(isinstance(body.get(key), str) and body.get(key) for key in (
            "order_id", "status_code", "gross_amount", "signature_key")):
        metrics.WEBHOOKS.labels("midtrans", "malformed").inc()
        return Response("malformed notification\n", status=400, mimetype="text/plain")
    if not midtrans_gateway.is_configured():
        return Response("Midtrans is not configured\n", status=403, mimetype="text/plain")
    try:
        outcome = online.handle_notification(body)
        db.session.commit()
        outbox.deliver_after_commit()  # the buyer's "paid" or "refunded" mail
    except online.InvalidNotification:
        db.session.rollback()
        log.warning("refused a Midtrans notification with a wrong signature for %r", body["order_id"][:80])
        metrics.WEBHOOKS.labels("midtrans", "invalid").inc()
        return Response("invalid signature\n", status=403, mimetype="text/plain")
    except midtrans_gateway.GatewayError as error:
        db.session.rollback()
        log.error("Midtrans notification for %r: the status could not be read: %s", body["order_id"][:80], error)
        outcome = "status unavailable; the scheduled sync reads it again"
        metrics.WEBHOOKS.labels("midtrans", "error").inc()
    except Exception:
        db.session.rollback()
        metrics.WEBHOOKS.labels("midtrans", "error").inc()
        raise
    else:
        metrics.WEBHOOKS.labels("midtrans", "ok").inc()
    log.info("Midtrans notification %s: %s", body["order_id"][:80], outcome)
    return Response(f"{outcome}\n", status=200, mimetype="text/plain")
