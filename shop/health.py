"""`/healthz`: answers 200 when the app can reach its database (for load balancers and the benchmarks)."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from shop.extensions import db

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    db.session.execute(text("SELECT 1"))
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
