"""Placing orders on one hot product: throughput of `place_order` as a ratio to the bare conditional UPDATE
that takes the stock, measured in the same run, on PostgreSQL (or SQLite) with several threads.

    .venv/bin/python bench/orders.py [--database postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                     [--threads 8] [--orders 400]

A throw-away database is created (PostgreSQL) or a temporary file used (SQLite). The ratio says how much
the rest of placing an order (lines, events, numbering, the movement row) costs on top of the one
statement that serialises buyers of the same product. Never run by the test suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test factories build the data

from shop import create_app  # noqa: E402
from shop.catalog.models import Product  # noqa: E402
from shop.extensions import db  # noqa: E402
from tests import factories as f  # noqa: E402


def run(app, threads: int, per_thread: int, work) -> float:
    barrier = threading.Barrier(threads)

    def worker() -> None:
        with app.app_context():
            barrier.wait()
            for _ in range(per_thread):
                work()
                db.session.commit()
            db.session.remove()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return threads * per_thread / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a server URL to create a scratch database on, or 'sqlite'")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--orders", type=int, default=400)
    args = parser.parse_args()
    per_thread = max(1, args.orders // args.threads)
    scratch = None
    tmp = tempfile.TemporaryDirectory()
    if args.database == "sqlite":
        url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite'}"
    else:
        scratch = f"kb_bench_{uuid.uuid4().hex[:8]}"
        admin = args.database.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {scratch}")
        url = args.database.rsplit("/", 1)[0] + "/" + scratch
    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "UPLOAD_FOLDER": tmp.name,
                          "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": args.threads + 2}})
        with app.app_context():
            db.create_all()
            item = f.product(stock=10 * args.orders)
            courier = f.courier()
            db.session.commit()
            item_id, courier_id = item.id, courier.id

        def bare_update() -> None:
            db.session.execute(update(Product).where(Product.id == item_id, Product.stock >= 1)
                               .values(stock=Product.stock - 1))

        def place() -> None:
            from shop.orders.service import place_order

            place_order({item_id: 1}, f.BUYER, courier_id)

        baseline = run(app, args.threads, per_thread, bare_update)
        orders = run(app, args.threads, per_thread, place)
        print(f"{'database':10} {url.split(':')[0]}, {args.threads} threads, {per_thread * args.threads} of each")
        print(f"{'baseline':10} {baseline:8.0f} stock UPDATEs/s   ratio 1.00")
        print(f"{'orders':10} {orders:8.0f} orders placed/s   ratio {orders / baseline:.2f}")
        with app.app_context():
            db.engine.dispose()
    finally:
        if scratch:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        tmp.cleanup()


if __name__ == "__main__":
    main()
