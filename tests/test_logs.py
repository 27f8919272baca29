"""#30.2 and .3: every response names its request id, which every log line of the request and of the jobs it
enqueued carries; LOG_FORMAT=json writes one JSON object per line, and a whole journey's log holds no password,
token or address."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from shop import create_app, jobs
from shop.extensions import db
from shop.logs import JsonFormatter
from tests import factories as f
from tests.orders.test_buyer_path import ADDRESS
from tests.test_jobs import checkout, job_queue  # noqa: F401 (the fixture)


def test_every_response_names_a_request_id_of_its_own_and_an_id_sent_from_outside_is_not_taken(app, client):
    first, second = client.get("/produk"), client.get("/produk")  # the second served whole from the page cache
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Request-ID"])
    assert second.headers["X-Request-ID"] not in ("", first.headers["X-Request-ID"])
    forged = client.get("/produk", headers={"X-Request-ID": "aaaaaaaa-from-a-stranger"})
    assert forged.headers["X-Request-ID"] != "aaaaaaaa-from-a-stranger"  # no proxy is trusted


def test_behind_a_trusted_proxy_its_request_id_is_kept_when_it_has_the_shape_of_one(app, client):
    app.config["TRUSTED_PROXIES"] = 1
    try:
        kept = client.get("/produk", headers={"X-Request-ID": "nginx-4f2a9c1e77"})
        odd = client.get("/produk", headers={"X-Request-ID": "<script>" + "x" * 80})
    finally:
        app.config["TRUSTED_PROXIES"] = 0
    assert kept.headers["X-Request-ID"] == "nginx-4f2a9c1e77"
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-ID"])


def test_a_job_a_request_enqueued_carries_the_requests_id(app, client, job_queue):  # noqa: F811
    f.product()
    db.session.commit()
    checkout(client)
    [job] = jobs.queue().get_jobs()
    assert re.fullmatch(r"[0-9a-f]{32}", job.meta["request_id"])


@pytest.fixture
def json_app(database_url, tmp_path_factory):
    """The shop with LOG_FORMAT=json, its log lines written to a string instead of stderr."""
    shop = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "log-test-secret-7f3a",
                       "LOG_FORMAT": "json", "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("up")),
                       "WTF_CSRF_ENABLED": False,
                       "PRIVATE_UPLOAD_FOLDER": str(tmp_path_factory.mktemp("private")), "SERVER_NAME": None})
    root = logging.getLogger()
    [handler] = [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]
    handler.setStream(stream := io.StringIO())  # type: ignore[attr-defined]
    shop.config["log_lines"] = stream
    try:
        yield shop
    finally:
        with shop.app_context():  # its own engine: closed here, not by the garbage collector in a later test
            db.session.remove()
            db.engine.dispose()
        root.handlers.remove(handler)
        logging.getLogger("werkzeug").setLevel(logging.NOTSET)


def test_json_logs_give_each_request_a_line_with_its_id_route_status_duration_and_staff_user_and_no_secrets(
        json_app):
    staff = f.user("fulfilment", email="gudang@koperasi.id")
    bag = f.product(name_id="Tas Rajut Selempang", price=175_000, stock=5)
    f.courier("jne", {"Sulawesi Tengah": (12_000, 8_000)})
    db.session.commit()
    buyer, desk = json_app.test_client(), json_app.test_client()
    buyer.post("/keranjang/tambah", data={"product_id": bag.id, "quantity": 1})
    placed = buyer.post("/checkout", data={**ADDRESS, "courier": "jne", "action": "place"})
    desk.post("/masuk", data={"email": staff.email, "password": f.PASSWORD})
    queue = desk.get("/staf/pesanan")
    json_app.logger.error("a problem the shop reports")

    lines = [json.loads(line) for line in json_app.config["log_lines"].getvalue().splitlines()]
    requests = {line["request_id"]: line for line in lines if line["logger"] == "shop.requests"}
    assert set(requests) >= {placed.headers["X-Request-ID"], queue.headers["X-Request-ID"]}
    checkout_line = requests[placed.headers["X-Request-ID"]]
    assert checkout_line["route"] == "checkout.form" and checkout_line["status"] == 302
    assert checkout_line["duration_ms"] > 0 and checkout_line["level"] == "INFO" and checkout_line["time"]
    assert checkout_line["user_id"] is None  # a buyer: no staff id
    assert requests[queue.headers["X-Request-ID"]]["user_id"] == staff.id
    assert any(line["message"] == "a problem the shop reports" and line["level"] == "ERROR" for line in lines)
    everything = json_app.config["log_lines"].getvalue()
    for secret in (f.PASSWORD, ADDRESS["street"], ADDRESS["phone"], json_app.config["SECRET_KEY"], "csrf"):
        assert secret not in everything, secret
