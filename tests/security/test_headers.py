"""Security headers on every kind of page, and private documents that can never run as a page."""

from __future__ import annotations

import io

from shop.extensions import db
from tests import factories as f
from tests.helpers import logged_in


def assert_hardened(response) -> None:
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_public_staff_and_error_pages_carry_the_security_headers(app, client):
    assert_hardened(client.get("/"))
    assert_hardened(client.get("/tidak-ada"))  # 404 page
    assert_hardened(logged_in(app, "admin").get("/staf"))
    assert "Strict-Transport-Security" not in client.get("/").headers  # plain HTTP in tests


def test_no_page_uses_inline_script(app, client):
    item = f.certified_food()
    order = f.order({item: 1})
    db.session.commit()
    staff = logged_in(app, "admin", "finance")
    pages = [client.get("/"), client.get(f"/produk/{item.slug}"), staff.get("/staf/keuangan/ringkasan"),
             staff.get(f"/staf/pesanan/{order.number}/slip/{item.facility_id}")]
    for page in pages:
        html = page.get_data(as_text=True)
        for tag in html.split("<script")[1:]:
            opening = tag.split(">", 1)[0]
            assert "src=" in opening or 'type="application/' in opening, opening
        assert " onclick=" not in html and "javascript:" not in html


def test_a_private_receipt_is_served_as_a_sandboxed_download(app, client):
    from sqlalchemy import select

    from shop.payments.models import Payment

    order = f.order({f.product(): 1})
    db.session.commit()
    with client.session_transaction() as session:
        session["orders"] = [order.number]
    client.post(f"/pesanan/{order.number}/bayar/transfer")
    client.post(f"/pesanan/{order.number}/bayar/transfer/bukti", content_type="multipart/form-data",
                data={"receipt": (io.BytesIO(f.PDF), "bukti.pdf")})
    payment = db.session.scalar(select(Payment))

    with logged_in(app, "fulfilment").get(f"/staf/pembayaran/{payment.id}/bukti") as response:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers["Cache-Control"]
