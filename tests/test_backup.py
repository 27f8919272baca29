"""README's backup and restore: a dump restored into an empty database holds every order, payment and ledger
entry, and the private uploads come back with it (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from shop.extensions import db
from shop.ledger.models import LedgerEntry
from shop.orders.models import Order
from shop.payments.models import Payment
from tests import factories as f
from tests.conftest import is_postgres
from tests.ledger.factories import paid, rule

ROOT = Path(__file__).resolve().parent.parent


def run(action: str, directory: Path, url: str, uploads: Path, private: Path) -> None:
    env = {**os.environ, "DATABASE_URL": url, "UPLOAD_FOLDER": str(uploads), "PRIVATE_UPLOAD_FOLDER": str(private),
           "SECRET_KEY": "backup-test"}
    done = subprocess.run([sys.executable, "scripts/backup.py", action, str(directory)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def counts(url: str) -> tuple[int, int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(connection.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]
                         for model in (Order.__table__, Payment.__table__, LedgerEntry.__table__))
    finally:
        engine.dispose()


def test_a_backup_restored_into_an_empty_database_holds_every_order_payment_and_ledger_entry(app, database_url,
                                                                                           tmp_path):
    from shop.uploads import save_private_document

    rule()
    for price in (45_000, 175_000):
        order, payment = paid({f.product(price=price): 2})
        payment.receipt = save_private_document(f.PNG, "receipts")
    db.session.commit()
    expected = (db.session.scalar(select(func.count(Order.id))), db.session.scalar(select(func.count(Payment.id))),
                db.session.scalar(select(func.count(LedgerEntry.id))))
    receipt = payment.receipt
    uploads, private = Path(app.config["UPLOAD_FOLDER"]), Path(app.config["PRIVATE_UPLOAD_FOLDER"])

    run("backup", tmp_path / "backup", database_url, uploads, private)

    if is_postgres():
        name = f"kb_restore_{uuid.uuid4().hex[:8]}"
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        target = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    else:
        target = f"sqlite:///{tmp_path / 'restored' / 'shop.sqlite'}"
    try:
        run("restore", tmp_path / "backup", target, tmp_path / "new-uploads", tmp_path / "new-private")
        assert counts(target) == expected and expected[2] > 0
        assert (tmp_path / "new-private" / receipt).read_bytes() == (private / receipt).read_bytes()
    finally:
        if is_postgres():
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            admin.dispose()
