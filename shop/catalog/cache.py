"""The catalog's cache: filter options, listings, product cards and public pages, kept per catalog *generation*.
Any committed change to a product, its photos or certificates, a facility, region or category, a split rule, or
a stock change that a page shows (sold out, "only N left") starts a new generation, so no page older than the
change is served again; every key holds the day too (a certificate lapsing at midnight), and
CATALOG_CACHE_SECONDS bounds the rest.

The cache is Flask-Caching: in-process by default (`scripts/start`), Redis with CACHE_REDIS_URL, which several
workers or servers need so that a change seen by one invalidates the pages of all. Nothing here decides what
may be bought: the checkout re-checks stock and certificates on every order."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from itertools import chain
from typing import Any

from flask import Flask, current_app, g, make_response, request, session
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

from shop.extensions import cache, limiter

GENERATION_KEY = "catalog:generation"
LOW_STOCK = 5  # pages say "only N left" at or below this: a change there is a change of the page
TOKEN_MARK = "\x1ecsrf-token\x1e"  # stands in a cached page for each visitor's own CSRF token


def enabled() -> bool:
    return current_app.config["CATALOG_CACHE_SECONDS"] > 0


def pages_enabled() -> bool:
    """Pages are kept too (CATALOG_PAGE_CACHE), not only the filter options and product cards."""
    return enabled() and current_app.config["CATALOG_PAGE_CACHE"]


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
    """What catalog pages show: products, photos, certificates, facilities, regions, categories, and the split
    rules behind each product page's "where your money goes"."""
    from shop.catalog.models import Category, Facility, Product, ProductImage, Region
    from shop.certification.models import Certification
    from shop.ledger.models import SplitRule

    return Category, Facility, Product, ProductImage, Region, Certification, SplitRule


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
            _store(f"catalog:{generation()}:{name}", value)
    except Exception as error:  # noqa: BLE001 - see _unavailable (generation() asks the cache too)
        _unavailable(error)


def remembered(name: str, build: Callable[[], Any]) -> Any:
    """`build()`'s value for this generation, built once."""
    value = recall(name)
    if value is None:
        value = build()
        keep(name, value)
    return value


# -- whole pages: shared by every visitor but for a few visitor parts, and whole for anonymous visitors

VISITOR_PARTS = ("cart_link", "account", "flashes")  # the macros of templates/_visitor.html
VISITOR_MARK = "\x1evisitor:"
_VISITOR_MARKS = re.compile(f"{VISITOR_MARK}({'|'.join(VISITOR_PARTS)})\x1e")


def visitor_mark(name: str) -> Markup:
    """Stands in a shared page for one of this visitor's own parts (base.html), put in as the page is served."""
    return Markup(f"{VISITOR_MARK}{name}\x1e")


def _page_keys() -> tuple[str, str | None]:
    """The cache keys of this request's page: as every visitor of this address, language and day sees it (visitor
    parts left out), and whole as this visitor sees it, or None when its visitor parts are this visitor's alone."""
    from shop.cart.views import cart_count
    from shop.i18n import select_locale
    from shop.timeutil import today

    path = request.full_path if request.query_string else request.path
    shared = (f"shared:{generation()}:{today().isoformat()}:{select_locale()}:"
              f"{hashlib.sha256(path.encode()).hexdigest()}")
    # Signed in, or about to be by a remember-me cookie, or a message waiting: parts of one's own. (Read from the
    # session and cookies directly: asking Flask-Login would load the user, which is what a cached page saves.)
    if ("_flashes" in session or "_user_id" in session
            or current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies):
        return shared, None
    return shared, f"page:{shared}:{cart_count()['cart_count']}"


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve a public catalog page from the cache. Its shared part (everything but the visitor parts: the cart
    link, the account links, messages) is rendered once per address, language, day and catalog generation and
    kept for every visitor; the visitor parts are rendered for each request. An anonymous visitor is served the
    whole page as kept (by `serve_kept_page`, before the view), with an ETag, so a repeat view costs a 304. Each
    visitor's CSRF token is put into the page as it is served."""

    @wraps(view)
    def serve(*args: Any, **kwargs: Any) -> Any:
        if not pages_enabled() or request.method != "GET":
            return view(*args, **kwargs)
        try:
            shared_key, page_key = g.pop("catalog_page", None) or _page_keys()
            shared = cache.get(shared_key)
        except Exception as error:  # noqa: BLE001 - see _unavailable
            _unavailable(error)
            return view(*args, **kwargs)
        if shared is None:
            response = _render_shared(view, args, kwargs)
            if response.status_code != 200 or response.direct_passthrough or response.mimetype != "text/html":
                if not response.direct_passthrough:
                    response.set_data(_with_token(_fill_visitor_parts(response.get_data(as_text=True))))
                return response
            body = response.get_data(as_text=True)
            token = g.get("csrf_token")
            shared = body.replace(token, TOKEN_MARK) if token else body
            _store(shared_key, shared)
        body = _fill_visitor_parts(shared)
        if page_key is None:
            return make_response(_with_token(body))
        stored = (body, hashlib.sha256(body.encode()).hexdigest()[:32])
        _store(page_key, stored)
        return _kept_response(stored)

    serve.cached_page = True  # type: ignore[attr-defined]
    return serve


def serve_kept_page() -> Any:
    """The first of every request's before-request functions: a GET of a cached page (`cached_page`) that an
    anonymous visitor's whole page is kept for is answered at once, before the rate limiter or the view runs
    (no catalog page has a rate limit; a request the others would refuse, like one with a NUL character, was
    refused when its page was first asked for, so no page was kept for it). Otherwise it returns None and the
    request goes on as usual."""
    if not pages_enabled() or not _is_cached_page_request():
        return None
    try:
        keys = _page_keys()
        stored = cache.get(keys[1]) if keys[1] else None
    except Exception as error:  # noqa: BLE001 - see _unavailable
        _unavailable(error)
        return None
    if stored is None:
        g.catalog_page = keys  # for the view's cached_page, which renders and keeps it
        return None
    return _kept_response(stored)


def _kept_response(stored: tuple[str, str]) -> Any:
    template, digest = stored
    # The ETag changes every half hour as well: a browser's copy carries a CSRF token from when it was served,
    # and Flask-WTF accepts a token for an hour (WTF_CSRF_TIME_LIMIT).
    etag = f"{digest}-{int(time.time() // 1800)}"
    unchanged = etag in request.if_none_match  # the browser has this page: no body, no new token
    response = make_response("" if unchanged else _with_token(template), 304 if unchanged else 200)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    return response


def _is_cached_page_request() -> bool:
    return request.method == "GET" and getattr(current_app.view_functions.get(request.endpoint or ""), "cached_page",
                                                  False)


# No catalog page has a rate limit: spare their requests the limiter's bookkeeping. (The limiter is one object
# for every app, so this is said once, here.)
limiter.request_filter(_is_cached_page_request)


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, serve_kept_page)


def _render_shared(view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The view's page with marks where the visitor parts go (base.html asks `g.shared_page`)."""
    g.shared_page = True
    try:
        return make_response(view(*args, **kwargs))
    finally:
        g.shared_page = False


def _fill_visitor_parts(body: str) -> str:
    """The page with this visitor's cart link, account links and messages put in for the marks (their CSRF token
    as TOKEN_MARK, which `_with_token` replaces)."""
    if VISITOR_MARK not in body:
        return body
    parts = _visitor_parts()
    return _VISITOR_MARKS.sub(lambda mark: parts[mark.group(1)], body)


def _visitor_parts() -> dict[str, str]:
    """The visitor parts for this visitor. Without a message waiting they depend only on the language, the number
    in the cart and what kind of visitor this is (anonymous, customer, staff), so each process keeps them by that;
    the visitor is still loaded on every request, so an ended session or a deactivated account shows at once."""
    from flask_login import current_user

    from shop.cart.views import cart_count
    from shop.i18n import current_language

    user = current_user
    count = cart_count()["cart_count"]
    kind = (bool(user.is_authenticated), bool(getattr(user, "is_staff", False)),
            bool(getattr(user, "is_customer", False)))
    if "_flashes" in session:
        return _render_visitor_parts(user, count)
    known: dict[tuple[Any, ...], dict[str, str]] = current_app.extensions.setdefault("kb_visitor_parts", {})
    key = (current_language(), count, *kind)
    parts = known.get(key)
    if parts is None:
        parts = _render_visitor_parts(user, count)
        if len(known) < 1000:  # a cart count is at most a few hundred: this bounds it anyway
            known[key] = parts
    return parts


def _render_visitor_parts(user: Any, count: int) -> dict[str, str]:
    module = current_app.jinja_env.get_template("_visitor.html").make_module(
        {"current_user": user, "cart_count": count, "csrf_token": lambda: Markup(TOKEN_MARK)})
    return {name: str(getattr(module, name)()) for name in VISITOR_PARTS}


def _store(key: str, value: Any) -> None:
    """Keep a value for CATALOG_CACHE_SECONDS; a cache that is down keeps nothing."""
    try:
        cache.set(key, value, timeout=current_app.config["CATALOG_CACHE_SECONDS"])
    except Exception as error:  # noqa: BLE001 - see _unavailable
        _unavailable(error)


def _with_token(template: str) -> str:
    if TOKEN_MARK not in template:
        return template
    from flask_wtf.csrf import generate_csrf

    return template.replace(TOKEN_MARK, generate_csrf())


# -- the product list's filter form, rendered once per generation, language and choice of filters

def filter_form(filters: Any, options: Any) -> Markup:
    from dataclasses import replace

    from shop.i18n import current_language

    def render() -> str:
        macro = current_app.jinja_env.get_template("catalog/_filters.html").module.filter_form  # type: ignore[attr-defined]
        return str(macro(filters, options))

    choice = hashlib.sha256(repr(replace(filters, page=1)).encode()).hexdigest()
    return Markup(remembered(f"filters:{current_language()}:{choice}", render))


# -- product cards, rendered once per product, language and day in each generation

def product_cards(products: list[Any]) -> list[Markup]:
    """The cards of these products (Product objects, or ids from a page kept in the cache) as HTML (the
    `product_card` macro), from the cache where it has them (the rendering is most of a listing's cost), in one
    cache round trip; the cards it lacks get their products (when given as ids), photos and certificates loaded
    (three queries at most) and are rendered and kept."""
    from shop.i18n import current_language
    from shop.timeutil import today

    ids = [item if isinstance(item, int) else item.id for item in products]
    found: dict[int, Any] = dict.fromkeys(ids)
    prefix = None
    if enabled() and products:
        try:
            prefix = f"card:{generation()}:{current_language()}:{today().isoformat()}:"
            found = dict(zip(ids, cache.get_many(*[f"{prefix}{product_id}" for product_id in ids]), strict=True))
        except Exception as error:  # noqa: BLE001 - see _unavailable
            _unavailable(error)
            prefix = None
    missing = [item for product_id, item in zip(ids, products, strict=True) if found[product_id] is None]
    if missing:
        rendered = _render_cards(missing)
        if prefix is not None:
            try:
                cache.set_many({f"{prefix}{product_id}": str(card) for product_id, card in rendered.items()},
                               timeout=current_app.config["CATALOG_CACHE_SECONDS"])
            except Exception as error:  # noqa: BLE001 - see _unavailable
                _unavailable(error)
        found.update(rendered)
    return [Markup(found[product_id]) for product_id in ids if found[product_id] is not None]


def _render_cards(items: list[Any]) -> dict[int, Markup]:
    """The cards of these products or product ids, by id (a product kept by id that is gone is left out)."""
    from shop.catalog.service import load_card_details, products_by_ids

    loaded = {product.id: product for product in products_by_ids([item for item in items if isinstance(item, int)])}
    products = [loaded[item] if isinstance(item, int) else item for item in items
                if not isinstance(item, int) or item in loaded]
    load_card_details(products)
    macro = current_app.jinja_env.get_template("macros/ui.html").module.product_card  # type: ignore[attr-defined]
    return {product.id: Markup(macro(product)) for product in products}
