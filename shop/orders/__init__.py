"""Orders: placing, tracking, the state machine and stock reservation."""

from __future__ import annotations

from flask import Blueprint

orders = Blueprint("orders", __name__)
