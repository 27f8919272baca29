"""The revenue split and its ledger: split rules, ledger entries, and the finance screens that read them."""

from __future__ import annotations

from flask import Blueprint

ledger = Blueprint("ledger", __name__)
