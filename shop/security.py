"""HTTP hardening on every response: a Content-Security-Policy without inline scripts, no framing, no MIME
sniffing, a strict referrer policy, and HSTS when the shop runs behind HTTPS (SESSION_COOKIE_SECURE)."""

from __future__ import annotations

from flask import Flask, Response, abort, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",  # no inline scripts: JSON data blocks are not executed, the rest is in static/
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",  # staff pages must never be framed (clickjacking)
])


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    return response


def refuse_nul_characters() -> None:
    """No text a person types holds a NUL character, and PostgreSQL cannot store one: a request with one in its
    path, query or form is refused whole (400) before any view reads it."""
    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                     for source in (request.args, request.form)
                                     for key, value in source.items(multi=True)):
        abort(400)


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.after_request(add_security_headers)
    if app.config.get("SESSION_COOKIE_SECURE"):
        @app.after_request
        def _hsts(response: Response) -> Response:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            return response
