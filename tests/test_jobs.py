"""Background jobs on RQ over a real Redis: the mail a checkout wrote goes out from the worker, not in the
buyer's request, exactly once; a Redis that is down delays mail but loses none; the schedule queues the chores
that cron lines used to run, and the worker runs them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from shop import jobs
from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.outbox.models import MailStatus, OutboxMessage
from shop.timeutil import today, utcnow
from tests import factories as f
from tests.helpers import redis_or_skip
from tests.orders.test_buyer_path import ADDRESS

REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture
def job_queue(app: Flask) -> Iterator[str]:
    """MAIL_DELIVERY=queue on a queue of this test's own in Redis's database 15."""
    redis_or_skip(REDIS)
    name = f"kb-test-{uuid.uuid4().hex[:8]}"
    saved = {key: app.config[key] for key in ("MAIL_DELIVERY", "JOB_QUEUE_URL", "JOB_QUEUE_NAME")}
    app.config.update(MAIL_DELIVERY="queue", JOB_QUEUE_URL=REDIS, JOB_QUEUE_NAME=name)
    try:
        yield name
    finally:
        jobs.queue().empty()
        app.config.update(saved)


def checkout(client) -> str:
    bag = f.product(name_id="Tas Rajut Selempang", price=175_000, stock=5)
    f.courier("jne", {"Sulawesi Tengah": (12_000, 8_000)})
    db.session.commit()
    client.post("/keranjang/tambah", data={"product_id": bag.id, "quantity": 1})
    placed = client.post("/checkout", data={**ADDRESS, "courier": "jne", "action": "place"})
    assert placed.status_code == 302
    return db.session.scalar(select(Order.number))


def test_the_confirmation_is_sent_by_the_worker_not_in_the_request_and_only_once(client, smtp_inbox, job_queue):
    number = checkout(client)

    assert smtp_inbox.messages == []  # the buyer's request did not wait for SMTP
    assert jobs.queue().count == 1

    jobs.worker(burst=True)
    jobs.enqueue("deliver_mail")  # a job delivered twice (a retry, a second worker) sends nothing twice
    jobs.worker(burst=True)

    assert [m["Subject"] for m in smtp_inbox.messages] == [f"Pesanan {number} Anda di Karya Binaan"]
    assert jobs.queue().count == 0


def test_with_redis_down_the_order_is_placed_and_its_mail_waits_in_the_outbox(app, client, smtp_inbox, job_queue):
    app.config["JOB_QUEUE_URL"] = "redis://127.0.0.1:9/0"  # nothing listens there
    checkout(client)

    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert row.status is MailStatus.PENDING and smtp_inbox.messages == []

    app.config["JOB_QUEUE_URL"] = REDIS  # back: the schedule's next run delivers it
    jobs.deliver_mail()
    assert len(smtp_inbox.messages) == 1


def test_the_schedule_queues_the_chores_and_the_worker_expires_unpaid_orders(app, smtp_inbox, job_queue):
    item = f.product(stock=3)
    order = f.order({item: 2})
    db.session.commit()
    app.config["FROZEN_NOW"] = utcnow() + timedelta(hours=2)  # past the payment deadline

    cron = jobs.scheduler()
    due = cron.enqueue_jobs()

    assert sorted(job.func_name for job in due) == ["shop.jobs.deliver_mail", "shop.jobs.expire_orders",
                                                    "shop.jobs.sync_online_payments"]
    # The alerts wait for 06:00 in the shop's time zone, written in the server's own for RQ's cron.
    assert [job.cron for job in cron.get_jobs() if job.cron] == [
        jobs.local_cron("06:00", app.config["SHOP_TIMEZONE"]),  # the certificate list
        jobs.local_cron("00:05", app.config["SHOP_TIMEZONE"])]  # lots near their best-before date set aside
    jobs.worker(burst=True)
    db.session.expire_all()
    assert order.status is OrderStatus.CANCELLED and item.stock == 3


def test_the_worker_command_says_what_is_missing_without_a_queue(app):
    result = CliRunner().invoke(app.cli, ["jobs", "worker", "--burst"])
    assert result.exit_code != 0 and "JOB_QUEUE_URL is not set" in result.output


def test_the_daily_list_runs_at_six_in_the_shops_time_zone_whatever_the_servers():
    from datetime import UTC
    from zoneinfo import ZoneInfo

    assert jobs.local_cron("06:00", "Asia/Makassar", UTC) == "0 22 * * *"  # 06:00 WITA is 22:00 UTC the day before
    assert jobs.local_cron("06:00", "Asia/Makassar", ZoneInfo("Asia/Jakarta")) == "0 5 * * *"
    assert jobs.local_cron("06:00", "Asia/Makassar", ZoneInfo("Asia/Makassar")) == "0 6 * * *"


def test_the_certificate_list_is_queued_once_a_day_however_often_its_job_runs(app):
    from shop.certification.alerts import send_alerts
    from shop.certification.service import alerts
    from shop.outbox.models import OutboxMessage

    f.product(name_id="Abon", category=f.food_category())  # food without certificates: not sellable, listed
    db.session.commit()
    found = alerts(60)
    assert found.unsellable

    for _ in range(3):  # two schedulers and an RQ retry
        send_alerts(found, "koperasi@example.id", 60, daily=True)
    send_alerts(found, "koperasi@example.id", 60)  # asked for by hand: sent again

    kinds = db.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "certificates.alerts"))
    assert sorted(map(str, kinds)) == sorted(["None", f"certificates.alerts:koperasi@example.id:{today().isoformat()}"])
