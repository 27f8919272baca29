"""The catalog's value cache, kept per catalog *generation*: filter options, listings, product cards and (in
`shop.storefront.pages`) whole public pages are stored under keys that hold the generation. Any committed change to
a watched model (products, photos, facilities, regions, categories here; certificates and split rules, watched
from their own layers through `watch`) or a stock change that a page shows (sold out, "only N left") starts a new
generation, so nothing older than the change is served again; every key holds the day too (a certificate lapsing
at midnight), and CATALOG_CACHE_SECONDS bounds the rest.

The cache is Flask-Caching: in-process by default (`scripts/start`), Redis with CACHE_REDIS_URL, which several
workers or servers need so that a change seen by one invalidates the pages of all. Nothing here decides what
may be bought: the checkout re-checks stock and certificates on every order."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from shop.catalog.models import Category, Facility, Product, ProductImage, Region, SearchSynonym
from shop.extensions import cache
from shop.i18n import localized

GENERATION_KEY = "catalog:generation"
LOW_STOCK = 5  # pages say "only N left" at or below this: a change there is a change of the page


def enabled() -> bool:
    return current_app.config["CATALOG_CACHE_SECONDS"] > 0


def pages_enabled() -> bool:
    """Pages are kept too (CATALOG_PAGE_CACHE), not only the filter options and product cards."""
    return enabled() and current_app.config["CATALOG_PAGE_CACHE"]


def unavailable(error: Exception) -> None:
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

# What catalog pages show. Models of higher layers (certificates, split rules) are added by `watch`, called from
# create_app, so this module needs no import of them.
WATCHED: set[type] = {Category, Facility, Product, ProductImage, Region, SearchSynonym}


def watch(*models: type) -> None:
    """A change to any of these models is a change of catalog pages (idempotent: create_app may run often)."""
    WATCHED.update(models)


def note_change(session: Session) -> None:
    session.info["catalog_changed"] = True


def note_stock_change(session: Session, slug: str, before: int, after: int) -> None:
    """A stock change: at or below LOW_STOCK every page that shows the product changes ("only N left", "sold
    out"); above it only the product's own page does, which shows the exact stock ("Stok: 120")."""
    if min(before, after) <= LOW_STOCK:
        note_change(session)
    else:
        session.info.setdefault("stock_changed", set()).add(slug)


STOCK_KEY = "catalog:stock:"  # + a product's slug: changes whenever its stock does (its page's version)


def stock_version(slug: str) -> int:
    """The version of a product page's stock, read before the page is rendered (as `generation` is): a page
    rendered while a sale commits is kept under the version before the sale, which the next visitor no longer
    asks for."""
    return int(cache.get(STOCK_KEY + slug) or 0)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, context: Any) -> None:
    watched = tuple(WATCHED)
    if any(isinstance(obj, watched) for obj in chain(session.new, session.dirty, session.deleted)):
        note_change(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    changed, stock = session.info.pop("catalog_changed", False), session.info.pop("stock_changed", ())
    try:
        if changed:
            bump()
        for slug in stock:  # a random version, never one used before, also after the cache forgot the key
            cache.set(STOCK_KEY + slug, secrets.randbelow(2**40), timeout=0)
    except Exception:  # noqa: BLE001 - a cache that is down must not fail a committed change
        current_app.logger.exception("the catalog cache could not be invalidated")


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("catalog_changed", None)
    session.info.pop("stock_changed", None)


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
        return localized(self, "name")


def recall(name: str) -> Any:
    """The value kept under `name` in this generation, or None."""
    try:
        return cache.get(f"catalog:{generation()}:{name}") if enabled() else None
    except Exception as error:  # noqa: BLE001 - see unavailable
        unavailable(error)
        return None


def keep(name: str, value: Any) -> None:
    """Keep a plain value (never an ORM object) for this generation."""
    try:
        if enabled():
            store(f"catalog:{generation()}:{name}", value)
    except Exception as error:  # noqa: BLE001 - see unavailable (generation() asks the cache too)
        unavailable(error)


def remembered(name: str, build: Callable[[], Any]) -> Any:
    """`build()`'s value for this generation, built once."""
    value = recall(name)
    if value is None:
        value = build()
        keep(name, value)
    return value


def store(key: str, value: Any) -> None:
    """Keep a value for CATALOG_CACHE_SECONDS; a cache that is down keeps nothing."""
    try:
        cache.set(key, value, timeout=current_app.config["CATALOG_CACHE_SECONDS"])
    except Exception as error:  # noqa: BLE001 - see unavailable
        unavailable(error)
