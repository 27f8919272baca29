"""The Stripe webhook endpoint: verify the signature, apply each event once, answer fast."""

from __future__ import annotations

import logging

from flask import request
from werkzeug.wrappers import Response

from shop.extensions import csrf, db
from shop.outbox import service as outbox
from shop.payments import payments, service
from shop.payments import stripe_gateway as gateway

log = logging.getLogger(__name__)


@payments.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook() -> Response:
    try:
        event = gateway.parse_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except gateway.InvalidWebhook as error:
        log.warning("refused Stripe webhook: %s", error)
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
        return Response("malformed event\n", status=400, mimetype="text/plain")
    except Exception:
        db.session.rollback()  # nothing of this event is kept: Stripe's retry will be handled afresh
        raise
    log.info("Stripe event %s %s: %s", event["id"], event["type"], outcome.outcome)
    return Response(f"{outcome.outcome}\n", status=200, mimetype="text/plain")
