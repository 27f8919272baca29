"""Staff login, logout, password change, and the command that creates the first admin."""

from __future__ import annotations

from sqlalchemy import select

from shop.accounts.models import User
from shop.extensions import db
from tests import factories as f


def login(client, email: str, password: str = f.PASSWORD):
    return client.post("/masuk", data={"email": email, "password": password})


def test_staff_login_goes_to_staff_home_and_logout_ends_the_session(client):
    f.user("finance", email="keuangan@example.id")
    db.session.commit()

    response = login(client, "keuangan@example.id")
    assert response.status_code == 302 and response.headers["Location"] == "/staf"
    assert "keuangan@example.id" in client.get("/staf").get_data(as_text=True)

    client.post("/keluar")
    assert client.get("/staf").status_code == 302


def test_logout_ends_the_session_on_the_server_and_the_remember_me_cookie_with_it(app, client):
    f.user("finance", email="keuangan@example.id")
    db.session.commit()
    client.post("/masuk", data={"email": "keuangan@example.id", "password": f.PASSWORD, "remember": "y"})
    stolen = {cookie.key: cookie.value for cookie in client._cookies.values()}
    assert {"session", "remember_token"} <= set(stolen)
    with client.get("/staf") as before:
        assert before.status_code == 200

    client.post("/keluar")

    for name in ("session", "remember_token"):  # a copy taken before logout, replayed by someone else
        thief = app.test_client()
        thief.set_cookie(name, stolen[name])
        assert thief.get("/staf").status_code == 302, name
    header = next(h for h in login_headers(app) if h.startswith("remember_token="))
    assert "SameSite=Lax" in header and "HttpOnly" in header


def login_headers(app) -> list[str]:
    client = app.test_client()
    response = client.post("/masuk", data={"email": "keuangan@example.id", "password": f.PASSWORD, "remember": "y"})
    return response.headers.getlist("Set-Cookie")


def test_wrong_email_and_wrong_password_get_the_same_answer(client):
    f.user("admin", email="admin@example.id")
    db.session.commit()

    wrong_password = login(client, "admin@example.id", "not the password").get_data(as_text=True)
    wrong_email = login(client, "nobody@example.id", "not the password").get_data(as_text=True)

    assert "Email atau kata sandi salah." in wrong_password
    assert "Email atau kata sandi salah." in wrong_email


def test_password_is_stored_hashed():
    user = f.user("admin")
    db.session.commit()

    assert f.PASSWORD not in user.password_hash
    assert user.password_hash.startswith("scrypt:")


def test_password_change_logs_out_every_other_session(app, client):
    f.user("fulfilment", email="staf@example.id")
    db.session.commit()
    other_device = app.test_client()
    login(client, "staf@example.id")
    login(other_device, "staf@example.id")

    response = client.post("/akun/kata-sandi", data={"current": f.PASSWORD, "new": "a new long password",
                                                       "confirm": "a new long password"})

    assert response.status_code == 302
    assert client.get("/staf").status_code == 200
    assert other_device.get("/staf").status_code == 302


def test_login_only_follows_local_next_targets(client):
    f.user("admin", email="a@example.id")
    db.session.commit()

    response = client.post("/masuk?next=https://evil.example/", data={"email": "a@example.id",
                                                                       "password": f.PASSWORD})

    assert response.headers["Location"] == "/staf"


def test_users_create_command_makes_the_first_admin(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--role", "admin", "Admin@Example.id", "--password", "a long admin password"])

    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.email == "admin@example.id" and user.roles == ["admin"]
    assert user.check_password("a long admin password")


def test_users_create_refuses_short_passwords_and_duplicates(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["users", "create", "--role", "admin", "a@example.id", "--password", "short"])
    runner.invoke(args=["users", "create", "a@example.id", "--password", "a long admin password"])
    again = runner.invoke(args=["users", "create", "a@example.id", "--password", "a long admin password"])

    assert short.exit_code != 0 and "at least" in short.output
    assert again.exit_code != 0 and "exists already" in again.output


def test_login_attempts_are_rate_limited(app):
    from shop.extensions import limiter

    limiter.enabled = True
    limiter.reset()
    try:
        client = app.test_client()
        answers = [client.post("/masuk", data={"email": "x@example.id", "password": "wrong-wrong"}).status_code
                   for _ in range(11)]
    finally:
        limiter.enabled = False
        limiter.reset()
    assert answers[:10] == [200] * 10 and answers[10] == 429
