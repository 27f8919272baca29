"""Static files with their content's hash in the URL (`/static/css/shop.css?v=1a2b3c4d`): a browser keeps them
for a year (`immutable`), and a changed file gets a new URL, so nobody is served a stale stylesheet."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

YEAR = 365 * 24 * 3600


@lru_cache(maxsize=512)
def _digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def content_hash(static_folder: str, filename: str) -> str | None:
    path = Path(static_folder) / filename
    try:
        return _digest(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None


def init_app(app: Flask) -> None:
    folder = app.static_folder or ""
    versions: dict[str, str | None] = {}

    def version_of(filename: str) -> str | None:
        """A file's version, read once per process (a deploy restarts the workers; in debug mode, on every use,
        so an edited stylesheet shows at once)."""
        if app.debug:
            return content_hash(folder, filename)
        if filename not in versions:
            versions[filename] = content_hash(folder, filename)
        return versions[filename]

    @app.url_defaults
    def _version_static_urls(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = version_of(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _cache_versioned_static_files(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args.get("v") == version_of(filename):
                response.cache_control.max_age = YEAR
                response.cache_control.public = True
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
            else:
                response.cache_control.no_cache = True
        return response
