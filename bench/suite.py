"""The benchmark suite: every budget of the performance issue, measured over HTTP in one run, as ratios.

    scripts/bench [--seconds 8] [--products 10000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432]
                  [--json bench/results.json]

1. Catalog throughput: gunicorn (2 sync workers) on a throw-away SQLite database with the demo data plus
   N products; `wrk` (2 threads, 8 connections) against a bare route of the same app and against the home,
   product list, facility and product pages, each right after the bare route with the same request headers
   (the same browser: its cookie is read for both). As configured, for these visitors:
   - a signed-in customer with a cart: the page is not served whole from the cache; they are loaded from the
     database and their header (cart link, account links, messages) is rendered for them, into the part of the
     page every visitor shares. Budget: >= 0.30x the bare route;
   - an anonymous visitor's browser, sending back the cookie the page set on its first view (the product page's
     buy form gives a new visitor a session for its CSRF token), and the same browser again (a 304): the whole
     page from the cache. Budget: >= 0.80x with p99 < 50 ms;
   - for reference, without a budget: the first view (no cookie: a new session is made and signed each time),
     the shop with no page cache (CATALOG_PAGE_CACHE=0: what rendering a page costs with its cards and listing
     kept) and with no catalog cache at all (CATALOG_CACHE_SECONDS=0).
2. Checkout under contention: gunicorn (4 workers) on a scratch PostgreSQL database; 20 buyers at once,
   through the real cart and checkout forms, on one hot product and on 100 different products; checkouts per
   second as a ratio to the bare conditional stock UPDATE from 20 threads in the same run; zero oversell.
3. Page weight: the home and product pages' HTML, CSS and JS, before images, <= 100 KB (and gzipped).

Query budgets are not here: the test suite checks them (tests/catalog/test_query_counts.py). Absolute numbers
drift 30-60 % between runs on shared machines; the ratios are what is compared. Never run by the test suite.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from tests.servers import Buyer, Gunicorn  # noqa: E402

ADDRESS = {"name": "Siti Aminah", "email": "siti@example.id", "phone": "081234567890",
           "street": "Jl. Sisingamangaraja 12", "rt_rw": "003/005", "kelurahan": "Besusu Tengah",
           "kecamatan": "Palu Timur", "city": "Kota Palu", "province": "Sulawesi Tengah", "postal_code": "94111"}


def build_catalog(url: str, products: int) -> dict[str, str]:
    """Demo data plus `products` generated products; returns the pages to measure."""
    from sqlalchemy import insert, select

    from shop import create_app, demo
    from shop.catalog.models import Category, Facility, Product
    from shop.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        demo.load(with_images=False)
        facility = db.session.scalars(select(Facility).order_by(Facility.id)).first()
        crafts = next(c for c in db.session.scalars(select(Category).order_by(Category.id)) if not c.required_certs)
        db.session.execute(insert(Product), [
            {"facility_id": facility.id, "category_id": crafts.id, "slug": f"bench-{n}", "name_id": f"Produk uji {n}",
             "name_en": f"Bench product {n}", "price": 10_000 + n, "weight_g": 250, "stock": 1 + n % 40}
            for n in range(products)])
        from shop.customers.service import register

        register(CUSTOMER[0], "Pembeli Bench", CUSTOMER[1])
        db.session.commit()
        product = db.session.scalars(select(Product).where(Product.slug == "bench-1")).one()
        pages = {"home": "/", "product list": "/produk", "facility page": f"/fasilitas/{facility.slug}",
                 "product page": f"/produk/{product.slug}"}
        db.engine.dispose()
    return pages


def wrk(url: str, seconds: int, headers: tuple[str, ...] = ()) -> tuple[float, float]:
    """Requests per second and the 99th percentile latency in ms."""
    extra = [part for header in (f"User-Agent: {USER_AGENT}", *headers) for part in ("-H", header)]
    subprocess.run(["wrk", "-t2", "-c8", "-d1s", *extra, url], capture_output=True, check=True)  # warm up
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", *extra, url], capture_output=True,
                         text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    if "Non-2xx" in out and not any(header.startswith("If-None-Match") for header in headers):
        raise RuntimeError(f"{url} answered errors under load:\n{out}")
    return rate, p99


CUSTOMER = ("pembeli@example.id", "kata sandi bench")
USER_AGENT = "karya-binaan-bench"


def signed_in_cookie(base: str, product_path: str) -> str:
    """The Cookie header of a signed-in customer with two bags in the cart: a visitor whose page has parts of
    their own, so is never served whole from the cache."""
    from tests.servers import csrf_token

    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT  # as wrk sends: Flask-Login ties the session to the browser
    token = csrf_token(http.get(f"{base}/akun/masuk", timeout=30).text)
    answer = http.post(f"{base}/akun/masuk", data={"email": CUSTOMER[0], "password": CUSTOMER[1],
                                                     "csrf_token": token}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, "the bench customer could not sign in"
    page = http.get(base + product_path, timeout=30).text
    product_id = re.search(r'name="product_id" value="(\d+)"', page).group(1)
    http.post(f"{base}/keranjang/tambah", data={"product_id": product_id, "quantity": 2,
                                                "csrf_token": csrf_token(page)}, timeout=30)
    page = http.get(base + product_path, timeout=30).text  # the cart's message shown: none waits any more
    assert "Akun saya" in page and 'class="cart-count"' in page, "the bench customer is not signed in"
    return "Cookie: " + "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def browsing_cookie(url: str) -> tuple[str, ...]:
    """What an anonymous browser sends after its first view of a page: the cookie the page set, if any (the
    product page's buy form gives a new visitor a session with a CSRF token)."""
    answer = requests.get(url, headers={"User-Agent": USER_AGENT}, timeout=30)
    return (f"Cookie: {'; '.join(f'{k}={v}' for k, v in answer.cookies.items())}",) if answer.cookies else ()


def repeat_view(url: str) -> tuple[str, ...]:
    """The same browser again: it asks with the page's ETag, and gets a 304."""
    return (f"If-None-Match: {requests.get(url, timeout=30).headers['ETag']}",)


# (configuration, its settings, its visitors: label, the headers their browser sends, their budget)
CONFIGURATIONS = (
    ("no cache", {"CATALOG_CACHE_SECONDS": "0"}, (("no cache at all", lambda url: (), None),)),
    ("no page cache", {"CATALOG_PAGE_CACHE": "0"},
     (("no page cache: cards and listings kept", lambda url: (), None),)),
    ("as configured", {}, (
        ("signed in, with a cart", None, "signed in"),  # the cookie: signed_in_cookie, once per server
        ("anonymous, first view", lambda url: (), None),
        ("anonymous", browsing_cookie, "anonymous"),
        ("anonymous, repeat view: 304", repeat_view, "anonymous"),
    )),
)
BUDGETS = {"signed in": (">= 0.30x", lambda ratio, p99: ratio >= 0.30),
           "anonymous": (">= 0.80x, p99 < 50 ms", lambda ratio, p99: ratio >= 0.80 and p99 < 50)}


def catalog_throughput(seconds: int, products: int) -> list[dict]:
    """Each page's rate is divided by the bare route's, measured just before it with the same request headers
    (the same browser: what Flask itself does for it, reading its session cookie, is in both), so that neither
    the machine's drift during the suite nor the cookie tilts the ratio."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        pages = build_catalog(url, products)
        for config, settings, visitors in CONFIGURATIONS:
            env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "UPLOAD_FOLDER": tmp, "PRIVATE_UPLOAD_FOLDER": tmp,
                   **settings}
            server = Gunicorn(env, workers=2, app="bench.app:app")
            try:
                signed_in = (signed_in_cookie(server.url, pages["product page"]),) if config == "as configured" else ()
                for name, path in pages.items():
                    for visitor, headers_for, budget in visitors:
                        headers = signed_in if headers_for is None else headers_for(server.url + path)
                        bare, bare_p99 = wrk(f"{server.url}/bench/bare", seconds, headers)
                        rate, p99 = wrk(server.url + path, seconds, headers)
                        ratio = rate / bare
                        wanted, check = BUDGETS[budget] if budget else ("", None)
                        rows.append({"measure": f"{name} ({visitor})", "value": round(rate), "unit": "req/s",
                                     "ratio": round(ratio, 2), "p99_ms": round(p99, 1), "budget": wanted,
                                     "pass": check(ratio, p99) if check else None, "bare": round(bare),
                                     "bare_p99_ms": round(bare_p99, 1)})
            finally:
                server.stop()
    return rows


def search_throughput(seconds: int, products: int, pg: str) -> list[dict]:
    """#26: a search over the product list of `products` products under gunicorn, with the page cache off, as a ratio
    to the bare route measured just before it; on SQLite (FTS5) and on PostgreSQL (full-text, GIN). Budget >= 0.25x.
    """
    from sqlalchemy.engine import make_url

    from shop import create_app
    from shop.catalog.search import reindex
    from shop.extensions import db

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = f"kb_bench_{uuid.uuid4().hex[:8]}"
        admin = pg.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {scratch}")
        try:
            databases = (("SQLite", f"sqlite:///{Path(tmp) / 'search.sqlite'}"), ("PostgreSQL", f"{pg}/{scratch}"))
            for name, url in databases:
                build_catalog(url, products)
                app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
                with app.app_context():  # the generated products came past the ORM: give them their search text
                    reindex()
                    db.session.commit()
                    db.engine.dispose()
                env = {"DATABASE_URL": make_url(url).render_as_string(hide_password=False), "SECRET_KEY": "bench",
                       "UPLOAD_FOLDER": tmp, "PRIVATE_UPLOAD_FOLDER": tmp, "CATALOG_PAGE_CACHE": "0"}
                server = Gunicorn(env, workers=2, app="bench.app:app")
                try:
                    for query in ("", "keripik", "bawang gorng", "produk uji 77"):  # "": the list itself, for reference
                        path = "/produk?q=" + query.replace(" ", "+")
                        bare, bare_p99 = wrk(f"{server.url}/bench/bare", seconds)
                        rate, p99 = wrk(server.url + path, seconds)
                        rows.append({"measure": f"search {query!r}, {products} products ({name})" if query else
                                     f"product list without a query, {products} products ({name})",
                                     "value": round(rate), "unit": "req/s", "ratio": round(rate / bare, 2),
                                     "p99_ms": round(p99, 1), "budget": ">= 0.25x" if query else "",
                                     "pass": rate / bare >= 0.25 if query else None,
                                     "bare": round(bare), "bare_p99_ms": round(bare_p99, 1)})
                finally:
                    server.stop()
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
    return rows


def page_weight(base: str) -> list[dict]:
    rows = []
    for name, path in (("home", "/"), ("product page", None)):
        if path is None:
            listing = requests.get(f"{base}/produk", timeout=30).text
            path = re.search(r'href="(/produk/[^"?#]+)"', listing).group(1)
        html = requests.get(base + path, timeout=30).content
        assets = set(re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js)[^"]*)"', html))
        raw, zipped = len(html), len(gzip.compress(html))
        for asset in assets:
            body = requests.get(base + asset.decode(), timeout=30).content
            raw, zipped = raw + len(body), zipped + len(gzip.compress(body))
        rows.append({"measure": f"{name} weight before images", "value": round(raw / 1024, 1), "unit": "KB",
                     "ratio": None, "p99_ms": None, "budget": "<= 100 KB",
                     "pass": raw <= 100 * 1024, "gzip_kb": round(zipped / 1024, 1)})
    return rows


def checkout_contention(pg: str, seconds: int) -> list[dict]:
    """20 buyers at once through the real forms; checkouts/s against the bare stock UPDATE."""
    from sqlalchemy import select

    from shop import create_app
    from shop.catalog.models import Product
    from shop.extensions import db
    from tests import factories as f

    scratch = f"kb_bench_{uuid.uuid4().hex[:8]}"
    admin = pg.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {scratch}")
    url = f"{pg}/{scratch}"
    rows = []
    buyers = 20
    rounds = max(3, seconds // 2)
    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                          "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": buyers + 2}})
        with app.app_context():
            db.create_all()
            facility = f.facility(name="Lapas Perempuan Kelas III Palu")
            hot = f.product(facility=facility, slug="hot", stock=buyers * rounds - 7)  # 7 buyers must be refused
            many = [f.product(facility=facility, slug=f"p{n}", stock=rounds) for n in range(100)]
            f.courier("jne", {"Sulawesi Tengah": (12_000, 8_000)})
            db.session.commit()
            products = {"hot": [(hot.id, hot.slug)], "100": [(p.id, p.slug) for p in many]}
            baseline = _bare_updates(app, hot.id, buyers, rounds)
        rows.append({"measure": "bare conditional stock UPDATE, 20 threads", "value": round(baseline),
                     "unit": "updates/s", "ratio": 1.0, "p99_ms": None, "budget": "", "pass": None})
        with app.app_context():  # the bare run took units: put them back
            db.session.get(Product, hot.id).stock = buyers * rounds - 7
            db.session.commit()
        server = Gunicorn({"DATABASE_URL": url, "SECRET_KEY": "bench", "MAIL_DELIVERY": "worker"}, workers=4)
        try:
            for label, choice in (("one hot product", "hot"), ("100 different products", "100")):
                people = [Buyer() for _ in range(buyers)]
                placed, refused, elapsed = 0, 0, 0.0
                for r in range(rounds):
                    for n, person in enumerate(people):
                        pid, slug = products[choice][(n + r * buyers) % len(products[choice])]
                        person.http.cookies.clear()
                        person.add_to_cart(server.url, pid, slug)
                        person.token = _checkout_token(person, server.url)  # type: ignore[attr-defined]
                    start = time.perf_counter()
                    with ThreadPoolExecutor(buyers) as pool:
                        results = list(pool.map(lambda p: _place(p, server.url), people))
                    elapsed += time.perf_counter() - start
                    placed += sum(results)
                    refused += len(results) - sum(results)
                rate = placed / elapsed
                rows.append({"measure": f"checkouts/s, 20 buyers, {label}", "value": round(rate, 1),
                             "unit": "orders/s", "ratio": round(rate / baseline, 3), "p99_ms": None,
                             "budget": "zero oversell", "pass": None, "placed": placed, "refused": refused})
        finally:
            server.stop()
        with app.app_context():
            from shop.orders.models import OrderLine

            sold = dict(db.session.execute(select(OrderLine.product_id, db.func.sum(OrderLine.quantity))
                                           .group_by(OrderLine.product_id)).tuples().all())
            stocks = dict(db.session.execute(select(Product.id, Product.stock)).tuples().all())
            oversold = stocks[hot.id] < 0 or sold.get(hot.id, 0) != buyers * rounds - 7 - stocks[hot.id]
            for row in rows[1:]:
                row["pass"] = not oversold and min(stocks.values()) >= 0
            db.engine.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
    return rows


def _bare_updates(app, product_id: int, threads: int, rounds: int) -> float:
    from sqlalchemy import update

    from bench.orders import run
    from shop.catalog.models import Product
    from shop.extensions import db

    return run(app, threads, rounds * 5, lambda: db.session.execute(
        update(Product).where(Product.id == product_id, Product.stock >= 1).values(stock=Product.stock - 1)))


def _checkout_token(person: Buyer, server: str) -> str:
    from tests.servers import csrf_token

    return csrf_token(person.http.get(f"{server}/checkout", timeout=30).text)


def _place(person: Buyer, server: str) -> bool:
    answer = person.http.post(f"{server}/checkout", timeout=60, allow_redirects=False, data={
        **ADDRESS, "courier": "jne", "action": "place", "csrf_token": person.token})  # type: ignore[attr-defined]
    return "/bayar" in answer.headers.get("Location", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--pg", default=os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"))
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--only", choices=["search"], help="run only these rows (and write no results file)")
    args = parser.parse_args()
    if args.only == "search":
        for row in search_throughput(args.seconds, args.products, args.pg):
            verdict = "" if row["pass"] is None else ("pass" if row["pass"] else "MISS")
            print(f"{row['measure']:60} {row['value']:>8} req/s {row['ratio']:>5.2f}x p99 {row['p99_ms']:>6} ms "
                  f"{row['budget']} {verdict} (bare route {row['bare']} req/s)")
        return

    rows = catalog_throughput(args.seconds, args.products)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'weight.sqlite'}"
        build_catalog(url, 30)
        server = Gunicorn({"DATABASE_URL": url, "SECRET_KEY": "bench"}, workers=1, app="bench.app:app")
        try:
            rows += page_weight(server.url)
        finally:
            server.stop()
    rows += search_throughput(args.seconds, args.products, args.pg)
    rows += checkout_contention(args.pg, args.seconds)

    print(f"{'measure':52} {'value':>10} {'unit':9} {'ratio':>6} {'p99 ms':>7}  {'budget':24} result")
    for row in rows:
        verdict = "" if row["pass"] is None else ("pass" if row["pass"] else "MISS")
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
        p99 = "" if row["p99_ms"] is None else f"{row['p99_ms']:.1f}"
        extra = f" (gzip {row['gzip_kb']} KB)" if "gzip_kb" in row else ""
        extra += f" ({row['placed']} placed, {row['refused']} sold out)" if "placed" in row else ""
        extra += f" (bare route {row['bare']} req/s)" if "bare" in row else ""
        print(f"{row['measure']:52} {row['value']:>10} {row['unit']:9} {ratio:>6} {p99:>7}  {row['budget']:24} "
              f"{verdict}{extra}")
    machine = f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}"
    args.json.write_text(json.dumps({"ran_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine,
                                     "rows": rows}, indent=2) + "\n")
    print(f"\n{machine}; written to {args.json}")


if __name__ == "__main__":
    main()
