"""`/healthz` tells a load balancer whether this server can reach its database."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from shop import create_app
from tests.conftest import is_postgres


def test_healthz_answers_503_while_the_database_is_away_and_200_when_it_is_back(tmp_path):
    home = tmp_path / "db-volume"  # not mounted yet: the database cannot be opened
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{home / 'shop.sqlite'}", "SECRET_KEY": "x"})
    client = app.test_client()

    away = client.get("/healthz")
    assert away.status_code == 503 and away.get_data(as_text=True) == "database unavailable\n"
    home.mkdir()
    back = client.get("/healthz")
    assert back.status_code == 200 and back.headers["Cache-Control"] == "no-store"


@pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test")
def test_healthz_on_postgresql_answers_503_while_its_database_is_missing_and_200_once_it_is_there():
    server = os.environ["TEST_DATABASE_URL"].rsplit("/", 1)[0]
    name = f"kb_health_{uuid.uuid4().hex[:8]}"
    app = create_app({"TESTING": True, "DATABASE_URL": f"{server}/{name}", "SECRET_KEY": "x"})
    client = app.test_client()
    admin_url = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"

    assert client.get("/healthz").status_code == 503
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        with app.app_context():
            from shop.extensions import db

            db.engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
