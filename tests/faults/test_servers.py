"""The shop on real gunicorn servers against one PostgreSQL (and one Redis): workers killed with SIGKILL in the
middle of a burst of checkouts, and two servers taking buyers, double webhooks and password guesses in turn.
Afterwards nothing is half-written or oversold, every order is paid and booked once, and limits are shared."""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from shop.extensions import db
from shop.orders.models import Order, OrderEvent, OrderStatus
from shop.payments.models import Payment, PaymentStatus
from tests import factories as f
from tests.conftest import app_database_url, is_postgres
from tests.helpers import redis_or_skip
from tests.invariants import assert_nothing_lost
from tests.ledger.factories import rule
from tests.orders.test_buyer_path import ADDRESS
from tests.servers import Buyer, Gunicorn, NoForm, csrf_token, server_env

pytestmark = pytest.mark.skipif(not is_postgres(), reason="runs in the PostgreSQL pass of scripts/test")


def catalogue(stocks: list[int]):
    rule()
    palu = f.facility(name="Lapas Perempuan Kelas III Palu")
    products = [f.product(facility=palu, name_id=f"Tas Rajut {n}", price=100_000, stock=stock)
                for n, stock in enumerate(stocks)]
    f.courier("jne", {"Sulawesi Tengah": (12_000, 8_000)})
    db.session.commit()
    return products


def buy(server: str, product: tuple[int, str]) -> object:
    buyer = Buyer()
    try:
        buyer.add_to_cart(server, *product)
        return buyer, buyer.place_order(server, ADDRESS, "jne")
    except (requests.RequestException, NoForm) as error:  # the worker died under the request
        return buyer, error


def test_workers_killed_during_a_burst_of_checkouts_leave_nothing_half_written(tmp_path):
    products = catalogue([6, 6, 6])
    snapshot = [(p.id, p.slug) for p in products]
    server = Gunicorn(server_env(app_database_url(os.environ["TEST_DATABASE_URL"])), workers=3,
                      log=tmp_path / "gunicorn.log")
    killed: list[int] = []
    done = threading.Event()

    def killer() -> None:
        time.sleep(0.5)
        while not done.is_set() and len(killed) < 4:
            killed.append(server.kill_worker())
            time.sleep(0.4)

    try:
        threading.Thread(target=killer, daemon=True).start()
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda n: buy(server.url, snapshot[n % 3]), range(36)))
        done.set()
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200  # workers were replaced
    finally:
        done.set()
        server.stop()

    assert len(killed) >= 2
    errors = [str(answer)[:200] for _, answer in results if isinstance(answer, NoForm)]
    assert all("Karya Binaan" in error for error in errors), errors  # a page of the shop, not a crash
    numbers = {number for _, number in results if isinstance(number, str)}
    db.session.expire_all()
    stored = set(db.session.scalars(select(Order.number)))
    assert numbers <= stored  # every order a buyer was told about exists, whole
    assert numbers, "no checkout got through at all"
    assert_nothing_lost({pid: 6 for pid, _ in snapshot})


def test_two_servers_share_carts_payments_and_limits_with_no_oversell_and_one_booking_per_order(
        tmp_path, stripe_rig):
    from tests.payments.stripe_rig import API_KEY, WEBHOOK_SECRET

    hot, = catalogue([10])
    hot_id, hot_slug = hot.id, hot.slug  # plain values: the buyers' threads have no database session
    env = server_env(app_database_url(os.environ["TEST_DATABASE_URL"]), RATELIMIT_STORAGE_URI=redis_or_skip(),
                     RATELIMIT_KEY_PREFIX=f"kb-test-{uuid.uuid4().hex[:8]}", STRIPE_SECRET_KEY=API_KEY,
                     STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE=stripe_rig.api_base,
                     STRIPE_NETWORK_RETRIES="0")
    a = Gunicorn(env, workers=2, log=tmp_path / "a.log")
    try:
        b = Gunicorn(env, workers=2, log=tmp_path / "b.log")
    except Exception:
        a.stop()
        raise
    servers = itertools.cycle([a.url, b.url])
    try:
        # 24 buyers for 10 bags, each adding to the cart on one server and checking out on the other.
        def buyer(n: int):
            person = Buyer()
            try:
                person.add_to_cart(a.url if n % 2 else b.url, hot_id, hot_slug)
                return person, person.place_order(b.url if n % 2 else a.url, ADDRESS, "jne")
            except NoForm as page:  # sold out before this buyer saw it, or before it reached the cart
                assert "Habis" in page.page or "<title>Keranjang" in page.page, str(page)
                return person, page

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(buyer, range(24)))
        paid = [(person, number) for person, number in results if isinstance(number, str)]
        assert len(paid) == 10
        for _, answer in results:  # the others were told it is sold out: on the page, or back in their cart
            assert isinstance(answer, str) or isinstance(answer, NoForm) or (
                answer.status_code == 302 and "/keranjang" in answer.headers["Location"])

        # Each buyer pays by card on one server; Stripe's webhook arrives twice at each server at once.
        for person, number in paid:
            page = person.http.get(f"{next(servers)}/pesanan/{number}/bayar", timeout=30).text
            answer = person.http.post(f"{next(servers)}/pesanan/{number}/bayar/kartu", timeout=30,
                                      data={"csrf_token": csrf_token(page)}, allow_redirects=False)
            assert answer.status_code == 303, answer.text[:300]
        db.session.expire_all()
        sessions = db.session.scalars(select(Payment.stripe_checkout_session_id)).all()
        assert len(sessions) == 10
        deliveries = []
        for session_id in sessions:
            stripe_rig.complete_checkout(session_id)
            body, headers = stripe_rig.signed(stripe_rig.completed_event(session_id))
            deliveries += [(url, body, headers) for url in (a.url, b.url, a.url, b.url)]
        random.Random(7).shuffle(deliveries)
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda d: requests.post(f"{d[0]}/stripe/webhook", data=d[1], headers=d[2],
                                                          timeout=30).status_code, deliveries))
        assert set(codes) == {200}

        # Password guesses alternate between the servers: one limit, counted in Redis.
        guesser = requests.Session()
        answers = []
        for _ in range(12):
            url = next(servers)
            token = csrf_token(guesser.get(f"{url}/masuk", timeout=30).text)
            answers.append(guesser.post(f"{url}/masuk", timeout=30, data={
                "email": "admin@koperasi.id", "password": "wrong-wrong", "csrf_token": token}).status_code)
        assert answers == [200] * 10 + [429] * 2
    finally:
        a.stop()
        b.stop()

    db.session.expire_all()
    orders = db.session.scalars(select(Order)).all()
    assert len(orders) == 10 and all(order.status is OrderStatus.PAID for order in orders)
    for order in orders:
        assert db.session.scalar(select(func.count()).select_from(OrderEvent).where(
            OrderEvent.order_id == order.id, OrderEvent.to_status == OrderStatus.PAID)) == 1
        assert db.session.scalar(select(func.count()).select_from(Payment).where(
            Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED)) == 1
    assert_nothing_lost({hot_id: 10})  # includes `ledger verify`: exactly one sale set per line
