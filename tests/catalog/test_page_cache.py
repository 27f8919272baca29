"""Whole catalog pages are kept for anonymous visitors and served again without a query (a repeat view by the
same browser costs a 304), yet a change to a product, its stock state or its certificates shows at once, each
visitor gets a CSRF token of their own, and nobody sees a page meant for someone else."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.catalog.models import Product, StockReason
from shop.catalog.stock import change_stock
from shop.extensions import db
from shop.orders import service as orders
from tests import factories as f
from tests.customers.test_accounts import register
from tests.helpers import logged_in, text_of


@pytest.fixture
def bag():
    item = f.product(slug="tas-rajut", name_id="Tas Rajut Selempang", price=175_000, stock=7)
    f.courier()
    db.session.commit()
    return item


def test_a_repeat_view_runs_no_query_and_a_browser_that_has_it_gets_a_304(client, count_queries, bag):
    first = client.get("/produk/tas-rajut")
    with count_queries() as counter:
        again = client.get("/produk/tas-rajut")
    assert counter.count == 0
    assert again.get_data() == first.get_data().replace(*_tokens(first, again))
    assert again.headers["ETag"] and "no-cache" in again.headers["Cache-Control"]

    unchanged = client.get("/produk/tas-rajut", headers={"If-None-Match": again.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""


def _tokens(first, second) -> tuple[bytes, bytes]:
    pattern = rb'name="csrf_token" value="([^"]+)"'
    return re.search(pattern, first.get_data()).group(1), re.search(pattern, second.get_data()).group(1)


def test_a_price_change_shows_at_once(client, bag):
    assert "Rp175.000" in text_of(client.get("/produk"))
    db.session.get(Product, bag.id).price = 150_000
    db.session.commit()

    assert "Rp150.000" in text_of(client.get("/produk"))
    assert "Rp150.000" in text_of(client.get("/produk/tas-rajut"))


def test_the_last_units_sold_show_sold_out_at_once(client, bag):
    assert "Tinggal 7" not in text_of(client.get("/produk/tas-rajut"))  # 7 is plenty: no "only N left"
    orders.place_order({bag.id: 3}, f.BUYER, f.courier().id)
    db.session.commit()
    assert "Tinggal 4" in text_of(client.get("/produk/tas-rajut"))
    orders.place_order({bag.id: 4}, f.BUYER, f.courier().id)
    db.session.commit()

    assert "Habis" in text_of(client.get("/produk/tas-rajut"))
    assert "Habis" in text_of(client.get("/produk"))


def test_each_visitor_of_a_cached_page_gets_a_token_that_works_for_them(app, bag):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for _ in range(2):  # the second visitor is served the cached page
            visitor = app.test_client()
            page = visitor.get("/produk/tas-rajut").get_data(as_text=True)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            added = visitor.post("/keranjang/tambah", data={"product_id": bag.id, "quantity": 1,
                                                            "csrf_token": token})
            assert added.status_code == 302
            with visitor.session_transaction() as session:
                assert session["cart"] == {str(bag.id): 1}
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_visitor_with_a_cart_or_a_message_and_staff_see_their_own_page(app, client, bag):
    client.get("/produk/tas-rajut")  # cached for visitors with an empty cart
    client.post("/keranjang/tambah", data={"product_id": bag.id, "quantity": 2})
    page = client.get("/produk/tas-rajut", follow_redirects=True).get_data(as_text=True)
    assert 'class="cart-count"' in page and ">2<" in page

    staff = logged_in(app, "fulfilment")
    assert "Staf" in text_of(staff.get("/produk/tas-rajut"))
    assert "Staf" not in text_of(app.test_client().get("/produk/tas-rajut"))


def test_a_certificate_revoked_takes_the_product_off_sale_at_once(client):
    food = f.certified_food(slug="bawang-goreng", name_id="Bawang Goreng Palu")
    db.session.commit()
    assert "Habis" not in text_of(client.get("/produk/bawang-goreng"))
    page = client.get("/produk/bawang-goreng").get_data(as_text=True)
    assert 'name="csrf_token"' in page  # the buy form is there

    from shop.certification.models import RecordedStatus

    food = db.session.scalar(select(Product).where(Product.slug == "bawang-goreng"))
    food.certifications[0].status = RecordedStatus.REVOKED
    db.session.commit()

    assert "Segera hadir" in text_of(client.get("/produk/bawang-goreng"))


def test_with_the_cache_server_down_the_catalog_still_answers(tmp_path):
    from shop import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite'}", "SECRET_KEY": "x",
                      "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": "redis://127.0.0.1:9/0"})  # nothing there
    with app.app_context():
        db.create_all()
        f.product(slug="tas-rajut", name_id="Tas Rajut Selempang")
        db.session.commit()
        db.engine.dispose()
    client = app.test_client()
    for url in ("/", "/produk", "/produk/tas-rajut", "/fasilitas"):
        assert client.get(url).status_code == 200, url
    assert "Tas Rajut Selempang" in text_of(client.get("/produk"))


def test_a_signed_in_customer_is_served_the_shared_page_with_their_own_header(app, client, count_queries, bag):
    """What a signed-in visitor sees on a catalog page is kept for every visitor but the header's cart link and
    account links and any message: the page costs only the query that loads the visitor, and no visitor's own
    parts reach anyone else."""
    client.get("/produk/tas-rajut")  # kept for everybody
    customer = app.test_client()
    register(customer)
    customer.post("/keranjang/tambah", data={"product_id": bag.id, "quantity": 2})
    customer.get("/produk/tas-rajut")  # the message of the cart (a message is never kept for others)

    with count_queries() as counter:
        page = customer.get("/produk/tas-rajut")
    assert counter.count <= 1  # the visitor; the product, its photos and certificates come from the cache
    text = text_of(page)
    assert "Akun saya" in text and "Keluar" in text and "Tas Rajut Selempang" in text
    assert 'class="cart-count"' in page.get_data(as_text=True)
    assert "\x1e" not in page.get_data(as_text=True)

    anonymous = app.test_client().get("/produk/tas-rajut").get_data(as_text=True)
    assert "Akun saya" not in anonymous and 'class="cart-count"' not in anonymous and "Masuk" in anonymous

    staff = logged_in(app, "fulfilment")
    assert "Staf" in text_of(staff.get("/produk/tas-rajut")) and "Akun saya" not in text_of(staff.get("/produk"))


def test_a_message_shows_once_on_a_shared_page(client, bag):
    client.get("/produk/tas-rajut")
    client.post("/keranjang/tambah", data={"product_id": bag.id, "quantity": 1})  # its message waits
    shown = text_of(client.get("/produk/tas-rajut"))
    again = text_of(client.get("/produk/tas-rajut"))
    assert "ditambahkan" in shown.lower() and "ditambahkan" not in again.lower()


def test_a_page_missing_shows_a_whole_header_and_leaves_nothing_kept(client, bag):
    missing = client.get("/produk/tidak-ada")
    assert missing.status_code == 404
    assert "\x1e" not in missing.get_data(as_text=True) and 'class="cart-link"' in missing.get_data(as_text=True)


def test_the_kept_filter_form_shows_each_visitors_own_choice_in_their_language(app, client, bag):
    """The product list's filter form is kept per choice of filters and language: each shows its own choice."""
    app.config["CATALOG_PAGE_CACHE"] = False  # the form itself, not a kept page
    try:
        food = f.food_category(slug="makanan", name_id="Makanan", name_en="Food")
        db.session.commit()
        plain = client.get("/produk").get_data(as_text=True)
        chosen = client.get("/produk?category=makanan&min_price=5000&in_stock=1").get_data(as_text=True)
        client.get("/bahasa/en")
        english = client.get("/produk?category=makanan").get_data(as_text=True)
    finally:
        app.config["CATALOG_PAGE_CACHE"] = True
    assert f'value="{food.slug}" selected' not in plain and 'name="in_stock" value="1" checked' not in plain
    assert f'value="{food.slug}" selected>Makanan' in chosen and 'value="5000"' in chosen
    assert 'name="in_stock" value="1" checked' in chosen
    assert f'value="{food.slug}" selected>Food' in english and "Sort by" in english


def test_a_new_split_rule_shows_on_the_product_page_at_once(client, bag):
    """The product page says where the buyer's money goes: a split rule finance add shows on the kept page at
    once (a rule is a catalog change)."""
    from shop.ledger.models import Part
    from tests.ledger.factories import rule

    rule({Part.PNBP: 1000, Part.PREMI: 1000, Part.COOPERATIVE: 7000, Part.PRODUCTION_CAPITAL: 1000})
    db.session.commit()
    assert "Rp17.500" in text_of(client.get("/produk/tas-rajut"))  # 10 % PNBP of Rp175.000
    rule({Part.PNBP: 2000, Part.PREMI: 1000, Part.COOPERATIVE: 6000, Part.PRODUCTION_CAPITAL: 1000},
         facility=db.session.get(Product, bag.id).facility)
    db.session.commit()

    assert "Rp35.000" in text_of(client.get("/produk/tas-rajut"))  # the facility's own rule: 20 %


def test_after_a_browser_restart_a_kept_page_with_a_form_is_sent_anew_with_a_token_of_the_new_session(app, bag):
    browser = app.test_client()
    browser.get("/produk/tas-rajut")
    kept = browser.get("/produk/tas-rajut")
    assert browser.get("/produk/tas-rajut", headers={"If-None-Match": kept.headers["ETag"]}).status_code == 304

    restarted = app.test_client()  # the same browser cache, but its session cookie is gone
    page = restarted.get("/produk/tas-rajut", headers={"If-None-Match": kept.headers["ETag"]})

    assert page.status_code == 200 and page.headers["ETag"] != kept.headers["ETag"]
    assert _tokens(kept, page)[0] != _tokens(kept, page)[1]


def test_a_kept_product_page_shows_the_exact_stock_and_a_sale_renews_that_page_alone(client, bag):
    """The product page says "Stok: 7" and lets the buyer ask for at most 7. Stock above "only N left" is the
    product page's own version (`stock_version`): a sale or a restock renews that page at once, while the kept
    listing (which says only "Tersedia") is served again as it was, with the same ETag."""
    def page() -> tuple[str, str]:
        response = client.get("/produk/tas-rajut")
        return text_of(response), re.search(r'name="quantity"[^>]*max="(\d+)"', response.get_data(as_text=True))[1]

    listing = client.get("/produk")
    shown, limit = page()
    assert "Stok: 7" in shown and limit == "7"
    change_stock(bag.id, 93, StockReason.PRODUCTION)
    db.session.commit()
    shown, limit = page()
    assert "Stok: 100" in shown and limit == "99"
    orders.place_order({bag.id: 2}, f.BUYER, f.courier().id)
    db.session.commit()
    assert "Stok: 98" in page()[0]
    again = client.get("/produk")
    assert again.headers["ETag"] == listing.headers["ETag"]  # the catalog's generation did not move
    change_stock(bag.id, -95, StockReason.CORRECTION)
    db.session.commit()
    shown, limit = page()
    assert "Tinggal 3" in shown and limit == "3"
    assert "Tinggal 3" in text_of(client.get("/produk"))


@pytest.mark.parametrize("query, kept", [
    ("", True), ("?category={category}", True), ("?sort=price_asc&page=2", True),
    ("?q=tas", False), ("?min_price=1000", False), ("?category=no-such-category", False), ("?utm_source=x", False),
    ("?page=999", False),
])
def test_only_addresses_made_of_the_catalogs_own_choices_are_kept(client, bag, query, kept):
    """What a visitor types into an address (a search, a price, a made-up slug or parameter) is rendered for them
    and not kept (no ETag, no 304): the kept pages are bounded by the catalog, not by the addresses people send."""
    url = "/produk" + query.format(category=bag.category.slug)
    client.get(url)
    again = client.get(url)
    assert again.status_code == 200
    assert ("ETag" in again.headers) is kept
