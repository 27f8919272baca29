"""Absolute addresses come from SHOP_URL only: a forged Host or X-Forwarded-Host never reaches a page kept for
every visitor, nor a mail (Host header poisoning), and TRUSTED_HOSTS refuses other hosts outright."""

from __future__ import annotations

import pytest

from shop import create_app
from shop.extensions import db
from tests import factories as f
from tests.orders.test_buyer_path import ADDRESS


@pytest.fixture
def bag():
    item = f.product(slug="tas-rajut", name_id="Tas Rajut Selempang", price=175_000, stock=7)
    f.courier("jne")
    db.session.commit()
    return item


def test_a_forged_host_never_reaches_the_page_kept_for_every_visitor(app, client, bag):
    forged = client.get("/produk/tas-rajut", headers={"Host": "evil.example"}).get_data(as_text=True)
    later = client.get("/produk/tas-rajut").get_data(as_text=True)

    for page in (forged, later):
        assert "evil.example" not in page
        assert f'<link rel="canonical" href="{app.config["SHOP_URL"]}/produk/tas-rajut">' in page


def test_behind_a_proxy_x_forwarded_host_is_not_believed(app, bag):
    proxied = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                          "TRUSTED_PROXIES": 1, "SHOP_URL": "https://toko.example.id"})  # as README's nginx set-up
    with proxied.app_context():
        page = proxied.test_client().get("/produk/tas-rajut", headers={"X-Forwarded-Host": "evil.example",
                                                                       "X-Forwarded-For": "203.0.113.9"})
        text = page.get_data(as_text=True)
        assert "evil.example" not in text
        assert 'href="https://toko.example.id/produk/tas-rajut"' in text
        db.session.remove()
        db.engine.dispose()  # this second app's own pool: closed now, not whenever it is garbage collected


def test_the_order_mail_links_to_the_shop_whatever_host_the_buyer_sent(client, smtp_inbox, bag):
    headers = {"Host": "evil.example"}
    client.post("/keranjang/tambah", data={"product_id": bag.id}, headers=headers)
    client.post("/checkout", headers=headers, data={**ADDRESS, "courier": "jne", "action": "place"})

    [message] = smtp_inbox.messages
    body = message.as_string()
    assert "evil.example" not in body and "127.0.0.1:5000/pesanan/lacak" in body


def test_trusted_hosts_refuses_any_other_host(app, bag):
    app.config["TRUSTED_HOSTS"] = ["toko.example.id"]
    try:
        client = app.test_client()
        assert client.get("/produk/tas-rajut", headers={"Host": "evil.example"}).status_code == 400
        assert client.get("/produk/tas-rajut", headers={"Host": "toko.example.id"}).status_code == 200
    finally:
        app.config["TRUSTED_HOSTS"] = None
