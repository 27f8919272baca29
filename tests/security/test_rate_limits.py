"""Rate limits that hold: keyed on the real client address behind a proxy and on the account guessed at, for
log-ins and order lookups, and shared by several worker processes through Redis."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from shop import create_app
from shop.extensions import db, limiter
from tests.helpers import redis_or_skip, text_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def limits_on() -> Iterator[None]:
    limiter.enabled = True
    limiter.reset()
    try:
        yield
    finally:
        limiter.enabled = False
        limiter.reset()


def wrong_login(client, email: str, address: str) -> int:
    return client.post("/masuk", data={"email": email, "password": "wrong-wrong"},
                       headers={"X-Forwarded-For": address}).status_code


def test_guessing_one_accounts_password_from_many_addresses_is_stopped(app, limits_on, monkeypatch):
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1))  # as TRUSTED_PROXIES=1 does
    client = app.test_client()

    answers = [wrong_login(client, "admin@koperasi.id", f"203.0.113.{n}") for n in range(1, 12)]

    assert answers[:10] == [200] * 10 and answers[10] == 429


def test_behind_the_proxy_one_attacker_does_not_lock_out_the_staff(app, limits_on, monkeypatch):
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1))
    client = app.test_client()
    for n in range(12):
        wrong_login(client, f"guess{n}@example.id", "198.51.100.7")

    assert wrong_login(client, f"guess{99}@example.id", "198.51.100.7") == 429  # the attacker's address
    assert wrong_login(client, "gudang@koperasi.id", "192.0.2.44") == 200  # a colleague's address: still open


def test_trusted_proxies_come_from_the_configuration(tmp_path):
    behind = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite'}", "SECRET_KEY": "x",
                         "TRUSTED_PROXIES": 1})
    direct = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite'}", "SECRET_KEY": "x"})
    assert isinstance(behind.wsgi_app, ProxyFix) and not isinstance(direct.wsgi_app, ProxyFix)


def test_walking_order_numbers_with_a_known_email_is_stopped(app, limits_on):
    client = app.test_client()

    answers = [client.post("/pesanan/lacak", data={"number": f"KB-2026-{n:06d}", "email": "siti@example.id"},
                           headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(1, 12)]

    assert answers[:10] == [200] * 10 and answers[10] == 429


WORKER = textwrap.dedent("""
    import sys
    from shop import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": sys.argv[1], "SECRET_KEY": "x", "RATELIMIT_ENABLED": True,
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15", "RATELIMIT_KEY_PREFIX": sys.argv[2],
                      "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    print(" ".join(str(client.post("/masuk", data={"email": "a@example.id", "password": "wrong-wrong"}).status_code)
                   for _ in range(int(sys.argv[3]))))
""")


def test_the_login_limit_is_shared_by_two_worker_processes_through_redis(tmp_path, database_url):
    redis_or_skip()
    prefix = f"kb-test-{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{tmp_path / 'limits.sqlite'}"
    schema = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x"})  # the tables, as create_all
    with schema.app_context():  # makes them (far quicker than every migration in a subprocess)
        db.create_all()
        db.engine.dispose()

    def worker(count: int) -> list[int]:
        done = subprocess.run([sys.executable, "-c", WORKER, url, prefix, str(count)], cwd=ROOT, check=True,
                              capture_output=True, text=True, timeout=120)
        return [int(code) for code in done.stdout.split()]

    first, second = worker(6), worker(6)

    assert first == [200] * 6 and second == [200] * 4 + [429] * 2  # ten a minute, counted across both


def test_buyers_behind_one_carrier_address_each_find_their_order_and_a_stopped_guess_keeps_its_form(
        app, limits_on, monkeypatch):
    """Thirty buyers behind one mobile carrier's NAT each look up their own order: none is refused. A walk over one
    order's number with many emails is stopped at the 11th try, on the shop's own page in Indonesian, with the
    number and email still in the form."""
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1))  # as TRUSTED_PROXIES=1 does
    client = app.test_client()
    nat = {"X-Forwarded-For": "198.51.100.200"}

    buyers = [client.post("/pesanan/lacak", headers=nat, data={"number": f"KB-2026-{n:06d}",
                                                                "email": f"pembeli{n}@example.id"}).status_code
              for n in range(1, 31)]
    guesses = [client.post("/pesanan/lacak", headers={"X-Forwarded-For": f"203.0.113.{n}"},
                           data={"number": "kb 2026 000777", "email": f"tebak{n}@example.id"})
               for n in range(1, 12)]

    assert buyers == [200] * 30
    assert [g.status_code for g in guesses[:10]] == [200] * 10
    stopped = guesses[10]
    assert stopped.status_code == 429
    assert "Terlalu sering dicoba" in text_of(stopped) and 'value="kb 2026 000777"' in stopped.get_data(as_text=True)
    assert 'value="tebak11@example.id"' in stopped.get_data(as_text=True)


def test_an_upload_over_the_size_limit_gets_the_shops_own_page_in_the_readers_language(app):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    try:
        page = app.test_client().post("/masuk", data={"email": "x" * 20_000})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    assert page.status_code == 413 and "Berkas terlalu besar" in text_of(page) and "Karya Binaan" in text_of(page)
