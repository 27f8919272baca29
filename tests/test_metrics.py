"""#30.1: /metrics, guarded by METRICS_TOKEN; requests counted by route and status and timed; orders, payments,
webhooks, mail, cache, and what the database knows (outbox backlog, products sold out, stuck payments); and, under
gunicorn with two workers, counters that add up across the workers."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from shop.extensions import db
from tests import factories as f
from tests.conftest import app_database_url, is_postgres
from tests.servers import Gunicorn, server_env


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found, name: str, **labels: str) -> float:
    return sum(v for (sample, got), v in found.items()
               if sample == name and all(dict(got).get(k) == want for k, want in labels.items()))


def test_metrics_answer_404_without_a_token_and_only_to_the_bearer_of_it(app, client, monkeypatch):
    assert client.get("/metrics").status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "rahasia-metrik")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer salah"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic rahasia-metrik"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer rahasia-metrik"})
    assert answer.status_code == 200 and answer.mimetype == "text/plain"


def test_requests_orders_mail_and_what_the_database_knows_are_counted(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "t")
    before = samples(client.get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True))
    f.product(stock=0, active=True)
    item = f.product(stock=5)
    f.order({item: 1})  # placed through the real service
    db.session.commit()
    for _ in range(3):
        client.get("/produk/tidak-ada")
    client.get("/healthz")
    after = samples(client.get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True))

    assert value(after, "kb_http_requests_total", route="catalog.product", status="404") - \
        value(before, "kb_http_requests_total", route="catalog.product", status="404") == 3
    assert value(after, "kb_http_request_duration_seconds_count", route="health.healthz") >= 1
    assert value(after, "kb_orders_placed_total") - value(before, "kb_orders_placed_total") == 1
    assert value(after, "kb_products_sold_out") == 1
    assert ("kb_payments_stuck", ()) in after and ("kb_outbox_oldest_waiting_seconds", ()) in after
    assert value(after, "kb_http_requests_total", route="metrics") == 0  # a scrape does not count itself


@pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test (gunicorn servers)")
def test_two_gunicorn_workers_add_their_counts_up_in_one_scrape(app, tmp_path):
    folder = tmp_path / "metrics"
    server = Gunicorn(server_env(app_database_url(os.environ["TEST_DATABASE_URL"]), METRICS_TOKEN="t",
                                 PROMETHEUS_MULTIPROC_DIR=str(folder)), workers=2, log=tmp_path / "gunicorn.log")
    try:
        with ThreadPoolExecutor(8) as pool:  # at once, so both workers answer some
            codes = list(pool.map(lambda _n: requests.get(f"{server.url}/produk/tidak-ada", timeout=30).status_code,
                                  range(40)))
        assert codes == [404] * 40
        writers = {path.name.rsplit("_", 1)[-1] for path in folder.glob("counter_*.db")}
        assert len(writers) >= 2, writers  # each worker wrote its own counts
        for _scrape in range(4):  # whichever worker answers the scrape, it reads every worker's counts
            found = samples(requests.get(f"{server.url}/metrics", headers={"Authorization": "Bearer t"},
                                         timeout=30).text)
            assert value(found, "kb_http_requests_total", route="catalog.product", status="404") == 40
    finally:
        server.stop()


def test_a_made_up_method_does_not_make_a_series_of_its_own(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "t")
    for method in ("FOO1", "FOO2", "BAR"):
        client.open("/produk", method=method)
    found = samples(client.get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True))
    methods = {dict(labels).get("method") for (name, labels) in found if name == "kb_http_requests_total"}
    assert "OTHER" in methods and not methods & {"FOO1", "FOO2", "BAR"}
