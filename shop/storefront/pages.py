"""Whole public pages kept in the catalog cache: rendered once per address, language, day and catalog generation
for every visitor but a few visitor parts (the header's cart link, account links, messages), which are put in per
request; an anonymous visitor is served the whole page as kept, with an ETag (a repeat view costs a 304). Each
visitor's CSRF token is put in as the page is served. The generation and the value cache are `shop.catalog.cache`."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from shop import metrics
from shop.cart.session import item_count
from shop.catalog.cache import generation, pages_enabled, store, unavailable
from shop.extensions import cache, limiter
from shop.i18n import current_language, select_locale
from shop.timeutil import today

TOKEN_MARK = "\x1ecsrf-token\x1e"  # stands in a cached page for each visitor's own CSRF token

VISITOR_PARTS = ("cart_link", "account", "flashes")  # the macros of templates/_visitor.html
VISITOR_MARK = "\x1evisitor:"
_VISITOR_MARKS = re.compile(f"{VISITOR_MARK}({'|'.join(VISITOR_PARTS)})\x1e")


def visitor_mark(name: str) -> Markup:
    """Stands in a shared page for one of this visitor's own parts (base.html), put in as the page is served."""
    return Markup(f"{VISITOR_MARK}{name}\x1e")


def _page_keys() -> tuple[str, str | None]:
    """The cache keys of this request's page: as every visitor of this address, language and day sees it (visitor
    parts left out), and whole as this visitor sees it, or None when its visitor parts are this visitor's alone."""
    path = request.full_path if request.query_string else request.path
    version = getattr(current_app.view_functions.get(request.endpoint or ""), "page_version", None)
    shared = (f"shared:{generation()}:{today().isoformat()}:{select_locale()}:"
              f"{hashlib.sha256(path.encode()).hexdigest()}")
    if version is not None:  # read before the page is rendered, as the generation is
        shared += f":{version(**(request.view_args or {}))}"
    # Signed in, or about to be by a remember-me cookie, or a message waiting: parts of one's own. (Read from the
    # session and cookies directly: asking Flask-Login would load the user, which is what a cached page saves.)
    if ("_flashes" in session or "_user_id" in session
            or current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies):
        return shared, None
    return shared, f"page:{shared}:{item_count()}"


def no_query(args: Mapping[str, str]) -> bool:
    """The default for `cached_page`: a page is kept only at its plain address (no query string)."""
    return not args


def cached_page(view: Callable[..., Any] | None = None, *,
                query: Callable[[Mapping[str, str]], bool] = no_query,
                version: Callable[..., Any] | None = None) -> Any:
    """Serve a public catalog page from the cache. Its shared part (everything but the visitor parts: the cart
    link, the account links, messages) is rendered once per address, language, day and catalog generation and
    kept for every visitor; the visitor parts are rendered for each request. An anonymous visitor is served the
    whole page as kept (by `serve_kept_page`, before the view), with an ETag, so a repeat view costs a 304. Each
    visitor's CSRF token is put into the page as it is served.

    Only addresses whose query string `query` accepts are kept (by default none): any other is rendered as usual,
    so the number of kept pages is bounded by the catalog, not by what visitors type into an address.

    `version`, given the path's arguments, names what else a page shows that changes without a new catalog
    generation (a product page's exact stock): a new version is a new page."""
    if view is None:
        return lambda inner: cached_page(inner, query=query, version=version)

    @wraps(view)
    def serve(*args: Any, **kwargs: Any) -> Any:
        if not pages_enabled() or request.method != "GET" or not query(request.args):
            return view(*args, **kwargs)
        try:
            shared_key, page_key = g.pop("catalog_page", None) or _page_keys()
            shared = cache.get(shared_key)
            metrics.CACHE.labels("shared", "miss" if shared is None else "hit").inc()
        except Exception as error:  # noqa: BLE001 - see unavailable
            unavailable(error)
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
            store(shared_key, shared)
        body = _fill_visitor_parts(shared)
        if page_key is None:
            return make_response(_with_token(body))
        stored = (body, hashlib.sha256(body.encode()).hexdigest()[:32])
        store(page_key, stored)
        return _kept_response(stored)

    serve.cached_page = query  # type: ignore[attr-defined]
    serve.page_version = version  # type: ignore[attr-defined]
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
        metrics.CACHE.labels("page", "miss" if stored is None else "hit").inc()
    except Exception as error:  # noqa: BLE001 - see unavailable
        unavailable(error)
        return None
    if stored is None:
        g.catalog_page = keys  # for the view's cached_page, which renders and keeps it
        return None
    return _kept_response(stored)


def _kept_response(stored: tuple[str, str]) -> Any:
    template, digest = stored
    # The ETag changes every half hour as well: a browser's copy carries a CSRF token from when it was served,
    # and Flask-WTF accepts a token for an hour (WTF_CSRF_TIME_LIMIT). A page with a form also names the session
    # its token belongs to: after a browser restart (a new session) the copy's token is dead, so it is sent anew.
    etag = f"{digest}-{int(time.time() // 1800)}"
    if TOKEN_MARK in template:
        etag += f"-{_token_owner()}"
    unchanged = etag in request.if_none_match  # the browser has this page: no body, no new token
    response = make_response("" if unchanged else _with_token(template), 304 if unchanged else 200)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    return response


def _token_owner() -> str:
    """A short fingerprint of this session's CSRF secret (made now when the session has none)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field not in session:
        generate_csrf()
    return hashlib.sha256(str(session.get(field, "")).encode()).hexdigest()[:12]


def _is_cached_page_request() -> bool:
    """A GET of a cached page at an address it keeps."""
    if request.method != "GET":
        return False
    keeps = getattr(current_app.view_functions.get(request.endpoint or ""), "cached_page", None)
    return keeps is not None and keeps(request.args)


def init_app(app: Flask) -> None:
    """Kept pages are answered before anything else runs; no catalog page has a rate limit, so their requests are
    spared the limiter's bookkeeping (the limiter is one object for every app: said once)."""
    app.before_request_funcs.setdefault(None, []).insert(0, serve_kept_page)
    if _is_cached_page_request not in limiter._request_filters:
        limiter.request_filter(_is_cached_page_request)


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
    user = current_user
    count = item_count()
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


def _with_token(template: str) -> str:
    if TOKEN_MARK not in template:
        return template
    return template.replace(TOKEN_MARK, generate_csrf())
