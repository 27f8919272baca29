"""Checkout: the buyer's details, Indonesian address, courier and shipping price."""

from __future__ import annotations

from flask import Blueprint

checkout = Blueprint("checkout", __name__)
