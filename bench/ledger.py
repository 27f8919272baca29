"""The PNBP reconciliation over a year of ledger: 1,000,000 entries (12 months of 2026, 9 facilities in two
regions and zones, orders of 1-5 lines of 1-4 units, shipping, some refunds), deposits and closed months, on a
PostgreSQL scratch database. Reports, in the same run, the overview's query time, the overview page's and a
month page's full request time, and the yearly summary's, each as a ratio to the bare aggregate

    SELECT facility_id, month, SUM(amount) FROM ledger_entry GROUP BY facility_id, month

over the same table (median of several runs; compare ratios, not milliseconds).

    .venv/bin/python bench/ledger.py [--database postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                     [--entries 1000000] [--runs 7]

Budget (issue #12): within 2x of the bare aggregate and under 1 s. Never run by the test suite.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test factories build the catalogue

from shop import create_app  # noqa: E402
from shop.extensions import db  # noqa: E402
from shop.finance import reconciliation, reports  # noqa: E402
from shop.finance.models import PnbpDeposit, PnbpDepositMonth
from shop.ledger.models import PeriodClose  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.ledger.factories import rule  # noqa: E402

BARE = "SELECT facility_id, month, SUM(amount) FROM ledger_entry GROUP BY facility_id, month"
SHARES = (("pnbp", 1500), ("premi", 1500), ("cooperative", 5500), ("production_capital", 1500))


def split(amount: int) -> list[tuple[str, int]]:
    parts = [(name, amount * bp // 10_000) for name, bp in SHARES]
    rest = amount - sum(value for _, value in parts)
    return [(name, value + (rest if name == "cooperative" else 0)) for name, value in parts]


ORDER_COLUMNS = ('COPY "order" (id, number, status, email, name, phone, street, rt_rw, kelurahan, kecamatan, city, '
                 'province, postal_code, notes, language, courier_id, weight_g, subtotal, shipping_cost, total, '
                 'created_at, paid_at, stock_released) FROM STDIN')
LINE_COLUMNS = ("COPY order_line (id, order_id, product_id, facility_id, name, facility_name, unit_price, quantity, "
                "weight_g, returned_quantity, unit_cost) FROM STDIN")
ENTRY_COLUMNS = ("COPY ledger_entry (set_key, kind, part, amount, order_id, order_line_id, facility_id, month, day, "
                 "origin_month, quantity, booked_at, rule_id, note) FROM STDIN")


def copy_rows(conn: psycopg.Connection, statement: str, rows: list[tuple]) -> None:
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def build(conn: psycopg.Connection, facilities: list[tuple[int, str, int]], courier_id: int, rule_id: int,
          target: int, seed: int = 12) -> int:
    """COPY orders, lines and their ledger entries until `target` entries exist; returns the entries written.
    One connection runs one COPY at a time, so rows are gathered per batch and copied parents first."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    seconds = int((datetime(2026, 12, 31, 12, tzinfo=UTC) - start).total_seconds())
    written, order_id, line_id = 0, 0, 0
    orders: list[tuple] = []
    lines: list[tuple] = []
    entries: list[tuple] = []

    def flush() -> None:
        for statement, rows in ((ORDER_COLUMNS, orders), (LINE_COLUMNS, lines), (ENTRY_COLUMNS, entries)):
            copy_rows(conn, statement, rows)
            rows.clear()

    while written < target:
        order_id += 1
        paid_at = start + timedelta(seconds=rng.randrange(seconds))
        chosen = [rng.choice(facilities) for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 5)))]
        shipping = rng.choice((10_000, 15_000, 22_000))
        booked = []
        subtotal = 0
        for facility_id, zone, product_id in chosen:
            line_id += 1
            quantity, price = rng.randint(1, 4), rng.choice((25_000, 45_000, 85_000, 150_000))
            subtotal += quantity * price
            lines.append((line_id, order_id, product_id, facility_id, "Produk", "UPT", price, quantity, 250, 0, 0))
            local = paid_at.astimezone(ZoneInfo(zone))
            month, day = local.strftime("%Y-%m"), local.date()
            amount = quantity * price
            rows = [("gross", amount, quantity), *((name, value, 0) for name, value in split(amount))]
            for part, value, units in rows:
                entries.append((f"sale:L{line_id}", "sale", part, value, order_id, line_id, facility_id, month, day,
                                month, units, paid_at, rule_id, ""))
            written += len(rows)
            booked.append((line_id, facility_id, zone, amount, quantity, month))
        entries.append((f"shipping:O{order_id}", "shipping", "shipping", shipping, order_id, None, None,
                        paid_at.astimezone(ZoneInfo("Asia/Makassar")).strftime("%Y-%m"), paid_at.date(),
                        paid_at.strftime("%Y-%m"), 0, paid_at, None, ""))
        written += 1
        if rng.random() < 0.03:  # a full refund of one line, a few days later
            line, facility_id, zone, amount, quantity, origin = booked[0]
            at = paid_at + timedelta(days=rng.randint(1, 20))
            local = at.astimezone(ZoneInfo(zone))
            month = local.strftime("%Y-%m")
            rows = [("gross", -amount, -quantity), *((n, -v, 0) for n, v in split(amount))]
            for part, value, units in rows:
                entries.append((f"refund:R{order_id}:L{line}", "refund_reversal", part, value, order_id, line,
                                facility_id, month, local.date(), origin, units, at, rule_id, ""))
            written += len(rows)
        orders.append((order_id, f"KB-B{order_id:08d}", "delivered", "pembeli@example.id", "Pembeli", "+6281234567890",
                       "Jl. Contoh 1", "001/002", "Besusu", "Palu Timur", "Kota Palu", "Sulawesi Tengah", "94111", "",
                       "id", courier_id, 250, subtotal, shipping, subtotal + shipping, paid_at, paid_at, False))
        if len(orders) >= 5_000:
            flush()
    flush()
    conn.execute(f"SELECT setval(pg_get_serial_sequence('\"order\"', 'id'), {order_id})")
    conn.execute(f"SELECT setval(pg_get_serial_sequence('order_line', 'id'), {line_id})")
    conn.commit()
    return written


def deposits_and_closes() -> None:
    """Each facility deposits each month's PNBP in full but the last two months; January to September closed."""
    rows = db.session.execute(text("SELECT facility_id, month, SUM(amount) FROM ledger_entry WHERE part = 'pnbp' "
                                   "GROUP BY facility_id, month")).tuples().all()
    for n, (facility_id, month, amount) in enumerate(rows):
        if month >= "2026-11":
            continue
        deposit = PnbpDeposit(facility_id=facility_id, amount=int(amount), billing_code="8" * 15,
                              billing_expires_on=date(2027, 1, 10), ntpn=f"BENCH{n:011d}", ntb=str(n),
                              deposited_on=date(2026, 12, 31), bank="BRI")
        deposit.months = [PnbpDepositMonth(month=month, amount=int(amount))]
        db.session.add(deposit)
        if month <= "2026-09":
            db.session.add(PeriodClose(facility_id=facility_id, month=month, accrued=int(amount),
                                       deposited=int(amount)))
    db.session.commit()


def median_seconds(work, runs: int) -> float:
    work()  # warm: the first run pays for connections, caches and query plans
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server URL to create a scratch database on")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    scratch = f"kb_bench_{uuid.uuid4().hex[:8]}"
    admin = args.database.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {scratch}")
    url = args.database.rsplit("/", 1)[0] + "/" + scratch
    tmp = tempfile.TemporaryDirectory()
    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "UPLOAD_FOLDER": tmp.name,
                          "WTF_CSRF_ENABLED": False,
                          "FROZEN_NOW": datetime(2027, 1, 4, 3, 0, tzinfo=UTC)})
        with app.app_context():
            db.create_all()
            rule_id = rule().id
            sulteng, jambi = f.region(name="Sulawesi Tengah"), f.region(name="Jambi")
            facilities = []
            for n in range(9):
                zone = "Asia/Jakarta" if n >= 6 else "Asia/Makassar"
                facility = f.facility(region=jambi if n >= 6 else sulteng, timezone=zone)
                facilities.append((facility.id, zone, f.product(facility=facility).id))
            courier_id = f.courier().id
            finance_email = f.user("finance").email
            db.session.commit()
            started = time.perf_counter()
            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
                written = build(conn, facilities, courier_id, rule_id, args.entries)
            deposits_and_closes()
            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            print(f"built {written:,} ledger entries in {time.perf_counter() - started:.0f} s "
                  f"({db.session.scalar(text('SELECT count(*) FROM pnbp_deposit'))} deposits)")
            slug = db.session.scalar(text("SELECT slug FROM facility ORDER BY id LIMIT 1"))

        client = app.test_client()
        client.post("/masuk", data={"email": finance_email, "password": f.PASSWORD})

        def in_context(work):
            def run():
                with app.app_context():
                    work()
                    db.session.remove()
            return run

        def page(url_path: str):
            def run():
                response = client.get(url_path)
                assert response.status_code == 200, (url_path, response.status_code)
            return run

        measured = {
            "bare GROUP BY": median_seconds(in_context(lambda: db.session.execute(text(BARE)).all()), args.runs),
            "overview query": median_seconds(in_context(lambda: reconciliation.overview()), args.runs),
            "overview page": median_seconds(page("/staf/keuangan/pnbp"), args.runs),
            "overview page, 2026": median_seconds(page("/staf/keuangan/pnbp?year=2026"), args.runs),
            "month page": median_seconds(page(f"/staf/keuangan/pnbp/{slug}/2026-06"), args.runs),
            "summary page 2026": median_seconds(page("/staf/keuangan/ringkasan?year=2026"), args.runs),
            "impact figures": median_seconds(in_context(lambda: reports._impact(2026)), args.runs),
        }
        base = measured["bare GROUP BY"]
        print(f"{'':22} {'median':>9} {'ratio':>6}   (budget: ratio <= 2.00 and < 1 s for the reconciliation)")
        for name, seconds in measured.items():
            print(f"{name:22} {seconds * 1000:7.1f}ms {seconds / base:6.2f}")
        with app.app_context():
            db.engine.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        tmp.cleanup()


if __name__ == "__main__":
    main()
