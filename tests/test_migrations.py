"""`flask db upgrade` from an empty database gives exactly the schema of the models."""

from __future__ import annotations

import re
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from shop import create_app
from shop.catalog.search import SCHEMA_OBJECTS, SQLITE_TRIGGERS
from shop.extensions import db
from shop.guards import GUARDED
from shop.orders.models import OrderEvent
from tests.conftest import is_postgres


def _region_and_facility(connection) -> None:
    """Region 1 and facility 1, as rows of the schema of 17070f31e79a and later."""
    connection.execute(text(
        "INSERT INTO region (id, slug, name, office, city) VALUES (1, 'sulteng', 'Sulteng', 'K', 'Palu')"))
    connection.execute(text(
        "INSERT INTO facility (id, slug, region_id, kind, facility_class, name, city, story_id, story_en,"
        " active, created_at, timezone, deposit_regime, deposit_period_days) VALUES (1, 'palu', 1, "
        "'lapas', 'IIA', 'Lapas', 'Palu', '', '', true, '2026-01-01', 'Asia/Makassar', 'daily', 1)"))


def fresh_database_url(database_url: str, tmp_path) -> tuple[str, object]:
    """An empty database: a new SQLite file, or a new schema on the PostgreSQL test server."""
    if not is_postgres():
        return f"sqlite:///{tmp_path / 'migrations.sqlite'}", lambda: None
    schema = f"migration_check_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), drop


def test_upgrade_from_empty_matches_the_models_and_downgrade_empties_it(database_url, tmp_path):
    url, drop = fresh_database_url(database_url, tmp_path)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x"})
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                diff = differences(connection)
                search_objects = search_index(connection)
            assert diff == [], f"models and migrations differ: {diff}"
            assert search_objects  # the search index came by migration (and is not a model)
            downgrade(revision="base")
            with db.engine.connect() as connection:
                tables = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
            assert tables == set()
            db.engine.dispose()
    finally:
        drop()


SEARCH_OBJECTS = tuple(SCHEMA_OBJECTS)


def differences(connection) -> list:
    """What the models say that the migrated database does not, the search index apart (made by migration)."""
    return compare_metadata(MigrationContext.configure(connection, opts={
        "include_name": lambda name, *_: not (name or "").startswith(SEARCH_OBJECTS)}), db.metadata)


def search_index(connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        return set(connection.execute(text(
            "SELECT name FROM sqlite_master WHERE name = 'product_fts' OR name LIKE 'product_fts_%'")).scalars())
    return set(connection.execute(text(
        "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_product_search_text'")).scalars())


def database_triggers(connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        return set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    return set(connection.execute(text(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
    )).scalars())


def test_after_upgrade_the_database_itself_refuses_edits_of_the_ledger_deposits_audit_log_and_closed_months(
        database_url, tmp_path):
    """#21.21: the triggers of shop.guards exist after `flask db upgrade` on both databases, every one the models
    create (a later SQLite batch migration would drop them without a word), and they refuse what they should."""
    url, drop = fresh_database_url(database_url, tmp_path)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x"})
    try:
        with app.app_context():
            upgrade()
            dialect = db.engine.dialect.name
            expected = {name for ddl in GUARDED.values() for statement in ddl[dialect]
                        for name in re.findall(r"CREATE TRIGGER (\w+)", statement)}
            if dialect == "sqlite":  # and those that keep the search index current (#26)
                expected |= set(SQLITE_TRIGGERS)
            with db.engine.connect() as connection:
                assert database_triggers(connection) == expected
            assert {"audit_entry", "pnbp_deposit", "pnbp_deposit_month", "ledger_entry", "period_close"} <= set(
                GUARDED)
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO audit_entry (id, at, actor_email, action, target_type, target_id, note) "
                    "VALUES (1, '2026-12-01', 'a@b.id', 'x', 'Order', '1', '')"))
            refused = [text("UPDATE audit_entry SET note = 'rewritten'"), text("DELETE FROM audit_entry")]
            if dialect == "postgresql":
                refused += [text(f"TRUNCATE {table}") for table in
                            ("ledger_entry", "audit_entry", "pnbp_deposit_month", "period_close")]
            for statement in refused:
                with pytest.raises(DBAPIError), db.engine.begin() as connection:
                    connection.execute(statement)
            db.engine.dispose()
    finally:
        drop()


def test_upgrade_from_the_previous_schema_moves_refund_statuses_off_orders_and_guards_enums(database_url, tmp_path):
    """A live shop had orders whose status was 'refunded' or 'partially_refunded' (a money state); after the
    upgrade each is back at the last goods status its history recorded, and the database refuses a bad value."""
    url, drop = fresh_database_url(database_url, tmp_path)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x"})
    try:
        with app.app_context():
            upgrade(revision="9a761c90fea0")
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO region (id, slug, name, office, city) VALUES (1, 'jambi', 'Jambi', 'K', 'Jambi');"))
                connection.execute(text(
                    "INSERT INTO facility (id, slug, region_id, kind, facility_class, name, city, story_id, story_en,"
                    " active, created_at) VALUES (1, 'lapas-kuala-tungkal', 1, 'lapas', 'IIB', 'Lapas', 'Kuala"
                    " Tungkal', '', '', true, '2026-01-01')"))
                connection.execute(text(
                    "INSERT INTO courier (id, code, name, tracking_url, active, position) "
                    "VALUES (1, 'jne', 'JNE', '', true, 1)"))
                for order_id, status in [(1, "partially_refunded"), (2, "refunded"), (3, "paid")]:
                    connection.execute(text(
                        'INSERT INTO "order" (id, number, status, email, name, phone, street, rt_rw, kelurahan, '
                        "kecamatan, city, province, postal_code, notes, language, courier_id, weight_g, subtotal, "
                        "shipping_cost, total, created_at, stock_released) VALUES (:id, :number, :status, 'a@b.id', "
                        "'A', '+62811', 'Jl', '', 'K', 'K', 'Palu', 'Sulawesi Tengah', '94111', '', 'id', 1, 100, "
                        "1000, 0, 1000, '2026-01-01', false)"), {"id": order_id, "number": f"KB-2026-{order_id:06d}",
                                                                  "status": status})
                history = [(1, "awaiting_payment", "paid"), (1, "paid", "packed"), (1, "packed", "shipped"),
                           (1, "shipped", "delivered"), (1, "delivered", "partially_refunded"),
                           (2, "awaiting_payment", "paid"), (2, "paid", "refunded")]
                for order_id, before, after in history:
                    connection.execute(text(
                        "INSERT INTO order_event (order_id, at, actor, from_status, to_status, note, internal) "
                        "VALUES (:id, '2026-01-02', 'system', :before, :after, '', false)"),
                        {"id": order_id, "before": before, "after": after})

            upgrade()

            with db.engine.connect() as connection:
                statuses = dict(connection.execute(text('SELECT id, status FROM "order" ORDER BY id')).all())
                money_events = connection.execute(text(
                    "SELECT count(*) FROM order_event WHERE to_status IN ('refunded', 'partially_refunded')")).scalar()
                zone = connection.execute(text("SELECT timezone FROM facility WHERE id = 1")).scalar()
                diff = differences(connection)
            assert statuses == {1: "delivered", 2: "paid", 3: "paid"}
            assert money_events == 0 and zone == "Asia/Jakarta"
            assert diff == [], f"models and migrations differ: {diff}"
            with pytest.raises(IntegrityError), db.engine.begin() as connection:
                connection.execute(text("UPDATE \"order\" SET status = 'refunded' WHERE id = 3"))
            with pytest.raises(IntegrityError), db.engine.begin() as connection:
                connection.execute(text("UPDATE \"order\" SET stock_released = true WHERE id = 3"))  # paid holds goods
            db.engine.dispose()
    finally:
        drop()


def test_upgrade_turns_the_english_words_of_old_order_events_into_codes_the_reader_sees_in_their_language(
        database_url, tmp_path):
    url, drop = fresh_database_url(database_url, tmp_path)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x"})
    try:
        with app.app_context():
            upgrade(revision="17070f31e79a")
            with db.engine.begin() as connection:
                _region_and_facility(connection)
                connection.execute(text("INSERT INTO courier (id, code, name, tracking_url, active, position) "
                                        "VALUES (1, 'jne', 'JNE', '', true, 1)"))
                connection.execute(text(
                    'INSERT INTO "order" (id, number, status, email, name, phone, street, rt_rw, kelurahan, '
                    "kecamatan, city, province, postal_code, notes, language, courier_id, weight_g, subtotal, "
                    "shipping_cost, total, created_at, stock_released) VALUES (1, 'KB-2026-000001', 'shipped', "
                    "'a@b.id', 'A', '+62811', 'Jl', '', 'K', 'K', 'Palu', 'Sulawesi Tengah', '94111', '', 'id', 1, "
                    "100, 1000, 0, 1000, '2026-01-01', false)"))
                connection.execute(text("INSERT INTO shipment (order_id, facility_id, courier_id, tracking_number, "
                                        "shipped_at) VALUES (1, 1, 1, 'JNE0012345', '2026-01-03')"))
                events = [(None, None, "order placed", False),
                          ("awaiting_payment", "paid", "bank transfer BRI 77", False),
                          ("paid", "packed", "", False), (None, None, "parcel shipped: JNE0012345", False),
                          ("packed", "shipped", "JNE0012345", False), (None, None, "return received: 2", False),
                          (None, None, "Pembeli minta dikirim siang", True)]
                for before, after, note, internal in events:
                    connection.execute(text(
                        "INSERT INTO order_event (order_id, at, actor, from_status, to_status, note, internal) "
                        "VALUES (1, '2026-01-02', 'system', :before, :after, :note, :internal)"),
                        {"before": before, "after": after, "note": note, "internal": internal})

            upgrade()

            with db.engine.connect() as connection:
                rows = connection.execute(text("SELECT code, note FROM order_event ORDER BY id")).all()
                diff = differences(connection)
            assert [code for code, _ in rows] == ["placed", "paid_transfer", "status", "parcel_shipped",
                                                  "parcel_shipped", "return_received", "note"]
            assert [note for _, note in rows] == ["", "", "", "", "", "", "Pembeli minta dikirim siang"]
            assert diff == [], f"models and migrations differ: {diff}"
            with app.test_request_context():  # Indonesian, the default language
                texts = [event.text for event in db.session.scalars(select(OrderEvent).order_by(OrderEvent.id))]
            assert texts[0] == "pesanan dibuat" and "BRI 77" in texts[1] and "dibayar" in texts[1]
            assert "JNE" in texts[3] and "JNE0012345" in texts[3] and "dikirim" in texts[4]
            assert all("order placed" not in t and "parcel shipped" not in t for t in texts)
            with pytest.raises(IntegrityError), db.engine.begin() as connection:
                connection.execute(text("UPDATE order_event SET code = 'shouted' WHERE id = 1"))
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


def test_upgrade_puts_each_products_stock_into_one_opening_lot_sold_first(database_url, tmp_path):
    """#27.6: the stock each product has becomes one lot "AWAL" without dates; a product without stock gets none."""
    url, drop = fresh_database_url(database_url, tmp_path)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x"})
    try:
        with app.app_context():
            upgrade(revision="1a5753008bf4")
            with db.engine.begin() as connection:
                _region_and_facility(connection)
                connection.execute(text(
                    "INSERT INTO category (id, slug, name_id, name_en, required_certs, position) "
                    "VALUES (1, 'pangan', 'Pangan', 'Food', '[\"halal\"]', 1)"))
                for number, stock in ((1, 7), (2, 0)):
                    connection.execute(text(
                        "INSERT INTO product (id, facility_id, category_id, slug, name_id, name_en, description_id, "
                        "description_en, maker_note_id, maker_note_en, price, unit_cost, weight_g, stock, active, "
                        "featured, required_certs_reason, created_at, updated_at) VALUES (:n, 1, 1, :slug, 'Bawang', "
                        "'Shallots', '', '', '', '', 35000, 0, 250, :stock, true, false, '', '2026-01-01', "
                        "'2026-01-01')"),
                        {"n": number, "slug": f"bawang-{number}", "stock": stock})

            upgrade()

            with db.engine.connect() as connection:
                lots = connection.execute(text(
                    "SELECT product_id, code, on_hand, received_qty, opening, best_before FROM lot")).all()
                lotted = connection.execute(text("SELECT id FROM product WHERE lotted ORDER BY id")).scalars().all()
                diff = differences(connection)
            assert [(p, code, held, got, bool(opening), day) for p, code, held, got, opening, day in lots] == [
                (1, "AWAL", 7, 7, True, None)]
            assert lotted == [1]
            assert diff == [], f"models and migrations differ: {diff}"
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()
