"""Fixtures: one app per test session on a fresh schema, emptied after every test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set
(scripts/test does both).
"""

from __future__ import annotations

import contextvars
import email
import os
import socket
import threading
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from werkzeug.serving import make_server

from shop import create_app
from shop.extensions import cache, db, limiter
from shop.guards import GUARDED, app_role_grants


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {os.environ.get('TEST_DATABASE_URL') or 'SQLite (temporary file)'}"


def _pg_admin(url: str, statement: str) -> None:
    import psycopg

    server = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as connection:
        connection.execute(statement)


def _compile_translations() -> None:
    """Plain `pytest` on a fresh clone: compile the message catalogs (.mo files are not committed) when a .po is
    newer than its .mo, so pages are in Indonesian as in production (scripts/test and scripts/start do it too)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(__file__).resolve().parent.parent.glob("shop/translations/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker runs on a PostgreSQL database of its own (`<TEST_DATABASE_URL>_<worker>`),
    made here and dropped at the end; TEST_DATABASE_URL names it from then on, for the servers tests start too.
    (SQLite needs nothing: each worker's temporary folder holds its own file.)"""
    worker, url = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("TEST_DATABASE_URL", "")
    if not worker:  # the controller (or a plain run), before any worker starts
        _compile_translations()
    if worker and url.startswith("postgresql"):
        own = f"{url}_{worker}"
        _pg_admin(url, f'DROP DATABASE IF EXISTS "{own.rsplit("/", 1)[1]}" WITH (FORCE)')
        _pg_admin(url, f'CREATE DATABASE "{own.rsplit("/", 1)[1]}"')
        os.environ["TEST_DATABASE_URL"] = own
        config.stash[_WORKER_DATABASE] = own


_WORKER_DATABASE = pytest.StashKey[str]()


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_WORKER_DATABASE, None)
    if own:
        _pg_admin(own, f'DROP DATABASE IF EXISTS "{own.rsplit("/", 1)[1]}" WITH (FORCE)')


class FreshContextClient(FlaskClient):
    """Runs every request in an empty context, so it gets its own app context, `g` and db session,
    exactly as in production, even while the test itself holds an app context for its factories."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def is_postgres() -> bool:
    return (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


def app_database_url(url: str) -> str:
    """The URL the shop itself connects with. On PostgreSQL under scripts/test that is the app's own role of least
    privilege (TEST_APP_ROLE, made by scripts/test, granted by `shop.guards.app_role_grants` as in production),
    not the tables' owner: the suite runs as production does (#21.22). `database_url` stays the owner's."""
    role = os.environ.get("TEST_APP_ROLE")
    if role and url.startswith("postgresql"):
        return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)
    return url


_OWNER: list[Engine] = []  # the tables' owner, when the shop runs as another role


def owner_engine() -> Engine:
    """An engine as the tables' owner: for what only the owner (or a superuser) may do, such as the cleanup between
    tests, lifting a guard, or making a role. Without TEST_APP_ROLE that is the shop's own engine."""
    return _OWNER[0] if _OWNER else db.engine


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database as its owner (the one who runs migrations); the shop connects with `app_database_url`."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    shop_url = app_database_url(database_url)
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": shop_url,
        "SECRET_KEY": "test-secret-key",
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
        "PRIVATE_UPLOAD_FOLDER": str(tmp_path_factory.mktemp("private")),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,  # hooks installed; switched off below, on again by the rate-limit test
        "SERVER_NAME": None,
    })
    app.test_client_class = FreshContextClient
    limiter.enabled = False
    owner = create_engine(database_url) if shop_url != database_url else None
    if owner is not None:
        _OWNER.append(owner)
    with app.app_context():
        db.metadata.drop_all(owner_engine())
        db.metadata.create_all(owner_engine())
        if owner is not None:
            with owner.begin() as connection:
                for statement in app_role_grants(make_url(shop_url).username or ""):
                    connection.execute(text(statement))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if owner is not None:
        _OWNER.clear()
        owner.dispose()


def empty_postgresql_tables(connection: Any, tables: list[Any]) -> None:
    """Delete the rows of the tables that have any and restart their ids: a tenth of the time of a TRUNCATE of
    every table (127 ms), which PostgreSQL pays per table whether it holds rows or not. The ledger's append-only
    trigger and the foreign keys' triggers are off for this transaction alone (session_replication_role, which
    needs a superuser, as the test server's postgres is; without one, every table is truncated)."""
    filled = connection.execute(text(" UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables))).scalars().all()
    if not filled:
        return
    try:
        with connection.begin_nested():
            connection.execute(text("SET LOCAL session_replication_role = replica"))
    except Exception:  # noqa: BLE001 - not a superuser: the slower way, as the tables' owner
        names = ", ".join(f'"{t.name}"' for t in tables)
        for name in GUARDED:  # the append-only guards refuse TRUNCATE (shop.guards)
            connection.execute(text(f'ALTER TABLE "{name}" DISABLE TRIGGER USER'))
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for name in GUARDED:
            connection.execute(text(f'ALTER TABLE "{name}" ENABLE TRIGGER USER'))
        return
    for table in reversed(tables):
        if table.name in filled:
            connection.execute(table.delete())
            for column in table.primary_key.columns:
                if column.autoincrement is True or (column.autoincrement == "auto" and
                                                    column.type.python_type is int):
                    connection.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', "
                                            f"'{column.name}'), 1, false)"))


def empty_all_tables() -> None:
    # The test's own session may hold a read transaction (PostgreSQL's TRUNCATE would wait on it forever).
    db.session.close()
    tables = db.metadata.sorted_tables
    with owner_engine().begin() as connection:
        if connection.dialect.name == "postgresql":
            empty_postgresql_tables(connection, tables)
        else:
            # SQLite has no TRUNCATE and the append-only tables refuse DELETE: lift their guards for the cleanup.
            guarded = ", ".join(f"'{name}'" for name in GUARDED)  # the search index's own triggers stay
            for trigger in connection.execute(text(f"SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                                   f"AND tbl_name IN ({guarded})")).scalars():
                connection.execute(text(f'DROP TRIGGER "{trigger}"'))
            # Rows that point at rows of their own table (a reversing deposit) go in one statement.
            connection.execute(text("PRAGMA defer_foreign_keys = ON"))
            for table in reversed(tables):
                connection.execute(table.delete())
            for ddl in GUARDED.values():
                for statement in ddl["sqlite"]:
                    connection.execute(text(statement))


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    """Every test runs inside an app context on an empty database."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        app.config.pop("FROZEN_NOW", None)
        empty_all_tables()
        cache.clear()  # the truncation above went past the ORM, so past the catalog cache's invalidation


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.count += 1
        self.statements.append(statement)


@pytest.fixture
def count_queries(app: Flask) -> Iterator[Any]:
    """`with count_queries() as counter: ...` counts the SQL statements run inside the block."""
    from contextlib import contextmanager

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)

    return counting


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port, for the browser tests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=contextvars.Context().run, args=(server.serve_forever,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; never a browser downloaded by a test tool."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `apt-get install chromium` (scripts/test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_inbox(app) -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port; the app's MAIL_* point at it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield inbox
    finally:
        controller.stop()
        app.config.update(MAIL_SERVER="", MAIL_PORT=25)


# -- the local Stripe (tests/payments/stripe_rig.py), for the payment tests and the multi-server tests

@pytest.fixture(scope="session")
def _stripe_rig_server() -> Iterator[Any]:
    from tests.payments.stripe_rig import StripeRig

    rig = StripeRig().start()
    yield rig
    rig.stop()


@pytest.fixture
def stripe_rig(app: Flask, _stripe_rig_server: Any) -> Iterator[Any]:
    """The emulator, emptied, with the app's Stripe settings pointed at it for this test."""
    from tests.payments.stripe_rig import API_KEY, WEBHOOK_SECRET

    _stripe_rig_server.reset()
    saved = {key: app.config.get(key) for key in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE",
                                                   "STRIPE_NETWORK_RETRIES", "STRIPE_TIMEOUT")}
    app.config.update(STRIPE_SECRET_KEY=API_KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                      STRIPE_API_BASE=_stripe_rig_server.api_base, STRIPE_NETWORK_RETRIES=0)
    yield _stripe_rig_server
    app.config.update(saved)


# -- the local Midtrans (tests/payments/midtrans_rig.py): a stand-in written from Midtrans's documentation

@pytest.fixture(scope="session")
def _midtrans_server() -> Iterator[Any]:
    from tests.payments.midtrans_rig import MidtransStandIn

    rig = MidtransStandIn()
    rig.start()
    yield rig
    rig.stop()


@pytest.fixture
def midtrans(app: Flask, _midtrans_server: Any, live_server: str) -> Iterator[Any]:
    """The stand-in, emptied, with the app's Midtrans settings pointed at it and its notifications at this test's
    live server (the same app and database)."""
    from tests.payments.midtrans_rig import CLIENT_KEY, SERVER_KEY

    saved = {key: app.config.get(key) for key in ("MIDTRANS_SERVER_KEY", "MIDTRANS_CLIENT_KEY", "MIDTRANS_API_BASE",
                                                   "MIDTRANS_SNAP_BASE")}
    _midtrans_server.clear()
    _midtrans_server.notification_url = f"{live_server}/midtrans/notification"
    _midtrans_server.shop_url = live_server
    app.config.update(MIDTRANS_SERVER_KEY=SERVER_KEY, MIDTRANS_CLIENT_KEY=CLIENT_KEY,
                      MIDTRANS_API_BASE=_midtrans_server.base_url, MIDTRANS_SNAP_BASE=_midtrans_server.base_url)
    yield _midtrans_server
    _midtrans_server.wait_notified()
    _midtrans_server.notification_url = ""
    app.config.update(saved)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests: Chromium drops requests it no longer needs (an icon, a picture, when the page moves on),
    and the threaded test server then lets a file response go unclosed. That is the test server's (production
    runs gunicorn), so in browser tests only that one unraisable warning, an unclosed file, is not an error."""
    unclosed_file = pytest.mark.filterwarnings(
        r"ignore:Exception ignored in\x3a <_io\.FileIO:pytest.PytestUnraisableExceptionWarning")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(unclosed_file)
