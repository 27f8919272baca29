"""Catalog page cost as a ratio to a bare database round trip (`/healthz`), measured in the same run.

    .venv/bin/python bench/catalog.py [--products 300] [--rounds 7] [--requests 40]

Builds a throw-away SQLite database with the demo catalogue plus N generated products, then times each
page through the WSGI app in interleaved rounds and reports the median time per request and its ratio to
the baseline. Absolute times vary from machine to machine; compare ratios. Never run by the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from shop import create_app, demo
from shop.catalog.models import Category, Facility, Product
from shop.extensions import db


def build(app, extra: int) -> dict[str, str]:
    with app.app_context():
        db.create_all()
        demo.load(with_images=False)
        facility = db.session.scalars(db.select(Facility)).first()
        category = db.session.scalars(db.select(Category)).first()
        for n in range(extra):
            db.session.add(Product(facility_id=facility.id, category_id=category.id, slug=f"bench-{n}",
                                   name_id=f"Produk uji {n}", name_en=f"Bench product {n}", price=10_000 + n,
                                   weight_g=250, stock=n % 7))
        db.session.commit()
        product = db.session.scalars(db.select(Product).order_by(Product.id)).first()
        return {
            "baseline /healthz": "/healthz",
            "home": "/",
            "product list": "/produk",
            "product list, filtered": "/produk?halal=1&sort=price_asc&page=2",
            "facilities": "/fasilitas",
            "facility page": f"/fasilitas/{facility.slug}",
            "product page": f"/produk/{product.slug}",
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite'}", "SECRET_KEY": "bench",
                          "UPLOAD_FOLDER": tmp, "RATELIMIT_ENABLED": False})
        pages = build(app, args.products)
        client = app.test_client()
        for url in pages.values():  # warm up: template compilation, connection pool
            assert client.get(url).status_code == 200, url
        samples: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(args.rounds):
            for name, url in pages.items():
                start = time.perf_counter()
                for _ in range(args.requests):
                    client.get(url)
                samples[name].append((time.perf_counter() - start) / args.requests)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["baseline /healthz"]
    print(f"{'page':28} {'ms/request':>10} {'ratio':>7}   ({args.products} extra products)")
    for name, value in medians.items():
        print(f"{name:28} {value * 1000:10.2f} {value / base:7.1f}")


if __name__ == "__main__":
    main()
