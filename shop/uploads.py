"""Private documents (transfer receipts, certificate scans): type read from the content, size-limited,
stored outside the public media folder and served only to staff."""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import current_app, send_from_directory
from werkzeug.wrappers import Response

# Magic numbers of the accepted document types; the file name and the browser's claimed type are ignored.
SIGNATURES = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


class DocumentRejected(ValueError):
    """`reason` is "empty", "too_large" or "type"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def document_type(data: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if data.startswith(magic)), None)


def private_root() -> Path:
    return Path(current_app.config["PRIVATE_UPLOAD_FOLDER"])


def save_private_document(data: bytes, folder: str) -> str:
    """Store the bytes under PRIVATE_UPLOAD_FOLDER/<folder>/; returns the path relative to that root."""
    if not data:
        raise DocumentRejected("empty")
    if len(data) > current_app.config["MAX_DOCUMENT_BYTES"]:
        raise DocumentRejected("too_large")
    kind = document_type(data)
    if kind is None:
        raise DocumentRejected("type")
    target = private_root() / folder
    target.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.{kind}"
    (target / name).write_bytes(data)
    return f"{folder}/{name}"


def send_private_document(name: str) -> Response:
    """A receipt or scan for staff: downloaded, never rendered as a page (a file that is secretly HTML or a
    script cannot run in the shop's origin), and never cached."""
    response = send_from_directory(private_root(), name, max_age=0, as_attachment=True)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
