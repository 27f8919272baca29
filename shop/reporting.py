"""Error reports (#30): with SENTRY_DSN set, unhandled errors of requests and of jobs go to Sentry (or any server
that speaks its protocol) through `sentry-sdk` with its Flask and RQ integrations. No personal data: the SDK's
`send_default_pii` stays off (its default), request bodies and cookies are never sent, and e-mail addresses and
phone numbers that an error message or a breadcrumb may hold are scrubbed. The release is the shop's package version."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import sentry_sdk
from flask import Flask
from sentry_sdk.integrations.flask import FlaskIntegration
from sentry_sdk.integrations.rq import RqIntegration

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[A-Za-z][\w-]*)+")
PHONE = re.compile(r"(?:\+?62|\b0)[\s-]?\(?8[\d\s)-]{7,15}\d")
PARAMETERS = re.compile(r"\[parameters: .*?\](?=\s*(\(Background|$))", re.S)  # a database error's row values
TOKEN = re.compile(r"/[A-Za-z0-9_.~-]{16,}")  # a long path segment: a reset, verification or receipt token
SECRET_HEADERS = {"authorization", "cookie", "x-csrftoken", "stripe-signature", "x-sentry-auth", "referer",
                  "x-forwarded-for", "x-real-ip", "forwarded"}


def release() -> str:
    try:
        return f"karya-binaan@{version('karya-binaan')}"
    except PackageNotFoundError:
        return "karya-binaan@unknown"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return PHONE.sub("[phone]", EMAIL.sub("[email]", PARAMETERS.sub("[parameters: scrubbed]", value)))
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def scrub(event: Any, _hint: Any = None) -> Any:
    """What leaves the shop: no body, cookies, query string, user or secret headers; addresses scrubbed anywhere."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            request["url"] = TOKEN.sub("/[token]", request["url"])
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {name: value for name, value in headers.items()
                                  if name.lower() not in SECRET_HEADERS}
    event.pop("user", None)
    kept = {key: event.pop(key) for key in ("release", "sdk", "event_id") if key in event}  # ours, never personal
    return {**_scrub(event), **kept}


def _scrub_crumb(crumb: Any, _hint: Any) -> Any:
    data = crumb.get("data") if isinstance(crumb, dict) else None
    if isinstance(data, dict) and isinstance(data.get("url"), str):
        data["url"] = TOKEN.sub("/[token]", data["url"].split("?", 1)[0])
    return _scrub(crumb)


def init_app(app: Flask) -> None:
    dsn = app.config.get("SENTRY_DSN") or ""
    if not dsn:
        return
    # send_default_pii stays at its default, off (newer SDKs warn when it is passed at all)
    # No frame locals (a form dict, a buyer's address); no request body.
    sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration(), RqIntegration()], max_request_body_size="never",
                    include_local_variables=False,
                    release=release(),
                    environment=app.config.get("SENTRY_ENVIRONMENT") or "production",
                    before_send=scrub, before_breadcrumb=_scrub_crumb,
                    traces_sample_rate=0)
