"""Fixtures for payments: the local Stripe rig, and the app pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.payments.stripe_rig import API_KEY, WEBHOOK_SECRET, StripeRig


@pytest.fixture(scope="session")
def _stripe_rig_server() -> Iterator[StripeRig]:
    rig = StripeRig().start()
    yield rig
    rig.stop()


@pytest.fixture
def stripe_rig(app: Flask, _stripe_rig_server: StripeRig) -> Iterator[StripeRig]:
    """The emulator, emptied, with the app's Stripe settings pointed at it for this test."""
    _stripe_rig_server.reset()
    saved = {key: app.config.get(key) for key in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE",
                                                   "STRIPE_NETWORK_RETRIES", "STRIPE_TIMEOUT")}
    app.config.update(STRIPE_SECRET_KEY=API_KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                      STRIPE_API_BASE=_stripe_rig_server.api_base, STRIPE_NETWORK_RETRIES=0)
    yield _stripe_rig_server
    app.config.update(saved)
