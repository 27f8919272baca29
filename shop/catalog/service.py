"""Catalog queries for the public pages: filtered, sorted, paginated, with a fixed number of SQL queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from shop.catalog.models import Category, Facility, Product, Region
from shop.extensions import db

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
    min_price: int | None = None
    max_price: int | None = None
    sort: str = "newest"
    page: int = 1


@dataclass(frozen=True)
class CatalogOptions:
    """What the filter controls offer."""

    categories: list[Category]
    regions: list[Region]
    facility_slugs: set[str] = field(default_factory=set)
    region_slugs: set[str] = field(default_factory=set)
    category_slugs: set[str] = field(default_factory=set)


def card_loading() -> list:
    """Everything a product card shows, loaded in a fixed number of queries."""
    return [
        joinedload(Product.facility).joinedload(Facility.region),
        joinedload(Product.category),
        selectinload(Product.images),
        selectinload(Product.certifications),
    ]


def _visible() -> Select:
    return select(Product).join(Product.facility).where(Product.active.is_(True), Facility.active.is_(True))


def catalog_options() -> CatalogOptions:
    categories = list(db.session.scalars(select(Category).order_by(Category.position, Category.slug)))
    regions = list(db.session.scalars(
        select(Region).options(selectinload(Region.facilities)).order_by(Region.name)
    ))
    return CatalogOptions(
        categories=categories,
        regions=regions,
        facility_slugs={f.slug for r in regions for f in r.facilities if f.active},
        region_slugs={r.slug for r in regions},
        category_slugs={c.slug for c in categories},
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def product_query(filters: ProductFilter) -> Select:
    query = _visible()
    if filters.q:
        pattern = f"%{_escape_like(filters.q)}%"
        query = query.where(or_(Product.name_id.ilike(pattern, escape="\\"),
                                Product.name_en.ilike(pattern, escape="\\")))
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
        from shop.certification.queries import with_valid_halal

        query = with_valid_halal(query)
    order: tuple[Any, ...] = {
        "newest": (Product.created_at.desc(), Product.id.desc()),
        "price_asc": (Product.price.asc(), Product.id.asc()),
        "price_desc": (Product.price.desc(), Product.id.desc()),
        "name": (Product.name_id.asc(), Product.id.asc()),
    }[filters.sort if filters.sort in SORTS else "newest"]
    return query.order_by(*order)


def list_products(filters: ProductFilter, per_page: int) -> Pagination:
    return db.paginate(product_query(filters).options(*card_loading()), page=filters.page,
                       per_page=per_page, error_out=False, count=True)


def featured_products(limit: int = 8) -> list[Product]:
    query = _visible().options(*card_loading()).order_by(
        Product.featured.desc(), Product.created_at.desc(), Product.id.desc()).limit(limit)
    return list(db.session.scalars(query).unique())


def facilities_by_region() -> list[tuple[Region, list[tuple[Facility, int]]]]:
    """Every region with its active facilities and how many products each has on sale."""
    counts: dict[int, int] = {facility_id: n for facility_id, n in db.session.execute(
        _visible().with_only_columns(Product.facility_id, func.count(Product.id)).group_by(Product.facility_id))}
    regions = db.session.scalars(
        select(Region).options(selectinload(Region.facilities)).order_by(Region.name))
    return [
        (region, [(f, counts.get(f.id, 0)) for f in region.facilities if f.active])
        for region in regions
    ]


def facility_by_slug(slug: str) -> Facility:
    facility = db.session.scalar(
        select(Facility).options(joinedload(Facility.region))
        .where(Facility.slug == slug, Facility.active.is_(True)))
    if facility is None:
        raise NotFound(slug)
    return facility


def product_by_slug(slug: str) -> Product:
    product = db.session.scalar(_visible().options(*card_loading()).where(Product.slug == slug))
    if product is None:
        raise NotFound(slug)
    return product


def shop_figures(regions: list[tuple[Region, list[tuple[Facility, int]]]]) -> dict[str, int]:
    """The figures on the home page, counted from the same list the facilities page shows."""
    return {"facilities": sum(len(facilities) for _region, facilities in regions),
            "products": sum(count for _region, facilities in regions for _facility, count in facilities)}
