"""Optional customer accounts: register, log in, past orders, a saved address. Guests need none."""

from __future__ import annotations

from flask import Blueprint

customers = Blueprint("customers", __name__)
