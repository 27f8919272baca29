"""A property-based fuzz (hypothesis) of every route, public and staff, and of the Stripe webhook: any path
value, query parameter or form field the code reads, with odd values, as a visitor and as staff with every
role. Whatever comes in: no 5xx, no markup reflected unescaped, and a refused request (4xx) commits nothing.

FUZZ_EXAMPLES sets how many requests one run generates (default 400; `scripts/test` runs 10,000 in CI)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from shop.extensions import db, limiter
from tests import factories as f
from tests.security.test_route_matrix import world  # noqa: F401 (the fixture: a facility, order, deposit …)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 400)
MARKUP = "<kbfuzz>"
SOURCE = Path(__file__).resolve().parents[2] / "shop"
READS = re.compile(r"""(?:args|form|values|files)(?:\.get|\.getlist)?\(\s*f?["']([a-z][\w\-]*)["']"""
                   r"""|^\s+([a-z_]+) = [A-Za-z]+Field\(""", re.M)


def parameter_names() -> list[str]:
    """Every query parameter and form field the shop reads: from the source, so a new one is fuzzed too."""
    names = set()
    for path in SOURCE.rglob("*.py"):
        for match in READS.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return sorted(names | {"csrf_token", "lang", "month", "fmt", "kind", "shares", "pnbp", "premi"})


PARAMETERS = parameter_names()


ODD = ["", " ", "0", "-1", "1", "2", "3.5", "1e309", "NaN", "-0", "99999999999999999999", str(2**63), "abc",
       "2026-13-45", "2026-02-30", "2026-10", "9999-99", "0000-00-00", "\x00", "a\x00b", "../../etc/passwd", "%",
       "%00", "' OR 1=1 --", MARKUP, "\"><kbfuzz>", "🙂🙂", "ä" * 300, "x" * 5000, "KB-2026-000001", "true", "on",
       "xlsx", "csv", "pdf", "id", "en", "jne", "Sulawesi Tengah", "94111", "+6281234567890", "daily",
       "periodic", "paid", "packed", "cancel", "ship", "deliver", "return", "note", "place", "quote", "admin",
       "http://evil.example/", "//evil.example", "/staf"]
VALUE = st.one_of(st.sampled_from(ODD), st.text(max_size=30), st.integers(-2**70, 2**70).map(str))


def path_values(values: dict) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({name: st.one_of(st.just(value), st.sampled_from(
        [0, 1, 2, 10**12, 2**63, 10**30] if isinstance(value, int) else ODD[:40]))
        for name, value in values.items()})


class Writes:
    """Write statements that reached a COMMIT during one request."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self.committed: list[str] = []

    def statement(self, conn, cursor, statement, *args) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.pending.append(statement)

    def commit(self, conn) -> None:
        self.committed += self.pending
        self.pending = []

    def rollback(self, conn) -> None:
        self.pending = []


@pytest.fixture
def fuzz_world(app: Flask, world):  # noqa: F811
    values, users = world
    boss = f.user("admin", "fulfilment", "finance")
    db.session.commit()
    anonymous = app.test_client()
    staff = app.test_client()
    assert staff.post("/masuk", data={"email": boss.email, "password": f.PASSWORD}).status_code == 302
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    writes = Writes()
    listeners = [("before_cursor_execute", writes.statement), ("commit", writes.commit),
                 ("rollback", writes.rollback)]
    for name, listener in listeners:
        event.listen(db.engine, name, listener)
    limiter.enabled = False
    try:
        yield values, {"anonymous": anonymous, "staff": staff}, rules, writes
    finally:
        for name, listener in listeners:
            event.remove(db.engine, name, listener)


@pytest.mark.timeout(3600)  # the long run in CI: 10,000 requests
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=bool(os.environ.get("CI")),
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_input_gets_a_5xx_or_reflected_markup_and_a_refused_request_commits_nothing(fuzz_world, data):
    values, clients, rules, writes = fuzz_world
    rule = data.draw(st.sampled_from(rules), label="route")
    who = data.draw(st.sampled_from(sorted(clients)), label="who")
    method = data.draw(st.sampled_from(sorted(rule.methods - {"HEAD", "OPTIONS"})), label="method")
    path_args = data.draw(path_values({name: values.get(name, "x") for name in rule.arguments}), label="path")
    try:
        url = rule.build(path_args, append_unknown=False)[1]
    except Exception:  # noqa: BLE001 - a value the route's converter cannot hold is not a URL of the shop
        return
    params = data.draw(st.dictionaries(st.sampled_from(PARAMETERS), VALUE, max_size=8), label="params")
    client = clients[who]
    writes.committed = []
    if rule.endpoint == "payments.stripe_webhook":
        body = data.draw(st.one_of(st.just(json.dumps(params)), st.binary(max_size=200).map(repr)), label="body")
        response = client.post(url, data=body, headers={"Stripe-Signature": params.get("v", "t=1,v1=x")})
    elif method == "GET":
        response = client.get(url, query_string=params)
    else:
        response = client.open(url, method=method, data=params)
    page = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    response.close()

    assert response.status_code < 500, f"{method} {url} {params!r} as {who}: {response.status_code}"
    assert MARKUP not in page, f"{method} {url} {params!r} as {who}: markup reflected"
    if 400 <= response.status_code < 500:
        assert not writes.committed, f"{method} {url} {params!r} as {who}: {response.status_code} wrote " \
                                     f"{writes.committed[:3]}"
