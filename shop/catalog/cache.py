"""The catalog's cache: the filter options, and whole public pages for anonymous visitors, kept per catalog
*generation*. Any committed change to a product, its photos or certificates, a facility, region or category,
or a stock change that a page shows (sold out, "only N left") starts a new generation, so no page older than
the change is served again; CATALOG_CACHE_SECONDS bounds the rest (a certificate lapsing at midnight).

The cache is Flask-Caching: in-process by default (`scripts/start`), Redis with CACHE_REDIS_URL, which several
workers or servers need so that a change seen by one invalidates the pages of all. Nothing here decides what
may be bought: the checkout re-checks stock and certificates on every order."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from itertools import chain
from typing import Any

from flask import current_app, g, make_response, request, session
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

from shop.extensions import cache

GENERATION_KEY = "catalog:generation"
LOW_STOCK = 5  # pages say "only N left" at or below this: a change there is a change of the page
TOKEN_MARK = "\x1ecsrf-token\x1e"  # stands in a cached page for each visitor's own CSRF token


def enabled() -> bool:
    return current_app.config["CATALOG_CACHE_SECONDS"] > 0


def _unavailable(error: Exception) -> None:
    """A cache that is down (Redis restarting) makes pages slower, never broken: it is skipped, and logged."""
    current_app.logger.warning("catalog cache unavailable, rendering without it: %s", error)


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:  # never set, or evicted: start from a random number, never from one used before
        cache.add(GENERATION_KEY, secrets.randbelow(2**40), timeout=0)
        value = cache.get(GENERATION_KEY) or 0
    return int(value)


def bump() -> None:
    generation()
    cache.cache.inc(GENERATION_KEY)


# -- noticing changes: ORM writes to the watched models, and stock changes flagged by change_stock

def _watched() -> tuple[type, ...]:
    from shop.catalog.models import Category, Facility, Product, ProductImage, Region
    from shop.certification.models import Certification

    return Category, Facility, Product, ProductImage, Region, Certification


def note_change(session: Session) -> None:
    session.info["catalog_changed"] = True


def note_stock_change(session: Session, before: int, after: int) -> None:
    if min(before, after) <= LOW_STOCK:
        note_change(session)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, context: Any) -> None:
    watched = _watched()
    if any(isinstance(obj, watched) for obj in chain(session.new, session.dirty, session.deleted)):
        note_change(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("catalog_changed", False):
        try:
            bump()
        except Exception:  # noqa: BLE001 - a cache that is down must not fail a committed change
            current_app.logger.exception("the catalog cache could not be invalidated")


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("catalog_changed", None)


# -- cached values

@dataclass(frozen=True)
class Choice:
    """A category, region or facility as a filter control shows it."""

    slug: str
    name_id: str
    name_en: str = ""
    facilities: tuple[Choice, ...] = ()

    @property
    def name(self) -> str:
        from shop.i18n import localized

        return localized(self, "name")


def recall(name: str) -> Any:
    """The value kept under `name` in this generation, or None."""
    try:
        return cache.get(f"catalog:{generation()}:{name}") if enabled() else None
    except Exception as error:  # noqa: BLE001 - see _unavailable
        _unavailable(error)
        return None


def keep(name: str, value: Any) -> None:
    """Keep a plain value (never an ORM object) for this generation."""
    try:
        if enabled():
            cache.set(f"catalog:{generation()}:{name}", value, timeout=current_app.config["CATALOG_CACHE_SECONDS"])
    except Exception as error:  # noqa: BLE001 - see _unavailable
        _unavailable(error)


def remembered(name: str, build: Callable[[], Any]) -> Any:
    """`build()`'s value for this generation, built once."""
    value = recall(name)
    if value is None:
        value = build()
        keep(name, value)
    return value


# -- whole pages for anonymous visitors

def _page_key() -> str | None:
    """The cache key of this request's page, or None when it must be rendered for this visitor alone."""
    # Signed in, or about to be by a remember-me cookie: a page of one's own. (Read from the session and cookies
    # directly: asking Flask-Login would load the user, which is what a cached page saves.)
    if (not enabled() or not current_app.config["CATALOG_PAGE_CACHE"] or request.method != "GET"
            or "_flashes" in session or "_user_id" in session
            or current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies):
        return None
    from shop.cart.views import cart_count
    from shop.i18n import select_locale
    from shop.timeutil import today

    path = request.full_path if request.query_string else request.path
    return (f"page:{generation()}:{today().isoformat()}:{select_locale()}:{cart_count()['cart_count']}:"
            f"{hashlib.sha256(path.encode()).hexdigest()}")


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve the page from the cache when this visitor would see what every anonymous visitor sees, with an
    ETag, so a repeat view costs a 304. Each visitor's CSRF token is put into the page as it is served."""

    @wraps(view)
    def serve(*args: Any, **kwargs: Any) -> Any:
        try:
            key = _page_key()
            stored = cache.get(key) if key else None
        except Exception as error:  # noqa: BLE001 - see _unavailable
            _unavailable(error)
            key = None
        if key is None:
            return view(*args, **kwargs)
        if stored is None:
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200 or response.direct_passthrough:
                return response
            body = response.get_data(as_text=True)
            token = g.get("csrf_token")
            template = body.replace(token, TOKEN_MARK) if token else body
            stored = (template, hashlib.sha256(template.encode()).hexdigest()[:32])
            try:
                cache.set(key, stored, timeout=current_app.config["CATALOG_CACHE_SECONDS"])
            except Exception as error:  # noqa: BLE001 - see _unavailable
                _unavailable(error)
        template, digest = stored
        # The ETag changes every half hour as well: a browser's copy carries a CSRF token from when it was
        # served, and Flask-WTF accepts a token for an hour (WTF_CSRF_TIME_LIMIT).
        etag = f"{digest}-{int(time.time() // 1800)}"
        unchanged = etag in request.if_none_match  # the browser has this page: no body, no new token
        response = make_response("" if unchanged else _with_token(template), 304 if unchanged else 200)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Cookie")
        return response

    return serve


def _with_token(template: str) -> str:
    if TOKEN_MARK not in template:
        return template
    from flask_wtf.csrf import generate_csrf

    return template.replace(TOKEN_MARK, generate_csrf())


# -- product cards, rendered once per product, language and day in each generation

def product_cards(products: list[Any]) -> list[Markup]:
    """The cards of these products as HTML (the `product_card` macro), from the cache where it has them (the
    rendering is most of a listing's cost), in one cache round trip; the cards it lacks get their photos and
    certificates loaded (two queries in all) and are rendered and kept."""
    from shop.catalog.service import load_card_details
    from shop.i18n import current_language
    from shop.timeutil import today

    macro = current_app.jinja_env.get_template("macros/ui.html").module.product_card  # type: ignore[attr-defined]
    if not enabled() or not products:
        load_card_details(products)
        return [Markup(macro(product)) for product in products]
    try:
        prefix = f"card:{generation()}:{current_language()}:{today().isoformat()}:"
        keys = [f"{prefix}{product.id}" for product in products]
        found = dict(zip(keys, cache.get_many(*keys), strict=True))
    except Exception as error:  # noqa: BLE001 - see _unavailable
        _unavailable(error)
        load_card_details(products)
        return [Markup(macro(product)) for product in products]
    missing = [(key, product) for key, product in zip(keys, products, strict=True) if found[key] is None]
    if missing:
        load_card_details([product for _key, product in missing])
        rendered = {key: str(macro(product)) for key, product in missing}
        try:
            cache.set_many(rendered, timeout=current_app.config["CATALOG_CACHE_SECONDS"])
        except Exception as error:  # noqa: BLE001 - see _unavailable
            _unavailable(error)
        found.update(rendered)
    return [Markup(found[key]) for key in keys]
