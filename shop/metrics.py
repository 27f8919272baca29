"""Prometheus metrics (#30) at `/metrics`, guarded by METRICS_TOKEN (unset: 404; set: only `Authorization: Bearer
<token>` gets them).

Counters and histograms are kept by `prometheus_client`. Under gunicorn, set PROMETHEUS_MULTIPROC_DIR (an empty
folder the workers share; `gunicorn.conf.py` empties it at start and marks dead workers), so each worker writes its
values to files there and `/metrics` adds them up across workers. Without it, one process keeps its own.

What the database knows (mail waiting in the outbox, products sold out, the job queue's length) is read when
Prometheus scrapes, by collectors the layers that own those tables register here (`register_gauge`)."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

from shop.extensions import db

REQUESTS = Counter("kb_http_requests_total", "HTTP requests answered, by route (endpoint), method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("kb_http_request_duration_seconds", "Time to answer a request, by route (endpoint)", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
ORDERS = Counter("kb_orders_placed_total", "Orders placed")
PAYMENTS = Counter("kb_payments_total", "Payments reaching an outcome, by provider, method and outcome",
                   ["provider", "method", "outcome"])
WEBHOOKS = Counter("kb_webhooks_total", "Payment webhooks and notifications received, by provider and outcome "
                   "(ok, duplicate, invalid, malformed, error)", ["provider", "outcome"])
MAIL = Counter("kb_mail_attempts_total", "Mail delivery attempts from the outbox, by result (sent, retry, failed)",
               ["result"])
CACHE = Counter("kb_cache_requests_total", "Kept catalog pages asked for, by kind (page, shared) and outcome "
                "(hit, miss)", ["kind", "outcome"])
DIRECT_SALES = Counter("kb_direct_sales_total", "Direct sales recorded at galleries and exhibitions")

GAUGES: dict[str, tuple[str, Callable[[], Iterable[tuple[dict[str, str], float]]]]] = {}


def register_gauge(name: str, documentation: str, read: Callable[[], Iterable[tuple[dict[str, str], float]]]) -> None:
    """A value read from the database (or Redis) when Prometheus scrapes: `read` gives (labels, value) pairs."""
    GAUGES[name] = (documentation, read)


class DatabaseGauges(Collector):
    def collect(self) -> Iterable[GaugeMetricFamily]:
        for name, (documentation, read) in sorted(GAUGES.items()):
            try:
                values = list(read())
            except Exception:  # noqa: BLE001 - a scrape never fails for one gauge: it is left out, and said
                current_app.logger.warning("metric %s could not be read", name, exc_info=True)
                continue
            labels = sorted({key for found, _value in values for key in found})
            family = GaugeMetricFamily(name, documentation, labels=labels)
            for found, value in values:
                family.add_metric([found.get(key, "") for key in labels], value)
            yield family


def on_commit(counter: Any, *labels: str) -> None:
    """Count when the transaction commits: work rolled back (and then retried) is not counted twice."""
    db.session.info.setdefault("metrics", []).append((counter, labels))


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for counter, labels in session.info.pop("metrics", []):
        (counter.labels(*labels) if labels else counter).inc()


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop("metrics", None)


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition(gauges: bool = True) -> bytes:
    """Every worker's counters (or this process's), and, with `gauges`, what the database says now."""
    registry = CollectorRegistry()
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        for collector in list(REGISTRY._collector_to_names):  # noqa: SLF001 - the process's own metrics
            registry.register(collector)
    if gauges:
        registry.register(DatabaseGauges())
    return generate_latest(registry)


def counters_exposition() -> bytes:
    """The counters only (no database gauges): what the system page reads."""
    return exposition(gauges=False)


def metrics_view() -> Response:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        abort(404)
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return Response("a bearer token is needed\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(exposition(), mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _begin() -> None:
    g.metrics_started = time.perf_counter()


METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _finish(response: Any) -> Any:
    route = request.endpoint or "unmatched"
    if route != "metrics":
        # Labels only from fixed sets: a client's made-up method must not make a series of its own.
        method = request.method if request.method in METHODS else "OTHER"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            LATENCY.labels(route).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/metrics", endpoint="metrics", view_func=metrics_view)
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)
