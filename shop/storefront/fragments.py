"""Pieces of public pages kept in the catalog cache: the product list's filter form (per generation, language and
choice of filters) and product cards (per product, language and day in each generation)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from flask import current_app
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect

from shop.catalog import search
from shop.catalog.cache import enabled, generation, remembered, unavailable
from shop.extensions import cache
from shop.i18n import current_language
from shop.storefront.service import load_card_details, products_by_ids
from shop.timeutil import today

# -- the product list's filter form, rendered once per generation, language and choice of filters

def filter_form(filters: Any, options: Any) -> Markup:
    def render() -> str:
        macro = current_app.jinja_env.get_template("catalog/_filters.html").module.filter_form  # type: ignore[attr-defined]
        return str(macro(filters, options))

    choice = hashlib.sha256(repr(replace(filters, page=1)).encode()).hexdigest()
    return Markup(remembered(f"filters:{current_language()}:{choice}", render))


# -- product cards, rendered once per product, language and day in each generation

def highlight_cards(cards: list[Markup], query: search.Query) -> list[Markup]:
    """Kept cards with the words a search matched marked in their names and facilities (per request)."""
    mark = search.highlighter(query)
    return [Markup(mark(str(card))) for card in cards]  # noqa: S704 (the cards' own HTML; words are [a-z0-9])


def product_cards(products: list[Any]) -> list[Markup]:
    """The cards of these products (Product objects, or ids from a page kept in the cache) as HTML (the
    `product_card` macro), from the cache where it has them (the rendering is most of a listing's cost), in one
    cache round trip; the cards it lacks get their products (when given as ids), photos and certificates loaded
    (three queries at most) and are rendered and kept."""
    ids = [item if isinstance(item, int) else item.id for item in products]
    found: dict[int, Any] = dict.fromkeys(ids)
    prefix = None
    if enabled() and products:
        try:
            prefix = f"card:{generation()}:{current_language()}:{today().isoformat()}:"
            found = dict(zip(ids, cache.get_many(*[f"{prefix}{product_id}" for product_id in ids]), strict=True))
        except Exception as error:  # noqa: BLE001 - see unavailable
            unavailable(error)
            prefix = None
    missing = [item for product_id, item in zip(ids, products, strict=True) if found[product_id] is None]
    if missing:
        rendered = _render_cards(missing)
        if prefix is not None:
            try:
                cache.set_many({f"{prefix}{product_id}": str(card) for product_id, card in rendered.items()},
                               timeout=current_app.config["CATALOG_CACHE_SECONDS"])
            except Exception as error:  # noqa: BLE001 - see unavailable
                unavailable(error)
        found.update(rendered)
    return [Markup(found[product_id]) for product_id in ids if found[product_id] is not None]


def _render_cards(items: list[Any]) -> dict[int, Markup]:
    """The cards of these products or product ids, by id (a product kept by id that is gone is left out)."""
    loaded = {product.id: product for product in products_by_ids([item for item in items if isinstance(item, int)])}
    products = [loaded[item] if isinstance(item, int) else item for item in items
                if not isinstance(item, int) or item in loaded]
    load_card_details([product for product in products if "images" not in sa_inspect(product).dict])
    macro = current_app.jinja_env.get_template("macros/ui.html").module.product_card  # type: ignore[attr-defined]
    return {product.id: Markup(macro(product)) for product in products}
