"""Payments: Stripe Checkout (card) and bank transfer confirmed by staff; refunds; Stripe webhooks."""

from __future__ import annotations

from flask import Blueprint

payments = Blueprint("payments", __name__)
