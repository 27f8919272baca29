"""Bad query strings and unknown slugs never give a 500."""

from __future__ import annotations

import pytest

from shop.extensions import db
from tests import factories as f


@pytest.fixture
def catalog_data() -> None:
    f.product(slug="tas-rajut", name_id="Tas Rajut")
    db.session.commit()


@pytest.mark.parametrize("query, notice", [
    ("page=-1", "Tidak ada halaman"),
    ("page=abc", "Tidak ada halaman"),
    ("page=99999999999999999999", None),
    ("min_price=abc", "bukan bilangan"),
    ("max_price=-5", "bukan bilangan"),
    ("min_price=1.5", None),
    ("facility=tidak-ada", "Fasilitas tidak dikenal"),
    ("region=tidak-ada", "Wilayah tidak dikenal"),
    ("category='%20OR%201=1--", "Kategori tidak dikenal"),
    ("sort=drop table", None),
    ("q=" + "x" * 5000, None),
    ("q=%25%25_", None),
    ("in_stock=maybe", None),
    ("page=2", None),
])
def test_bad_catalog_parameters_give_a_normal_page(client, catalog_data, query, notice):
    response = client.get(f"/produk?{query}")

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Produk" in body
    if notice:
        assert notice in body


@pytest.mark.parametrize("url", ["/produk?region=%00", "/pesanan/KB%00/bayar", "/produk?q=tas%00"])
def test_a_nul_character_anywhere_gets_a_clear_400_page_in_the_visitors_language(client, catalog_data, url):
    response = client.get(url)

    assert response.status_code == 400
    assert "Permintaan tidak dapat dibaca" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/produk/tidak-ada", "/fasilitas/tidak-ada", "/halaman-asing",
                                 "/produk/%E2%80%8B", "/media/../../etc/passwd"])
def test_unknown_addresses_give_the_shops_404_page(client, url):
    response = client.get(url)

    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.get_data(as_text=True)
