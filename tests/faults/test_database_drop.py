"""The database connection dropped in the middle of placing an order (PostgreSQL: the server ends the backend,
as a restart or a failover does): the buyer gets a clear page, nothing of the order is written, the typed
address survives, and the next request works on a fresh connection."""

from __future__ import annotations

import os

import psycopg
import pytest
from sqlalchemy import event

from shop.extensions import db
from tests import factories as f
from tests.conftest import is_postgres
from tests.helpers import text_of
from tests.invariants import assert_nothing_lost
from tests.orders.test_buyer_path import ADDRESS

pytestmark = pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test")


class DropConnectionAt:
    """Ends the server process behind the connection that is about to run a statement containing `marker`."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.dropped = 0

    def __call__(self, conn, cursor, statement, *args) -> None:
        if self.marker in statement and not self.dropped:
            self.dropped += 1
            pid = cursor.connection.info.backend_pid
            url = os.environ["TEST_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.parametrize("marker", ["INSERT INTO order_line", "UPDATE product SET stock"])
def test_a_connection_dropped_while_the_order_is_written_leaves_no_order_and_a_clear_message(client, marker):
    bag = f.product(name_id="Tas Rajut Selempang", price=175_000, stock=5)
    f.courier("jne", {"Sulawesi Tengah": (12_000, 8_000)})
    db.session.commit()
    client.post("/keranjang/tambah", data={"product_id": bag.id, "quantity": 2})
    drop = DropConnectionAt(marker)
    event.listen(db.engine, "before_cursor_execute", drop)
    try:
        page = client.post("/checkout", data={**ADDRESS, "courier": "jne", "action": "place"})
    finally:
        event.remove(db.engine, "before_cursor_execute", drop)

    assert drop.dropped == 1
    assert page.status_code == 503 and page.headers["Retry-After"]
    assert "tidak ada pesanan yang dibuat" in text_of(page)
    assert_nothing_lost({bag.id: 5})  # no order, no line, no stock taken

    assert client.get("/healthz").status_code == 200  # a fresh connection: the shop answers again
    again = client.get("/checkout").get_data(as_text=True)
    assert 'value="Siti Aminah"' in again and 'value="Jl. Sisingamangaraja 12"' in again  # typing kept
    placed = client.post("/checkout", data={**ADDRESS, "courier": "jne", "action": "place"})
    assert placed.status_code == 302
    assert_nothing_lost({bag.id: 5})
