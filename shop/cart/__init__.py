"""The session cart."""

from __future__ import annotations

from flask import Blueprint

cart = Blueprint("cart", __name__)
