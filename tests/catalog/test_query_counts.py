"""Catalog pages run a fixed number of SQL queries, whatever the number of products."""

from __future__ import annotations

import pytest

from shop.certification.models import CertType
from shop.extensions import cache, db
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


BUDGET = {"/": 3, "/produk": 3, "/produk?halal=1&sort=price_asc": 3, "/fasilitas": 3, "facility": 3,
          "product": 4}


def variant(url: str, n: int) -> str:
    """The same page under another address: never kept (an unknown parameter), everything else the same."""
    return url + ("&" if "?" in url else "?") + f"variant={n}"


@pytest.mark.parametrize("page", list(BUDGET))
def test_catalog_pages_stay_within_their_query_budget_whatever_the_number_of_products(client, count_queries,
                                                                                       page):
    """A listing rendered with none of its cards cached runs at most 3 queries, a product page 4; with its
    cards cached a listing runs 1; a repeat view by an anonymous visitor runs none. The same for 5 products as
    for 100."""
    cold, warm, repeated = [], [], []
    for size in (5, 100):
        from tests.conftest import empty_all_tables

        empty_all_tables()
        cache.clear()
        facility_slug, product_slug = build_catalog(size)
        url = {"facility": f"/fasilitas/{facility_slug}", "product": f"/produk/{product_slug}"}.get(page, page)
        client.get("/fasilitas")  # the filter options and facility lists, once per catalog change
        client.get("/produk?page=999")
        cold.append(queries_for(client, count_queries, url))
        warm.append(queries_for(client, count_queries, variant(url, 1)))
        repeated.append(queries_for(client, count_queries, url))  # kept by its first view

    assert cold[0] == cold[1] and warm[0] == warm[1], (cold, warm)
    assert cold[0] <= BUDGET[page], cold
    assert warm[0] <= (4 if page == "product" else 1), warm
    assert repeated == [0, 0]


def test_a_kept_listing_renders_the_cards_it_lacks_from_the_ids_it_kept(app, client, count_queries):
    """A listing page is kept as the ids of its products: in another language (no card of it cached yet) the
    products are loaded by those ids, three queries in all, and each card is that language's; once its cards
    are kept too, the listing runs no query at all."""
    app.config["CATALOG_PAGE_CACHE"] = False  # the listing itself, not a kept page
    try:
        food = f.food_category()
        for n in range(30):
            item = f.product(category=food, name_id=f"Abon Ikan {n}", name_en=f"Fish Floss {n}")
            f.certificate(item, CertType.HALAL)
        db.session.commit()
        client.get("/fasilitas")
        indonesian = client.get("/produk?sort=name").get_data(as_text=True)
        client.get("/bahasa/en")
        with count_queries() as counter:
            english = client.get("/produk?sort=name").get_data(as_text=True)
        with count_queries() as again:
            assert "Fish Floss 0" in client.get("/produk?sort=name").get_data(as_text=True)
    finally:
        app.config["CATALOG_PAGE_CACHE"] = True
    assert counter.count == 3 and again.count == 0
    assert "Abon Ikan 0" in indonesian and "Fish Floss 0" not in indonesian
    assert "Fish Floss 0" in english and "Abon Ikan 0" not in english
    assert english.count('class="card product-card"') == indonesian.count('class="card product-card"') == 24
