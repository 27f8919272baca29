"""Catalog pages run a fixed number of SQL queries, whatever the number of products."""

from __future__ import annotations

import pytest

from shop.certification.models import CertType
from shop.extensions import db
from tests import factories as f


def build_catalog(count: int) -> tuple[str, str]:
    facility = f.facility()
    food = f.food_category()
    first = None
    for n in range(count):
        item = f.product(facility=facility, category=food if n % 2 else f.category(), name_id=f"Produk {n}")
        f.certificate(item, CertType.HALAL)
        first = first or item
    db.session.commit()
    return facility.slug, first.slug


def queries_for(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


@pytest.mark.parametrize("page", ["/", "/produk", "/produk?halal=1&sort=price_asc", "/fasilitas",
                                  "facility", "product"])
def test_catalog_page_queries_do_not_grow_with_products(client, count_queries, page):
    counts = []
    for size in (5, 100):
        from tests.conftest import empty_all_tables

        empty_all_tables()
        facility_slug, product_slug = build_catalog(size)
        url = {"facility": f"/fasilitas/{facility_slug}", "product": f"/produk/{product_slug}"}.get(page, page)
        counts.append(queries_for(client, count_queries, url))

    assert counts[0] == counts[1], counts
    assert counts[0] <= 8
