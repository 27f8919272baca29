"""The audit log: who changed what, when, before and after. Append-only; admins read it."""

from __future__ import annotations

from flask import Blueprint

audit = Blueprint("audit", __name__)
