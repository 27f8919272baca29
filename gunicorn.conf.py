"""gunicorn's settings file, read from the folder gunicorn starts in. Only what the metrics need (#30): with
PROMETHEUS_MULTIPROC_DIR set, the folder is emptied when the server starts (values of an earlier run would be added
up) and a worker that exits is marked dead, so its gauges leave /metrics while its counters still count."""

import os
from pathlib import Path

from prometheus_client import multiprocess


def on_starting(server):  # noqa: ARG001 - gunicorn's hook signature
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:  # only the metrics' own files: a folder set by mistake loses nothing else
        os.makedirs(folder, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink(missing_ok=True)


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
