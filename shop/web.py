"""Small request helpers shared by the blueprints."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str = "/") -> str:
    """Follow a `next=` target only when it is a path on this site: no scheme, no host."""
    if not target:
        return default
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def positive_int(value: str | None, default: int | None = None) -> int | None:
    """A whole number >= 1 from a query string, or `default` when it is missing or malformed."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if number >= 1 else default


def non_negative_int(value: str | None) -> int | None:
    try:
        number = int(str(value).strip().replace(".", "").replace(",", ""))
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None
