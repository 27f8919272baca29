"""The shop served by real gunicorn processes on loopback ports, configured through the environment exactly as
in production, for tests of what only several processes show (killed workers, two servers behind a balancer).
Buyers talk to them with `requests`, through the real forms and their CSRF tokens."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """One server: `gunicorn 'shop:create_app()'` (or another app) with `workers` sync workers."""

    def __init__(self, env: dict[str, str], workers: int = 2, log: Path | None = None,
                 app: str = "shop:create_app()") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._out = open(log, "ab") if log else None  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
             "--timeout", "60", "--graceful-timeout", "5", app],
            cwd=ROOT, env={**os.environ, **env}, stdout=self._out or subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {log}")
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def workers(self) -> list[int]:
        """The process ids of the workers now running (the master restarts killed ones)."""
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True,
                                  text=True).stdout.split()
        return [int(pid) for pid in children]

    def kill_worker(self) -> int:
        pid = self.workers()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._out:
            self._out.close()


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "SECRET_KEY": "shared-by-every-server", "MAIL_SERVER": "",
            "MAIL_DELIVERY": "worker", "DEMO_MODE": "", **extra}


class NoForm(Exception):
    """The page came back without the form (sold out, an empty cart, an error page); `page` is all of it."""

    def __init__(self, page: str) -> None:
        super().__init__(page[:300])
        self.page = page


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise NoForm(html)
    return match.group(1) or match.group(2)


class Buyer:
    """One browser: its own cookies, sending each request to the server it is given."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def add_to_cart(self, server: str, product_id: int, slug: str, quantity: int = 1) -> None:
        token = csrf_token(self.http.get(f"{server}/produk/{slug}", timeout=30).text)
        self.http.post(f"{server}/keranjang/tambah", timeout=30, allow_redirects=False,
                       data={"product_id": product_id, "quantity": quantity, "csrf_token": token})

    def place_order(self, server: str, address: dict[str, str], courier: str) -> Any:
        """The order number, or the response when no order came of it."""
        token = csrf_token(self.http.get(f"{server}/checkout", timeout=30).text)
        answer = self.http.post(f"{server}/checkout", timeout=30, allow_redirects=False,
                                data={**address, "courier": courier, "action": "place", "csrf_token": token})
        match = re.fullmatch(r"/pesanan/(KB-\d{4}-\d{6})/bayar", answer.headers.get("Location", ""))
        return match.group(1) if match else answer
