"""`/healthz` tells a load balancer whether this server can reach its database."""

from __future__ import annotations

from shop import create_app


def test_healthz_answers_503_while_the_database_is_away_and_200_when_it_is_back(tmp_path):
    home = tmp_path / "db-volume"  # not mounted yet: the database cannot be opened
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{home / 'shop.sqlite'}", "SECRET_KEY": "x"})
    client = app.test_client()

    away = client.get("/healthz")
    assert away.status_code == 503 and away.get_data(as_text=True) == "database unavailable\n"
    home.mkdir()
    back = client.get("/healthz")
    assert back.status_code == 200 and back.headers["Cache-Control"] == "no-store"
