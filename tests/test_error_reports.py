"""#30.4: with SENTRY_DSN, an error in a route reaches Sentry, here a stand-in speaking Sentry's envelope protocol
over real HTTP, with the release and without personal data."""

from __future__ import annotations

import json

import pytest
import requests
import sentry_sdk

from shop import create_app
from shop.extensions import db
from shop.reporting import release
from tests.standins.sentry import SentryStandIn


@pytest.fixture
def sentry():
    stand_in = SentryStandIn({"42": "publickey0123456789abcdef"})
    yield stand_in
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # off again for the rest of the run: no DSN in the environment, nothing is sent
    stand_in.stop()


def test_a_forced_error_reaches_the_error_reports_with_its_release_and_no_personal_data(sentry, database_url,
                                                                                          tmp_path):
    shop = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "sentry-test-secret-1",
                       "SENTRY_DSN": sentry.dsn("42"), "PROPAGATE_EXCEPTIONS": False, "WTF_CSRF_ENABLED": False,
                       "UPLOAD_FOLDER": str(tmp_path / "up"), "PRIVATE_UPLOAD_FOLDER": str(tmp_path / "private")})
    try:
        answer = shop.test_client().get("/_test/error/reset0123456789abcdefTOKEN",
                                        query_string={"email": "siti@example.id", "phone": "+6281234567890",
                                                      "street": "Jl. Mawar No. 5", "password": "rahasia-sandi"},
                                        headers={"Cookie": "session=rahasia", "Authorization": "Bearer rahasia"})
        assert answer.status_code == 500
        sentry_sdk.flush(timeout=10)
    finally:
        with shop.app_context():
            db.session.remove()
            db.engine.dispose()
    [event] = sentry.events()
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["release"] == release() and release().startswith("karya-binaan@")
    raw = b"".join(sentry.raw).decode()
    assert "siti@example.id" not in raw and "6281234567890" not in raw and "rahasia" not in raw
    assert "Jl. Mawar" not in raw  # a database error's row values
    assert "reset0123456789abcdefTOKEN" not in raw  # a token in the path (a password reset link)
    assert "[parameters: scrubbed]" in json.dumps(event)
    assert "user" not in event


def test_the_stand_in_refuses_what_sentry_refuses(sentry):
    url = f"http://127.0.0.1:{sentry.port}/api/42/envelope/"
    assert requests.post(url, data=b"{}\n", timeout=5).status_code == 401
    assert requests.post(url, data=b"{}\n", timeout=5,
                         headers={"X-Sentry-Auth": "Sentry sentry_key=salah"}).status_code == 401
    assert requests.post(url.replace("/42/", "/7/"), data=b"{}\n", timeout=5,
                         headers={"X-Sentry-Auth": "Sentry sentry_key=x"}).status_code == 404
    assert requests.post(url, data=b"not json", timeout=5,
                         headers={"X-Sentry-Auth": "Sentry sentry_key=publickey0123456789abcdef"}).status_code == 400


def test_without_a_dsn_nothing_is_sent(app):
    assert not app.config["SENTRY_DSN"] and sentry_sdk.get_client().dsn is None


def test_the_scrubber_masks_addresses_phones_tokens_and_secret_headers():
    from shop.reporting import scrub

    event = scrub({"message": "mail siti@example.id or call 0812-3456-7890 / +62 812 3456 7890",
                   "request": {"url": "https://toko.id/atur-ulang-kata-sandi/AbCdEf0123456789xyz",
                               "headers": {"Referer": "https://toko.id/?email=a@b.id", "User-Agent": "Chrome"},
                               "cookies": {"session": "x"}, "data": {"address": "Jl. Mawar"}},
                   "user": {"email": "siti@example.id"}, "release": "karya-binaan@0.1.0"})
    text = json.dumps(event)
    assert "siti@example.id" not in text and "0812" not in text and "3456" not in text
    assert "AbCdEf0123456789xyz" not in text and "Referer" not in text and "Jl. Mawar" not in text
    assert event["request"]["headers"] == {"User-Agent": "Chrome"} and event["release"] == "karya-binaan@0.1.0"
