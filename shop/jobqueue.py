"""The job queue itself (RQ on the Redis named by JOB_QUEUE_URL): what a request uses to hand work to a worker.
The jobs live in `shop.jobs`, above every domain; this module sits at the bottom, so any layer may enqueue."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue

from shop import metrics
from shop.logs import request_id

log = logging.getLogger(__name__)


def is_configured() -> bool:
    return bool(current_app.config.get("JOB_QUEUE_URL"))


def connection() -> Any:
    return Redis.from_url(current_app.config["JOB_QUEUE_URL"], socket_connect_timeout=5, socket_timeout=10)


def queue() -> Any:
    return Queue(current_app.config["JOB_QUEUE_NAME"], connection=connection())


def _length() -> list[tuple[dict[str, str], float]]:
    """Jobs waiting, and how long the oldest has waited (only where a queue is configured)."""
    if not is_configured():
        return []
    waiting = queue()
    jobs = waiting.get_jobs(0, 0)
    oldest = jobs[0].enqueued_at if jobs and jobs[0].enqueued_at else None
    age = (datetime.now(UTC) - (oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC))).total_seconds() \
        if oldest else 0.0
    return [({"measure": "length"}, float(len(waiting))), ({"measure": "oldest_seconds"}, age)]


metrics.register_gauge("kb_job_queue", "The job queue: jobs waiting (length) and the oldest's age (oldest_seconds)",
                       _length)


def enqueue(name: str) -> bool:
    """Put a job on the queue; False (logged) when Redis cannot be reached: the work waits for the schedule,
    since every job only picks up what the database says is due."""
    try:
        queue().enqueue(f"shop.jobs.{name}", job_timeout=300, result_ttl=3600, failure_ttl=7 * 86400,
                        meta={"request_id": request_id()})  # the job's log lines carry the request's id
    except Exception:  # noqa: BLE001 - a queue that is down must not fail the request that already committed
        log.exception("could not enqueue %s; it runs at its next scheduled time", name)
        return False
    return True
