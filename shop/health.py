"""`/healthz`: 200 when the app can reach its database, 503 while it cannot (for load balancers, which then
send buyers elsewhere, and for the benchmarks)."""

from __future__ import annotations

import logging

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shop.extensions import db

health = Blueprint("health", __name__)


HEADERS = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@health.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        logging.getLogger(__name__).error("health check: the database does not answer: %s", error)
        return "database unavailable\n", 503, HEADERS
    return "ok\n", 200, HEADERS
