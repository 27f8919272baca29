"""Reading the catalog's query string: bad values are dropped with a notice, never a 500."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from shop.storefront.service import SORTS, CatalogOptions, ProductFilter, catalog_options
from shop.web import non_negative_int, positive_int

MAX_QUERY_LENGTH = 100


KEPT_LIST_PAGES = 20  # a listing's pages past this are rendered for each visitor, not kept
FLAGS = {"1", "on", "true", "yes"}
PERMIT_FLAGS = ("in_stock", "halal", "bpom", "pirt")  # the list's tick boxes


def keepable_list(args: Mapping[str, str]) -> bool:
    """Whether the product list at this query string is kept for every visitor: only choices from the catalog's
    own lists (category, region, facility, sort, the flags) and the first pages. A search text or a price someone
    typed is rendered for them (its product cards are still kept), so nobody fills the cache with made-up
    addresses."""
    if not args:
        return True
    if not set(args) <= {"category", "region", "facility", "sort", *PERMIT_FLAGS, "page"}:
        return False
    if any(len(values) > 1 for values in getattr(args, "listvalues", lambda: [])()):
        return False
    options = catalog_options()
    known = {"category": options.category_slugs, "region": options.region_slugs, "facility": options.facility_slugs}
    page = args.get("page")
    return (all(not args.get(name) or args[name] in slugs for name, slugs in known.items())
            and args.get("sort", "newest") in SORTS
            and all(args.get(flag, "1") in FLAGS | {""} for flag in PERMIT_FLAGS)
            and (page is None or page in {str(n) for n in range(1, KEPT_LIST_PAGES + 1)}))


def parse_product_filter(args: Mapping[str, str], options: CatalogOptions) -> tuple[ProductFilter, list[str]]:
    notices: list[str] = []

    def slug(name: str, known: set[str], message: str) -> str | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        if value not in known:
            notices.append(str(message))
            return None
        return value

    def price(name: str) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        value = non_negative_int(raw)
        if value is None:
            notices.append(str(_l("The price “%(value)s” is not a whole number of rupiah; that filter was ignored.",
                                  value=raw[:20])))
        return value

    min_price, max_price = price("min_price"), price("max_price")
    if min_price is not None and max_price is not None and min_price > max_price:
        min_price, max_price = max_price, min_price
    sort = args.get("sort") or "newest"
    if sort not in SORTS:
        sort = "newest"
    raw_page = args.get("page")
    page = positive_int(raw_page, 1) or 1
    if raw_page not in (None, "") and positive_int(raw_page) is None:
        notices.append(str(_l("There is no page “%(value)s”; showing the first page.", value=raw_page[:20])))
    filters = ProductFilter(
        q=(args.get("q") or "").strip()[:MAX_QUERY_LENGTH],
        facility=slug("facility", options.facility_slugs, _l("Unknown facility; that filter was ignored.")),
        region=slug("region", options.region_slugs, _l("Unknown region; that filter was ignored.")),
        category=slug("category", options.category_slugs, _l("Unknown category; that filter was ignored.")),
        in_stock=args.get("in_stock") in {"1", "on", "true", "yes"},
        halal=args.get("halal") in FLAGS,
        bpom=args.get("bpom") in FLAGS,
        pirt=args.get("pirt") in FLAGS,
        min_price=min_price,
        max_price=max_price,
        sort=sort,
        page=min(page, 10_000),
    )
    return filters, notices
