"""Small request helpers shared by the blueprints."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import segno
from flask import current_app, flash, request, url_for
from markupsafe import Markup
from werkzeug.routing import IntegerConverter

from shop.extensions import db
from shop.i18n import current_language

T = TypeVar("T")

ID_MAX = 2**31 - 1  # the largest INTEGER in PostgreSQL: no key, count, price or weight column holds more
AMOUNT_MAX = 2**31 - 1  # rupiah: the money columns are INTEGER (Rp2.147.483.647 at most in one amount)


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in routes: an id past any key the database can hold is a 404, not an overflow in the driver."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def safe_next(target: str | None, default: str = "/") -> str:
    """Follow a `next=` target only when it is a path on this site: no scheme, no host."""
    if not target:
        return default
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def whole_number(value: Any, *, maximum: int = ID_MAX, negative: bool = False,
                 thousands: bool = False) -> int | None:
    """A whole number typed by a person, or None: ASCII digits only ("²" and "٣" are digits to `str.isdigit`
    but not to `int`), at most `maximum` in size, negative only when allowed. With `thousands`, an amount as
    Indonesians write it: "125.000", "Rp35.000", "Rp 35.000,-" and "Rp35.000,00" are all 35000 or 125000."""
    text = str(value if value is not None else "").strip()
    if thousands:
        text = re.sub(r"^rp\.?\s*", "", text, flags=re.IGNORECASE)
        text = re.sub(r",(-|00?)$", "", text).replace(".", "").replace(" ", "")
    if not re.fullmatch(r"-?[0-9]{1,18}" if negative else r"[0-9]{1,18}", text):
        return None
    number = int(text)
    return number if abs(number) <= maximum else None


FIRST_YEAR, LAST_YEAR = 2000, 2099  # the years a date typed into the shop may name (sales, deposits, filters)


def parse_day(value: str | None) -> date | None:
    """An ISO date (2026-10-31) from a form or query, or None: malformed, impossible (02-30) or outside
    FIRST_YEAR..LAST_YEAR, where day and month arithmetic would run off the calendar."""
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def positive_int(value: str | None, default: int | None = None) -> int | None:
    """A whole number from 1 to ID_MAX (an id, a page, a year) from a query string, or `default` when it is
    missing, malformed or out of range."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if 1 <= number <= ID_MAX else default


def non_negative_int(value: str | None) -> int | None:
    try:
        number = int(str(value).strip().replace(".", "").replace(",", ""))
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= AMOUNT_MAX else None


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute address on the shop's public site, always from the configured `SHOP_URL`, never from the
    request's Host or X-Forwarded-Host: a page kept for every visitor, or a mail, must not carry a host an
    attacker sent (Host header poisoning)."""
    return current_app.config["SHOP_URL"].rstrip("/") + url_for(endpoint, **values)


def whatsapp_link(text: str = "") -> str:
    """A wa.me link to the shop's WhatsApp number (SHOP_WHATSAPP), with a message the buyer can still edit."""
    number = current_app.config["SHOP_CONTACT"]["whatsapp"]
    return f"https://wa.me/{number}" + (f"?text={quote(text)}" if text else "")


def per_language(name: str, render: Callable[[], Any]) -> Markup:
    """A piece of every page that depends only on the settings and the reader's language (the footer, the main
    menu): rendered once per language and process, outside debug mode, instead of on every request."""
    if current_app.debug:
        return Markup(render())
    kept: dict[tuple[str, str], Markup] = current_app.extensions.setdefault("kb_per_language", {})
    key = (name, current_language())
    found = kept.get(key)
    if found is None:
        found = kept[key] = Markup(render())
    return found


def query_args(*drop: str, **overrides: Any) -> dict[str, Any]:
    """This request's query parameters, for a link to the same list with other options (a page, an export):
    without the names `url_for` keeps for itself (`endpoint`, `_external`, `_scheme` …), without the path's own
    arguments and `drop`, then with `overrides`. A visitor's query string can neither break the link nor point
    it elsewhere."""
    reserved = {"endpoint", *drop, *(request.view_args or {})}
    args: dict[str, Any] = {key: value for key, value in request.args.items()
                            if not key.startswith("_") and key not in reserved}
    args.update(overrides)
    return args


def column_limit(column: Any) -> int:
    """The most characters a VARCHAR column holds (PostgreSQL refuses more; SQLite would keep it)."""
    return int(column.property.columns[0].type.length)


def commit_or_refuse(work: Callable[[], T], refused: Mapping[type[Exception], Callable[[Exception], object]],
                     done: object = None) -> T | None:
    """A staff or buyer request's one transaction: run `work` (service calls, which flush, never commit). When it
    raises one of the `refused` exceptions (the first listed class that matches), roll everything back, flash what
    `refused` says of it (a translated text) and return None; otherwise commit, flash `done` if given, and return
    what `work` returned."""
    try:
        result = work()
    except tuple(refused) as error:
        db.session.rollback()
        say = next(message for kind, message in refused.items() if isinstance(error, kind))
        flash(str(say(error)), "error")
        return None
    db.session.commit()
    if done is not None:
        flash(str(done), "success")
    return result


def problem(table: Mapping[str, object]) -> Callable[[Exception], object]:
    """For `commit_or_refuse`: the message a table of problem keys gives for an error whose text is its key."""
    return lambda error: table[str(error)]


def qr_svg(text: str, scale: int = 4, border: int = 3, title: str | None = None) -> Markup:
    """Text drawn as a QR code in inline SVG (no image from elsewhere, no script): a QRIS code to pay, an order
    number for the courier's scanner."""
    return Markup(segno.make(text, error="m", micro=False).svg_inline(scale=scale, border=border, title=title))
