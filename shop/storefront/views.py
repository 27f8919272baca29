"""Public catalog pages."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

from flask import abort, current_app, jsonify, redirect, render_template, request, session
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from shop import storage
from shop.catalog import catalog, search
from shop.catalog.cache import stock_version
from shop.certification.service import sale_state
from shop.storefront import service
from shop.storefront.forms import MAX_QUERY_LENGTH, keepable_list, parse_product_filter
from shop.storefront.pages import cached_page
from shop.web import safe_next


@catalog.get("/")
@cached_page
def home() -> str:
    regions = service.facilities_by_region()
    return render_template("catalog/home.html", products=service.featured_products(), regions=regions,
                           figures=service.shop_figures(regions))


@catalog.get("/produk")
@cached_page(query=keepable_list)
def products() -> str:
    options = service.catalog_options()
    filters, notices = parse_product_filter(request.args, options)
    per_page = current_app.config["PRODUCTS_PER_PAGE"]
    page = service.list_products(filters, per_page)
    found = search.understand(filters.q) if filters.q else None
    suggestion, featured = "", list[int]()
    if found is not None and not page.total and len(found.words) > 1:
        # No product has every word: those that have any of them, said so.
        filters = replace(filters, any_word=True)
        page = service.list_products(filters, per_page)
        if page.total:
            notices = [*notices, _("No product matches all of these words; these match some of them.")]
    if found is not None and not page.total:
        suggestion = search.did_you_mean(found)
        featured = [item if isinstance(item, int) else item.id for item in service.featured_products(4)]
    return render_template("catalog/products.html", page=page, filters=filters, options=options,
                           notices=notices, found=found, suggestion=suggestion, featured=featured)


@catalog.get("/produk/saran")
def suggestions() -> Response:
    """What the search box offers while typing: at most 8 product names for `q`, as JSON."""
    typed = (request.args.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    names = service.suggest(typed, limit=8) if len(typed) >= 2 else []
    answer = jsonify({"q": typed, "suggestions": names})
    answer.headers["Cache-Control"] = "public, max-age=60"
    return answer


@catalog.get("/produk/<slug>")
@cached_page(version=stock_version)  # the page shows the exact stock: a sale renews it, not every page
def product(slug: str) -> str:
    try:
        item = service.product_by_slug(slug)
    except service.NotFound:
        abort(404)
    return render_template("catalog/product.html", product=item, sale=sale_state(item))


@catalog.get("/fasilitas")
@cached_page
def facilities() -> str:
    return render_template("catalog/facilities.html", regions=service.facilities_by_region())


@catalog.get("/fasilitas/<slug>")
@cached_page
def facility(slug: str) -> str:
    try:
        item, count = service.facility_by_slug(slug)
    except service.NotFound:
        abort(404)
    page = service.list_products(service.ProductFilter(facility=slug, page=1),
                                 per_page=current_app.config["PRODUCTS_PER_PAGE"], total=count)
    return render_template("catalog/facility.html", facility=item, products=page.items, total=page.total)


# Who runs the shop, how to reach it, and the terms buyers agree to (PP 80/2019; UU 27/2022 for personal data).
SHOP_PAGES = {"kontak": "contact", "syarat-penjualan": "terms", "pengembalian": "returns", "privasi": "privacy"}


@catalog.get("/kontak")
def contact() -> str:
    """Not kept in the page cache: an order number (`?pesanan=`) fills the WhatsApp message in."""
    return render_template("catalog/contact.html", order_number=(request.args.get("pesanan") or "")[:20])


@catalog.get("/syarat-penjualan", endpoint="terms")
@catalog.get("/pengembalian", endpoint="returns")
@catalog.get("/privasi", endpoint="privacy")
@cached_page
def shop_page() -> str:
    return render_template(f"catalog/{SHOP_PAGES[request.path.strip('/')]}.html")


@catalog.get("/bahasa/<code>")
def language(code: str) -> Response:
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), "/"))


@catalog.get("/media/<path:filename>")
def media(filename: str) -> Response:
    return storage.public().serve(filename, download=False, max_age=7 * 24 * 3600)


@catalog.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says, and often drop the request when the page moves on:
    the icon is served from memory, so a dropped request leaves no open file behind."""
    response = current_app.response_class(_favicon_bytes(current_app.static_folder or "static"),
                                          mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 7 * 24 * 3600
    return response


@cache
def _favicon_bytes(folder: str) -> bytes:
    return (Path(folder) / "favicon.ico").read_bytes()
