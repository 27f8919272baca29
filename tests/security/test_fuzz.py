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
       "http://evil.example/", "//evil.example", "/staf", "²", "٣", "-99999999999999999999", "9999-12-31",
       "0001-01-01", "9999-12", "0000-01", "2147483648"]
VALUE = st.one_of(st.sampled_from(ODD), st.text(max_size=30), st.integers(-2**70, 2**70).map(str))


ADDRESS = {"name": "Siti Aminah", "email": "siti@example.id", "phone": "081234567890", "street": "Jl. Palu 1",
           "rt_rw": "003/005", "kelurahan": "Besusu", "kecamatan": "Palu Timur", "city": "Kota Palu",
           "province": "Sulawesi Tengah", "postal_code": "94111", "courier": "jne", "notes": "", "action": "place"}


def valid_forms(values: dict) -> dict[str, dict[str, str]]:
    """A submission each form would accept, so that a field made odd reaches the code behind the validation."""
    product = {"name_id": "Bawang Goreng", "name_en": "Fried shallots", "price": "45000", "weight_g": "250",
               "unit_cost": "20000", "description_id": "", "description_en": "", "active": "1"}
    return {
        "checkout.form": ADDRESS,
        "cart.add": {"product_id": str(values["product_id"]), "quantity": "1"},
        "cart.change": {"product_id": str(values["product_id"]), "quantity": "2"},
        "customers.register": {"name": "Siti", "email": "baru@example.id", "password": "kata sandi panjang",
                               "confirm": "kata sandi panjang"},
        "orders.track": {"number": values["number"], "email": "siti@example.id"},
        "catalog.staff_product": product,
        "catalog.staff_new_product": {**product, "facility_id": str(values["facility_id"]),
                                      "category_id": str(values["category_id"]), "stock": "5"},
        "catalog.admin_facility": {"name": "Lapas Uji", "city": "Palu", "facility_class": "IIA", "story_id": "",
                                   "story_en": "", "active": "1"},
        "catalog.admin_category": {"name_id": "Kerajinan", "name_en": "Crafts", "required_certs": "halal"},
        "checkout.save_rate": {"province": "Sulawesi Tengah", "first_kg": "12000", "next_kg": "8000",
                               "origin_region_id": ""},
        "fulfilment.stock_product": {"quantity": "5", "reason": "production", "note": "batch"},
        "fulfilment.act": {"facility_id": str(values["facility_id"]), "courier_id": str(values["courier_id"]),
                           "tracking_number": "JNE123", "reason": "rusak", "note": "catatan",
                           "transfer_reference": "TRF1"},
        "certification.staff_product": {"cert_type": "halal", "number": "ID311100000000000009", "issuer": "BPJPH",
                                        "issued_on": "2025-01-01", "expires_on": "2027-01-01"},
        "certification.override": {"requirements": "halal", "reason": "uji"},
        "certification.revoke": {"reason": "dicabut"},
        "certification.composition_changed": {"note": "resep baru"},
        "payments.confirm": {"reference": "BRI-123", "fee": "0"},
        "payments.reject": {"reason": "tidak terbaca"},
        "payments.refund": {"key": "k1", "amount": "1000", "reason": "rusak", "transfer_reference": "TRF9",
                            f"qty-{values['line_id']}": "1", "shipping": "y"},
        "ledger.rules": {"effective_from": "2026-12-01", "pnbp": "15", "premi": "15", "cooperative": "55",
                         "production_capital": "15", "base": "gross"},
        "ledger.deposits_page": {"facility_id": str(values["facility_id"]), "amount": "1000", "month_1": "2026-10",
                                 "amount_1": "1000", "billing_code": "820261015000124",
                                 "billing_expires_on": "2026-11-06", "ntpn": "0A1B2C3D4E5F6G7X", "ntb": "BRI2",
                                 "deposited_on": "2026-11-03", "bank": "BRI"},
        "ledger.reverse_deposit": {"reason": "salah ketik"},
        "ledger.close_month": {}, "ledger.reopen_month": {"reason": "koreksi"},
        "ledger.deposit_regime": {"regime": "periodic", "days": "7", "back": "/staf"},
        "accounts.create_user": {"email": "staf.baru@example.id", "password": "kata sandi panjang",
                                 "roles": "facility", "facility_id": str(values["facility_id"]), "name": "Staf"},
        "accounts.update_user": {"roles": "facility", "facility_id": str(values["facility_id"]), "active": "1"},
    }


def form_data(data: st.DataObject, endpoint: str, values: dict) -> dict[str, str]:
    """Half the time a valid submission with one to three fields made odd or left out, else any fields."""
    template = valid_forms(values).get(endpoint)
    if template and data.draw(st.booleans(), label="from a valid form"):
        form = dict(template)
        for name in data.draw(st.lists(st.sampled_from(sorted(form)), min_size=1, max_size=3, unique=True),
                              label="odd fields"):
            if data.draw(st.booleans(), label="leave out"):
                form.pop(name)
            else:
                form[name] = data.draw(VALUE, label=name)
        return form
    return data.draw(st.dictionaries(st.sampled_from(PARAMETERS), VALUE, max_size=8), label="params")


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
    # Logging out and changing the password end the staff session the fuzz works in: their own tests cover them.
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint not in ("static", "accounts.logout", "accounts.password")]
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
    params = form_data(data, rule.endpoint, values) if method == "POST" else \
        data.draw(st.dictionaries(st.sampled_from(PARAMETERS), VALUE, max_size=8), label="params")
    if rule.endpoint == "payments.stripe_webhook":
        params = {"body": data.draw(st.one_of(st.just(json.dumps(params)), st.binary(max_size=200).map(repr)),
                                    label="body")}
    check_request(clients[who], writes, method, url, params, who)


def check_request(client, writes: Writes, method: str, url: str, params: dict, who: str,
                  refused_writes_nothing: bool = False) -> None:
    """Send one request; whatever it carries: no 5xx, no markup reflected, nothing committed when refused (a
    4xx, or with `refused_writes_nothing`, an answer that shows the person an error)."""
    writes.committed = []
    if url == "/stripe/webhook":
        response = client.post(url, data=params.get("body", ""), headers={"Stripe-Signature": "t=1,v1=x"})
    elif method == "GET":
        response = client.get(url, query_string=params)
    else:
        response = client.open(url, method=method, data=params)
    page = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    response.close()
    shown_error = 'role="alert"' in page or "flash-error" in page
    if refused_writes_nothing and response.status_code in (301, 302, 303):
        with client.session_transaction() as session:
            flashes = session.pop("_flashes", [])
        shown_error = any(category == "error" for category, _message in flashes)
    if shown_error and refused_writes_nothing:
        assert not _real_writes(writes.committed), f"{method} {url} {params!r} as {who}: refused, yet wrote " \
                                                   f"{_real_writes(writes.committed)[:3]}"

    assert response.status_code < 500, f"{method} {url} {params!r} as {who}: {response.status_code}"
    assert MARKUP not in page, f"{method} {url} {params!r} as {who}: markup reflected"
    if 400 <= response.status_code < 500:
        assert not writes.committed, f"{method} {url} {params!r} as {who}: {response.status_code} wrote " \
                                     f"{writes.committed[:3]}"


def _real_writes(statements: list[str]) -> list[str]:
    """Writes that change something: not the order's row lock (an UPDATE setting the status to itself)."""
    return [s for s in statements if not re.match(r'UPDATE "order" SET status="order".status', s.strip())]


_SHAPES = valid_forms({"product_id": 1, "number": "KB", "facility_id": 1, "category_id": 1, "line_id": 1,
                       "courier_id": 1})
FORM_ENDPOINTS = sorted(_SHAPES)
STEPS = ["kemas", "kirim", "diterima", "batal", "retur", "catatan"]
# The desk's form is one form per step: a case each, so that the sweep spreads over the test workers.
FORM_CASES = [(endpoint, step) for endpoint in FORM_ENDPOINTS
              for step in (STEPS if endpoint == "fulfilment.act" else [None])]


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("endpoint, step", FORM_CASES, ids=[f"{e}-{s}" if s else e for e, s in FORM_CASES])
def test_each_field_of_each_form_with_each_odd_value_gets_no_5xx_and_a_refusal_writes_nothing(fuzz_world,
                                                                                               endpoint, step):
    """The systematic half of the fuzz: every form, submitted valid but for one field, for every field and every
    odd value (and once with the field left out), as staff (and as a visitor where the form is public). One case
    per form (per step of the desk's)."""
    values, clients, rules, writes = fuzz_world
    rule = next(rule for rule in rules if rule.endpoint == endpoint and "POST" in rule.methods)
    urls = [rule.build({**{name: values.get(name, "x") for name in rule.arguments}, "step": step},
                       append_unknown=False)[1]]
    who = ["staff"] if rule.rule.startswith("/staf") else ["anonymous", "staff"]
    template = valid_forms(values)[endpoint]
    for url in urls:
        for name in template:
            for value in [*ODD, None]:
                form = {**template, name: value} if value is not None else \
                    {k: v for k, v in template.items() if k != name}
                for person in who:
                    check_request(clients[person], writes, "POST", url, form, person, refused_writes_nothing=True)
