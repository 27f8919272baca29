"""What a buyer sees on the public catalog pages."""

from __future__ import annotations

import re
from datetime import date

from shop.catalog.models import FacilityKind
from shop.certification.models import CertType, RecordedStatus
from shop.extensions import db
from tests import factories as f


def text_of(response) -> str:
    """The page's HTML with white space collapsed and the marks of matched search words (<mark>) left out."""
    return re.sub(r"\s+", " ", re.sub(r"</?mark>", "", response.get_data(as_text=True)))


def test_home_shows_featured_products_and_their_facilities(client):
    palu = f.region(name="Sulawesi Tengah", slug="sulawesi-tengah")
    lapas = f.facility(region=palu, name="Lapas Perempuan Kelas III Palu", slug="lapas-perempuan-palu")
    f.product(facility=lapas, name_id="Tas Rajut Selempang", featured=True, price=175_000)
    db.session.commit()

    page = text_of(client.get("/"))

    assert "Tas Rajut Selempang" in page
    assert "Rp175.000" in page
    assert "Lapas Perempuan Kelas III Palu" in page
    assert "Sulawesi Tengah" in page


def test_facilities_are_grouped_by_region_with_kind_class_city_and_story(client):
    sulteng = f.region(name="Sulawesi Tengah")
    jambi = f.region(name="Jambi")
    f.facility(region=sulteng, name="Rutan Kelas IIB Donggala", kind=FacilityKind.RUTAN, facility_class="IIB",
               city="Donggala", story_id="Tenun dan kerajinan khas Donggala.")
    f.facility(region=jambi, name="Lapas Kelas IIB Kuala Tungkal", city="Kuala Tungkal")
    db.session.commit()

    page = text_of(client.get("/fasilitas"))
    page = text_of(client.get("/fasilitas")).split("<main", 1)[1]
    assert page.index("Jambi") < page.index("Lapas Kelas IIB Kuala Tungkal") < page.index("Sulawesi Tengah")
    assert page.index("Sulawesi Tengah") < page.index("Rutan Kelas IIB Donggala")
    assert "Rumah Tahanan" in page or "Rutan" in page
    assert "Kelas IIB" in page
    assert "Tenun dan kerajinan khas Donggala." in page


def test_facility_page_shows_its_story_and_only_its_products(client):
    mine = f.facility(name="Lapas Kelas III Parigi", story_id="Perikanan dari Teluk Tomini.")
    other = f.facility()
    f.product(facility=mine, name_id="Abon Ikan Tuna")
    f.product(facility=other, name_id="Kursi Kayu Jati")
    db.session.commit()

    page = text_of(client.get(f"/fasilitas/{mine.slug}"))

    assert "Perikanan dari Teluk Tomini." in page
    assert "Abon Ikan Tuna" in page
    assert "Kursi Kayu Jati" not in page


def test_product_page_shows_price_weight_stock_facility_and_certificates(client):
    item = f.certified_food(name_id="Bawang Goreng Khas Palu 200 g", price=45_000, weight_g=250, stock=3)
    db.session.commit()

    page = text_of(client.get(f"/produk/{item.slug}"))

    assert "Bawang Goreng Khas Palu 200 g" in page
    assert "Rp45.000" in page
    assert "250 g" in page
    assert item.facility.name in page
    assert "Tinggal 3" in page
    assert "Halal ID311100000000000009" in page
    assert "P-IRT 2097271010001-29" in page


def test_product_with_expired_permit_is_shown_as_temporarily_unavailable(client, app):
    item = f.product(category=f.food_category(), name_id="Ikan Teri Asin")
    f.certificate(item, CertType.HALAL)
    f.certificate(item, CertType.PIRT, expires_on=date(2025, 10, 1))
    db.session.commit()

    page = text_of(client.get(f"/produk/{item.slug}"))

    assert "Segera hadir" in page
    assert "kedaluwarsa" in page  # the product page keeps the detail, under "Certification"
    listing = text_of(client.get("/produk"))
    listing = listing[listing.index("<main"):]
    assert "Segera hadir" in listing and "kedaluwarsa" not in listing  # a card says it neutrally


def test_product_in_process_shows_in_process_badge(client):
    item = f.product(category=f.food_category())
    f.certificate(item, CertType.HALAL, number="", status=RecordedStatus.IN_PROCESS)
    db.session.commit()

    page = text_of(client.get("/produk"))

    assert "Halal: dalam proses" in page


def test_products_filter_by_facility_region_category_and_stock(client):
    region_a, region_b = f.region(), f.region()
    fac_a, fac_b = f.facility(region=region_a), f.facility(region=region_b)
    crafts = f.category(slug="kerajinan")
    f.product(facility=fac_a, category=crafts, name_id="Anyaman A", stock=5)
    f.product(facility=fac_b, name_id="Kopi B", stock=0)
    db.session.commit()

    def names(query: str) -> set[str]:  # among the results (not the suggestions shown when nothing is found)
        page = text_of(client.get(f"/produk?{query}")).split('class="featured-heading"')[0]
        return {n for n in ("Anyaman A", "Kopi B") if n in page}

    assert names("") == {"Anyaman A", "Kopi B"}
    assert names(f"facility={fac_b.slug}") == {"Kopi B"}
    assert names(f"region={region_a.slug}") == {"Anyaman A"}
    assert names("category=kerajinan") == {"Anyaman A"}
    assert names("in_stock=1") == {"Anyaman A"}
    assert names("q=kopi") == {"Kopi B"}
    assert names("q=100%25") == set()


def test_halal_filter_keeps_only_products_with_a_valid_halal_certificate(client):
    f.certified_food(name_id="Keripik Halal")
    expired = f.product(category=f.food_category(), name_id="Teri Lama")
    f.certificate(expired, CertType.HALAL, status=RecordedStatus.REVOKED)
    f.product(name_id="Tas Rajut")
    db.session.commit()

    page = text_of(client.get("/produk?halal=1"))

    assert "Keripik Halal" in page
    assert "Teri Lama" not in page and "Tas Rajut" not in page


def test_permit_filters_keep_products_with_a_valid_bpom_or_pirt_registration(client):
    f.certified_food(name_id="Keripik Rumahan")  # halal and P-IRT
    registered = f.product(category=f.food_category(), name_id="Abon Ikan")
    f.certificate(registered, CertType.HALAL)
    f.certificate(registered, CertType.BPOM_MD, issuer="BPOM", expires_on=date(2030, 1, 1))
    lapsed = f.product(category=f.food_category(), name_id="Teri Lama")
    f.certificate(lapsed, CertType.BPOM_MD, issuer="BPOM", status=RecordedStatus.REVOKED)
    f.product(name_id="Tas Rajut")
    db.session.commit()

    bpom = text_of(client.get("/produk?bpom=1"))
    pirt = text_of(client.get("/produk?pirt=1"))
    form = client.get("/produk?bpom=1").get_data(as_text=True)

    assert "Abon Ikan" in bpom and "Keripik Rumahan" not in bpom and "Teri Lama" not in bpom
    assert "Keripik Rumahan" in pirt and "Abon Ikan" not in pirt and "Tas Rajut" not in pirt
    assert 'name="bpom" value="1" checked' in form and "Izin BPOM (MD/ML)" in text_of(client.get("/produk"))


def test_products_sort_by_price_and_paginate(client, app):
    fac = f.facility()
    for price in (30_000, 10_000, 20_000):
        f.product(facility=fac, name_id=f"Harga {price}", price=price)
    db.session.commit()
    app.config["PRODUCTS_PER_PAGE"] = 2
    try:
        first = text_of(client.get("/produk?sort=price_asc"))
        second = text_of(client.get("/produk?sort=price_asc&page=2"))
        descending = text_of(client.get("/produk?sort=price_desc"))
    finally:
        app.config["PRODUCTS_PER_PAGE"] = 24

    assert first.index("Harga 10000") < first.index("Harga 20000")
    assert "Harga 30000" not in first and "Harga 30000" in second
    assert "Halaman 2 dari 2" in second
    assert descending.index("Harga 30000") < descending.index("Harga 20000")


def test_english_switches_texts_and_money_format(client):
    item = f.product(name_id="Tas Rajut Tote", name_en="Crochet Tote", price=225_000)
    db.session.commit()

    indonesian = text_of(client.get(f"/produk/{item.slug}"))
    client.get("/bahasa/en?next=/")
    english = text_of(client.get(f"/produk/{item.slug}"))

    assert "Rp225.000" in indonesian and "Tas Rajut Tote" in indonesian and "Berat" in indonesian
    assert "IDR 225,000" in english and "Crochet Tote" in english and "Shipping weight" in english


def test_language_switch_only_follows_local_next_targets(client):
    assert client.get("/bahasa/en?next=/produk").headers["Location"] == "/produk"
    assert client.get("/bahasa/en?next=https://evil.example/").headers["Location"] == "/"
    assert client.get("/bahasa/en?next=//evil.example/").headers["Location"] == "/"


def test_inactive_products_and_facilities_are_hidden(client):
    hidden_facility = f.facility(active=False)
    f.product(facility=hidden_facility, name_id="Dari Fasilitas Nonaktif")
    off = f.product(name_id="Produk Nonaktif", active=False)
    db.session.commit()

    assert "Dari Fasilitas Nonaktif" not in text_of(client.get("/produk"))
    assert client.get(f"/produk/{off.slug}").status_code == 404
    assert client.get(f"/fasilitas/{hidden_facility.slug}").status_code == 404


def test_facility_page_shows_one_page_of_products_and_links_to_all_of_them(app, client):
    mine = f.facility()
    for n in range(app.config["PRODUCTS_PER_PAGE"] + 3):
        f.product(facility=mine, name_id=f"Keripik {n:02d}")
    db.session.commit()

    response = client.get(f"/fasilitas/{mine.slug}")
    html = response.get_data(as_text=True)

    assert html.count('class="card product-card"') == app.config["PRODUCTS_PER_PAGE"]
    assert f"Lihat semua {app.config['PRODUCTS_PER_PAGE'] + 3} produk dari fasilitas ini" in html
    assert f'href="/produk?facility={mine.slug}"' in html


def test_the_home_page_counts_the_facilities_the_facilities_page_lists(client):
    f.product(facility=f.facility(name="Lapas Kelas IIA Palu"))
    f.facility(name="Bapas Luwuk")  # no products on sale yet, still listed
    db.session.commit()

    home = text_of(client.get("/"))
    listed = text_of(client.get("/fasilitas"))

    assert "Bapas Luwuk" in listed and "<strong>2</strong> UPT" in home


def test_the_browser_finds_a_favicon(client):
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)


def test_demo_mode_says_so_on_every_page(app, client, monkeypatch):
    assert "Toko demo" not in text_of(client.get("/"))
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    assert "Toko demo: pesanan, pembayaran, dan orang di sini hanya contoh" in text_of(client.get("/produk"))
    login = text_of(client.get("/masuk"))
    assert "keuangan@demo.karyabinaan.id" in login and "karyabinaan-demo" in login


def test_a_product_page_tells_search_engines_and_link_previews_its_name_photo_price_and_stock(client):
    import json

    from tests.helpers import text_of as visible

    item = f.certified_food(name_id="Bawang Goreng Palu", price=45_000, stock=3,
                            description_id="Bawang merah Palu digoreng renyah.")
    db.session.commit()

    html = client.get(f"/produk/{item.slug}").get_data(as_text=True)

    assert '<meta name="description" content="Bawang merah Palu digoreng renyah.">' in html
    assert '<meta property="og:title" content="Bawang Goreng Palu · Rp45.000">' in html
    assert '<meta property="product:price:currency" content="IDR">' in html
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["@type"] == "Product" and data["name"] == "Bawang Goreng Palu"
    assert data["offers"]["price"] == "45000" and data["offers"]["priceCurrency"] == "IDR"
    assert data["offers"]["availability"] == "https://schema.org/InStock"
    page = visible(client.get(f"/produk/{item.slug}"))
    assert "Periksa di halal.go.id" in page and 'href="https://halal.go.id/"' in html
    assert "P-IRT" in page  # home-industry permits have no national public register: no link for them
    assert 'href="https://cekbpom.pom.go.id/"' not in html
    for path in ("/", "/produk"):
        assert '<meta name="description" content="' in client.get(path).get_data(as_text=True)


def test_cards_show_short_certificate_badges_and_the_product_page_the_number(client):
    item = f.certified_food(name_id="Bawang Goreng Palu")
    db.session.commit()
    halal = next(c for c in item.certifications if c.cert_type == CertType.HALAL)

    listing = client.get("/produk").get_data(as_text=True)
    card = listing.split(f'data-product="{item.slug}"', 1)[1].split("</article>", 1)[0]

    assert ">Halal</li>" in card and ">P-IRT</li>" in card and halal.number not in card
    assert halal.number in client.get(f"/produk/{item.slug}").get_data(as_text=True)


def test_static_files_carry_their_content_hash_and_are_kept_for_a_year(app, client):
    from flask import url_for

    with app.test_request_context():
        stylesheet = url_for("static", filename="css/shop.css")
    assert re.fullmatch(r"/static/css/shop\.css\?v=[0-9a-f]{12}", stylesheet)
    assert stylesheet in client.get("/").get_data(as_text=True)

    with client.get(stylesheet) as versioned:
        assert versioned.status_code == 200
        assert "immutable" in versioned.headers["Cache-Control"] and "max-age=31536000" in versioned.headers[
            "Cache-Control"]
    with client.get("/static/css/shop.css?v=000000000000") as stale:  # an old URL: checked again every time
        assert "no-cache" in stale.headers["Cache-Control"] and "immutable" not in stale.headers["Cache-Control"]


def test_the_filter_forms_facility_list_offers_every_active_facility_under_its_region(client):
    """Reported: the kept filter form's facility drop-down held only "All facilities" and empty region headings."""
    region = f.region(name="Sulawesi Tengah")
    f.facility(name="Lapas Perempuan Kelas III Palu", slug="lapas-perempuan-palu", region=region)
    f.facility(name="Rutan Tutup", slug="rutan-tutup", region=region, active=False)
    db.session.commit()

    page = client.get("/produk").get_data(as_text=True)
    select_facility = page[page.index('<select id="facility"'):]
    select_facility = select_facility[:select_facility.index("</select>")]

    assert '<option value="lapas-perempuan-palu"' in select_facility
    assert "Lapas Perempuan Kelas III Palu" in select_facility
    assert "rutan-tutup" not in select_facility


def test_every_page_says_who_runs_the_shop_and_links_its_terms_returns_privacy_and_contact(app, client):
    """PP 80/2019: who runs the shop and how to reach them, the terms of sale, returns and refunds, and personal
    data (UU 27/2022), in both languages; WhatsApp links carry the order number where there is one."""
    contact = app.config["SHOP_CONTACT"]
    home = client.get("/").get_data(as_text=True)
    for shown in (contact["operator"], contact["address"], contact["phone"], contact["email"], contact["hours"],
                  f'href="https://wa.me/{contact["whatsapp"]}"', 'href="/syarat-penjualan"', 'href="/pengembalian"',
                  'href="/privasi"', 'href="/kontak"'):
        assert shown in home

    for path, heading in (("/syarat-penjualan", "Syarat penjualan"), ("/pengembalian", "Pengembalian barang dan dana"),
                          ("/privasi", "Privasi"), ("/kontak", "Kontak")):
        assert heading in text_of(client.get(path))
    assert "UU 27 Tahun 2022" in text_of(client.get("/privasi"))

    asked = client.get("/kontak?pesanan=KB-2026-000123").get_data(as_text=True)
    assert "pesanan%20KB-2026-000123" in asked

    client.get("/bahasa/en")
    assert "Terms of sale" in text_of(client.get("/syarat-penjualan"))


def test_the_footer_and_main_menu_kept_per_language_follow_the_readers_language(client):
    """The footer and main menu are rendered once per language and process (`per_language`): a reader of the
    other language gets their own, not the first one rendered."""
    first = text_of(client.get("/fasilitas"))
    assert "Lacak pesanan" in first and "Syarat penjualan" in first
    client.get("/bahasa/en")
    other = text_of(client.get("/fasilitas"))
    assert "Track order" in other and "Terms of sale" in other
    assert "Lacak pesanan" not in other and "Syarat penjualan" not in other
    client.get("/bahasa/id")
    assert "Lacak pesanan" in text_of(client.get("/produk"))
