"""Sessions are Flask's signed cookies; the shop builds their signer once per set of keys (shop/sessions.py), and
a key rotated at run time still takes effect: the old key kept in SECRET_KEY_FALLBACKS keeps visitors' carts,
without it their old cookies are refused."""

from __future__ import annotations

from shop.extensions import db
from tests import factories as f


def test_a_rotated_secret_key_is_used_at_once_and_the_fallback_keeps_old_sessions(app):
    item = f.product()
    db.session.commit()
    visitor = app.test_client()
    visitor.post("/keranjang/tambah", data={"product_id": item.id, "quantity": 2})
    old = app.secret_key
    try:
        app.config["SECRET_KEY"] = app.secret_key = "a new key"
        app.config["SECRET_KEY_FALLBACKS"] = [old]
        with visitor.session_transaction() as session:
            assert session["cart"] == {str(item.id): 2}
        app.config["SECRET_KEY_FALLBACKS"] = []
        with visitor.session_transaction() as session:
            assert "cart" not in session
    finally:
        app.config["SECRET_KEY"] = app.secret_key = old
        app.config["SECRET_KEY_FALLBACKS"] = []
