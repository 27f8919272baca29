"""What search engines and link previews (WhatsApp, Facebook) read about a product: a short summary and
schema.org Product data with the price in IDR and the availability."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from shop.catalog.models import Product
from shop.i18n import rupiah
from shop.web import public_url


def product_summary(product: Product, limit: int = 160) -> str:
    """One or two sentences for the meta description and the preview card."""
    text = " ".join((product.description or "").split())
    if not text:
        text = _("%(name)s, made at %(facility)s, %(city)s. %(price)s.", name=product.name,
                 facility=product.facility.name, city=product.facility.city, price=rupiah(product.price))
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "…"


def product_json_ld(product: Product, sellable: bool) -> dict[str, Any]:
    available = sellable and product.stock > 0
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Product", "name": product.name, "sku": product.slug,
        "description": product_summary(product, 500),
        "category": product.category.name,
        "url": public_url("catalog.product", slug=product.slug),
        "manufacturer": {"@type": "Organization", "name": product.facility.name},
        "offers": {"@type": "Offer", "price": str(product.price), "priceCurrency": "IDR",
                   "availability": "https://schema.org/InStock" if available else "https://schema.org/OutOfStock",
                   "url": public_url("catalog.product", slug=product.slug)},
    }
    if product.cover is not None:
        data["image"] = public_url("catalog.media", filename=product.cover.filename)
    return data
