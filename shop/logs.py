"""Request ids and the shop's logs (#30).

Every request gets an id: the `X-Request-ID` a trusted proxy sent (TRUSTED_PROXIES), or a new one. It is echoed in
the response, carried by every log line written while the request runs, and handed to the jobs the request
enqueues (their log lines carry it too). `LOG_FORMAT=json` writes one JSON object per line to stderr: time, level,
logger, message, request id, route, status, duration and the staff user's id; the default stays readable text.
Nothing a person typed is put in a log line here: no form fields, query strings, addresses, passwords or tokens."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_job_request_id: ContextVar[str | None] = ContextVar("job_request_id", default=None)  # inside a job
log = logging.getLogger("shop.requests")


def request_id() -> str | None:
    """This request's id (or, inside a job, the id of the request that enqueued it)."""
    if has_request_context():
        return g.get("request_id")
    return _job_request_id.get()


def run_with_request_id(value: str | None, work: Any) -> Any:
    """Run `work()` with the log lines carrying `value`: a job enqueued by a request."""
    token = _job_request_id.set(value)
    try:
        return work()
    finally:
        _job_request_id.reset(token)


class RequestFields(logging.Filter):
    """Adds the request id, route and staff user's id to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id() or ""
        record.route = (request.endpoint or "") if has_request_context() else ""
        record.user_id = _staff_user_id()
        return True


def _staff_user_id() -> int | None:
    if not has_request_context():
        return None
    user = g.get("_login_user")  # only a user the request already loaded: a log line never queries
    return getattr(user, "id", None) if getattr(user, "is_staff", False) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or None, "route": getattr(record, "route", "") or None,
            "user_id": getattr(record, "user_id", None)}
        for name in ("status", "duration_ms", "method"):
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _begin() -> None:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    trusted = current_app.config["TRUSTED_PROXIES"] > 0 and _VALID_ID.fullmatch(sent)
    g.request_id = sent if trusted else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or ""
    if current_app.config["LOG_FORMAT"] == "json":  # one line per request (text keeps the server's access log)
        started = g.get("request_started")
        log.info("%s %s", request.method, request.url_rule.rule if request.url_rule else "(no route)",
                 extra={"status": response.status_code, "method": request.method,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None})
    return response


def init_app(app: Flask) -> None:
    """Request ids for every request; with LOG_FORMAT=json, the root logger writes JSON lines to stderr."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)  # before the kept pages are served
    app.after_request(_finish)
    if app.config["LOG_FORMAT"] != "json":  # text: Flask's own handler, each line with its request id
        for handler in app.logger.handlers:
            handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s [%(request_id)s] in %(module)s: "
                                                   "%(message)s"))
            if not any(isinstance(f, RequestFields) for f in handler.filters):
                handler.addFilter(RequestFields())
        return
    if app.config["LOG_FORMAT"] == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestFields())
        root = logging.getLogger()
        root.handlers = [h for h in root.handlers if not isinstance(h.formatter, JsonFormatter)] + [handler]
        root.setLevel(logging.INFO)
        app.logger.handlers.clear()  # Flask's own text handler: the root's JSON one writes its lines
        app.logger.propagate = True
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the JSON request line replaces its access log
