"""Catalog queries for the public pages: filtered, sorted, paginated, with a fixed number of SQL queries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shop.catalog import lots, search
from shop.catalog.cache import Choice, keep, recall, remembered
from shop.catalog.models import Category, Facility, FacilityKind, Product, ProductImage, Region
from shop.certification.models import Certification, CertType
from shop.certification.queries import with_valid_permit
from shop.certification.service import is_sellable
from shop.extensions import db
from shop.i18n import localized

SORTS = ("newest", "price_asc", "price_desc", "name")


class NotFound(LookupError):
    """No active facility or product with that slug."""


@dataclass(frozen=True)
class ProductFilter:
    q: str = ""
    facility: str | None = None
    region: str | None = None
    category: str | None = None
    in_stock: bool = False
    halal: bool = False
    bpom: bool = False
    pirt: bool = False
    min_price: int | None = None
    max_price: int | None = None
    sort: str = "newest"
    page: int = 1
    any_word: bool = False  # several words: products matching any of them (when none match all)


@dataclass(frozen=True)
class CatalogOptions:
    """What the filter controls offer (plain values: kept in the catalog cache)."""

    categories: list[Choice]
    regions: list[Choice]
    facility_slugs: set[str] = field(default_factory=set)
    region_slugs: set[str] = field(default_factory=set)
    category_slugs: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class RegionInfo:
    slug: str
    name: str
    office: str
    city: str


@dataclass(frozen=True)
class FacilityInfo:
    """A facility as the public pages show it (plain values: kept in the catalog cache)."""

    id: int
    slug: str
    name: str
    kind: FacilityKind
    facility_class: str
    city: str
    story_id: str
    story_en: str
    region: RegionInfo

    @property
    def story(self) -> str:
        return localized(self, "story")


@dataclass(frozen=True)
class ProductPage:
    """One page of products and how many there are in all (what the pagination macro reads). The items are the
    products, or their ids when the page was kept in the catalog cache (`product_cards` takes either)."""

    items: list[Product] | list[int]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def card_loading() -> list:
    """What a list of products needs in its own query: the facility, region and category (many-to-one, joined).
    A card's photos and certificates are loaded by `load_card_details` only for cards not in the cache."""
    return [
        joinedload(Product.facility).joinedload(Facility.region),
        joinedload(Product.category),
    ]


def product_loading() -> list:
    """Everything a product page shows, in a fixed number of queries."""
    return [*card_loading(), selectinload(Product.images), selectinload(Product.certifications)]


def load_card_details(products: list[Product]) -> None:
    """The photos and certificates of these products, one query each, set as their loaded collections."""
    if not products:
        return
    ids = [product.id for product in products]
    details: tuple[tuple[str, Any, Any], ...] = (("images", ProductImage, ProductImage.position),
                                                 ("certifications", Certification, Certification.id))
    for attribute, model, order in details:
        found: dict[int, list[Any]] = {product_id: [] for product_id in ids}
        for row in db.session.scalars(select(model).where(model.product_id.in_(ids)).order_by(order)):
            found[row.product_id].append(row)
        for product in products:
            set_committed_value(product, attribute, found[product.id])


def _visible() -> Select:
    return select(Product).join(Product.facility).where(Product.active.is_(True), Facility.active.is_(True))


def catalog_options() -> CatalogOptions:
    return remembered("options", _build_options)


def _build_options() -> CatalogOptions:
    categories = [Choice(c.slug, c.name_id, c.name_en) for c in
                  db.session.scalars(select(Category).order_by(Category.position, Category.slug))]
    regions = [Choice(r.slug, r.name, facilities=tuple(Choice(f.slug, f.name) for f in r.facilities if f.active))
               for r in db.session.scalars(select(Region).options(selectinload(Region.facilities))
                                           .order_by(Region.name))]
    return CatalogOptions(
        categories=categories,
        regions=regions,
        facility_slugs={f.slug for r in regions for f in r.facilities},
        region_slugs={r.slug for r in regions},
        category_slugs={c.slug for c in categories},
    )


def product_query(filters: ProductFilter) -> Select:
    query = _visible()
    ranked: tuple[Any, ...] = ()
    if filters.q:
        understood = search.understand(filters.q)
        if not understood.words:  # nothing searchable in it (only quotes, %, operators …): nothing matches
            return query.where(false())
        dialect = db.session.get_bind().dialect.name
        query = query.where(search.condition(understood, dialect, any_word=filters.any_word))
        if filters.sort not in SORTS or filters.sort == "newest":  # the default order: name matches first
            ranked = (search.name_first(understood),)
    if filters.facility:
        query = query.where(Facility.slug == filters.facility)
    if filters.region:
        query = query.where(Facility.region_id.in_(select(Region.id).where(Region.slug == filters.region)))
    if filters.category:
        query = query.where(Product.category_id.in_(
            select(Category.id).where(Category.slug == filters.category)))
    if filters.in_stock:
        query = query.where(Product.stock > 0)
    if filters.min_price is not None:
        query = query.where(Product.price >= filters.min_price)
    if filters.max_price is not None:
        query = query.where(Product.price <= filters.max_price)
    if filters.halal:
        query = with_valid_permit(query, CertType.HALAL)
    if filters.bpom:  # a BPOM distribution permit: MD (made here) or ML (imported)
        query = with_valid_permit(query, CertType.BPOM_MD, CertType.BPOM_ML)
    if filters.pirt:
        query = with_valid_permit(query, CertType.PIRT)
    order: tuple[Any, ...] = {
        "newest": (Product.created_at.desc(), Product.id.desc()),
        "price_asc": (Product.price.asc(), Product.id.asc()),
        "price_desc": (Product.price.desc(), Product.id.desc()),
        "name": (Product.name_id.asc(), Product.id.asc()),
    }[filters.sort if filters.sort in SORTS else "newest"]
    return query.order_by(*ranked, *order)


def list_products(filters: ProductFilter, per_page: int, *, total: int | None = None) -> ProductPage:
    """One page of products in one query. How many match in all (unless the caller knows: `total`) is counted
    once per catalog change and these filters: the first time inside the same query (an uncorrelated subquery),
    then kept, so that later pages stop after `per_page` rows instead of reading every match. Which products
    the page holds is kept too: until the catalog changes, the page is their ids, and their cards come from the
    cache, or cost a query for the products, and one each for the photos and the certificates, it lacks."""
    page = max(1, filters.page)
    listing_key = "listing:" + hashlib.sha256(repr((replace(filters, page=page), per_page)).encode()).hexdigest()
    kept = recall(listing_key)
    if kept is not None:
        ids, counted = kept
        return ProductPage(items=ids, total=counted if total is None else total, page=page, per_page=per_page)
    result = _list_products(filters, page, per_page, total)
    keep(listing_key, ([product.id for product in result.items if isinstance(product, Product)], result.total))
    return result


def _list_products(filters: ProductFilter, page: int, per_page: int, total: int | None) -> ProductPage:
    query = product_query(filters)
    paged = query.options(*card_loading()).limit(per_page).offset((page - 1) * per_page)
    key = "count:" + hashlib.sha256(repr(replace(filters, page=1, sort="newest")).encode()).hexdigest()
    total = total if total is not None else recall(key)
    if total is not None:
        return ProductPage(items=list(db.session.scalars(paged).unique()), total=total, page=page,
                           per_page=per_page)
    counting = query.with_only_columns(func.count(Product.id)).order_by(None)
    rows = db.session.execute(paged.add_columns(counting.scalar_subquery().label("total"))).unique().all()
    total = int(rows[0].total) if rows else int(db.session.scalar(counting) or 0)  # past the last page
    keep(key, total)
    return ProductPage(items=[row[0] for row in rows], total=total, page=page, per_page=per_page)


def suggest(typed: str, *, limit: int = 8) -> list[str]:
    """Names of products matching what is being typed, best first, in the reader's language (one query)."""
    query = product_query(ProductFilter(q=typed)).limit(limit)
    return [product.name for product in db.session.scalars(query)]


def featured_products(limit: int = 8) -> list[Product] | list[int]:
    """The home page's products: what can be bought now (in stock, every required certificate valid), featured
    ones first; their ids while the catalog is unchanged (kept, like a listing's)."""
    kept = recall(f"featured:{limit}")
    if kept is not None:
        return list(kept)
    query = _visible().where(Product.stock > 0).options(*card_loading()).order_by(
        Product.featured.desc(), Product.created_at.desc(), Product.id.desc()).limit(limit * 3)
    candidates = list(db.session.scalars(query).unique())
    load_card_details(candidates)  # the certificates decide; the photos are the cards' own
    products = [product for product in candidates if is_sellable(product)][:limit]
    keep(f"featured:{limit}", [product.id for product in products])
    return products


def products_by_ids(ids: list[int]) -> list[Product]:
    """These products, in this order, with what a card shows, for the cards the cache lacks of a page it kept
    (the catalog is unchanged since: the page's products are still on sale)."""
    if not ids:
        return []
    found = {product.id: product for product in db.session.scalars(
        select(Product).options(*card_loading()).where(Product.id.in_(ids))).unique()}
    return [found[product_id] for product_id in ids if product_id in found]


def facilities_by_region() -> list[tuple[RegionInfo, list[tuple[FacilityInfo, int]]]]:
    """Every region with its active facilities and how many products each has on sale (cached)."""
    return remembered("regions", _build_regions)


def _build_regions() -> list[tuple[RegionInfo, list[tuple[FacilityInfo, int]]]]:
    counts: dict[int, int] = {facility_id: n for facility_id, n in db.session.execute(
        _visible().with_only_columns(Product.facility_id, func.count(Product.id)).group_by(Product.facility_id))}
    regions = db.session.scalars(
        select(Region).options(selectinload(Region.facilities)).order_by(Region.name))
    result = []
    for region in regions:
        info = RegionInfo(region.slug, region.name, region.office, region.city)
        result.append((info, [(FacilityInfo(f.id, f.slug, f.name, f.kind, f.facility_class, f.city, f.story_id,
                                            f.story_en, info), counts.get(f.id, 0))
                              for f in region.facilities if f.active]))
    return result


def facility_by_slug(slug: str) -> tuple[FacilityInfo, int]:
    """An active facility and how many products it has on sale, from the cached list of regions (no query
    while the catalog is unchanged)."""
    for _region, facilities in facilities_by_region():
        for facility, count in facilities:
            if facility.slug == slug:
                return facility, count
    raise NotFound(slug)


def product_by_slug(slug: str) -> Product:
    """The product with what its page shows loaded, and `next_best_before`: the best-before date of the units a
    buyer would receive next (first expiring, first out), read in the same query."""
    row = db.session.execute(_visible().add_columns(lots.next_best_before()).options(*product_loading())
                             .where(Product.slug == slug)).first()
    if row is None:
        raise NotFound(slug)
    product, product.next_best_before = row
    return product


def shop_figures(regions: list[tuple[RegionInfo, list[tuple[FacilityInfo, int]]]]) -> dict[str, int]:
    """The figures on the home page, counted from the same list the facilities page shows."""
    return {"facilities": sum(len(facilities) for _region, facilities in regions),
            "products": sum(count for _region, facilities in regions for _facility, count in facilities)}
