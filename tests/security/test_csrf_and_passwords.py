"""Every POST form needs a valid CSRF token; passwords are never stored or logged in clear."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text

from shop.accounts.models import User
from shop.extensions import db
from tests import factories as f

# The Stripe webhook carries no CSRF token by design: it is verified by its signature instead.
EXEMPT = {"payments.stripe_webhook"}


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_every_post_route_refuses_a_request_without_a_valid_csrf_token(app, csrf_on):
    admin = f.user("admin")
    db.session.commit()
    client = app.test_client()
    # Log in with a real token first, as a browser would.
    page = client.get("/masuk").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/masuk", data={"email": admin.email, "password": f.PASSWORD,
                                       "csrf_token": token}).status_code == 302

    refused = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in EXEMPT:
            continue
        fixed = {"kind": "slip", "step": "catatan", "decision": "tolak"}  # the routes' `any(...)` choices
        values = {name: fixed.get(name, "1") for name in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        for data in ({}, {"csrf_token": "forged-token"}):
            response = client.post(url, data=data)
            if response.status_code != 400:
                refused.append(f"{url} {data}: {response.status_code}")
    assert not refused, refused


def test_the_stripe_webhook_is_exempt_but_refuses_unsigned_posts(app, client, csrf_on):
    assert client.post("/stripe/webhook", data=b"{}").status_code == 400


def test_passwords_are_never_in_the_database_or_the_logs_in_clear(app, caplog):
    secret = "rahasia-sekali-123"
    caplog.set_level(logging.DEBUG)
    result = app.test_cli_runner().invoke(args=["users", "create", "--role", "admin", "--password", secret,
                                                "kepala@koperasi.id"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    client.post("/masuk", data={"email": "kepala@koperasi.id", "password": secret})
    client.post("/masuk", data={"email": "kepala@koperasi.id", "password": secret + "x"})
    client.post("/akun/daftar", data={"name": "Budi", "email": "budi@example.id", "password": secret,
                                      "confirm": secret})

    assert secret not in caplog.text and secret not in result.output
    for table in ("user", "customer"):
        for row in db.session.execute(text(f'SELECT * FROM "{table}"')):
            assert all(secret not in str(value) for value in row), table
    user = db.session.scalar(select(User).where(User.email == "kepala@koperasi.id"))
    assert user.password_hash.startswith("scrypt:")
