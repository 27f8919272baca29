"""The shop's own error pages: a server error after a failed transaction still renders the shop's page (the
session is rolled back first), and a CSV export says its charset once."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import IntegrityError

from shop import create_app
from shop.extensions import db
from shop.orders.models import OrderLine
from tests import factories as f
from tests.helpers import logged_in, text_of


def test_a_server_error_after_a_failed_transaction_shows_the_shops_page_to_signed_in_staff(tmp_path):
    """Before, the error page itself failed on the session left in a failed flush: a 0-byte 500."""
    broken_app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite'}",
                             "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False, "PROPAGATE_EXCEPTIONS": False})

    def broken() -> str:
        db.session.add(OrderLine())  # a row the database refuses: the flush fails and nobody rolls back
        try:
            db.session.flush()
        except IntegrityError:
            pass
        raise RuntimeError("after a failed flush")

    broken_app.add_url_rule("/staf/test-broken", "test_broken", broken)
    with broken_app.app_context():
        db.create_all()
        user = f.user("fulfilment")
        db.session.commit()
        client = broken_app.test_client()
        client.post("/masuk", data={"email": user.email, "password": f.PASSWORD})

        page = client.get("/staf/test-broken")

        assert page.status_code == 500 and "Karya Binaan" in text_of(page) and "Staf" in text_of(page)
        db.session.remove()
        db.engine.dispose()


def test_a_csv_export_names_its_charset_once(app: Flask):
    finance = logged_in(app, "finance")

    answer = finance.get("/staf/keuangan/pnbp/ekspor.csv")

    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/csv; charset=utf-8"
