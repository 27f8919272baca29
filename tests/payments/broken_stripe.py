"""A Stripe that has gone wrong, over real HTTP on loopback: it answers every call with a 500, or holds the
connection open without answering (a timeout). The shop's real `stripe` client talks to it exactly as it
talks to Stripe; only the answers are broken."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class BrokenStripe:
    def __init__(self, mode: str = "500", delay: float = 3.0) -> None:
        self.mode = mode
        self.delay = delay
        self.calls: list[str] = []
        broken = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                broken.calls.append(f"{self.command} {self.path}")
                if broken.mode == "timeout":
                    time.sleep(broken.delay)  # longer than the client waits
                body = json.dumps({"error": {"type": "api_error", "message": "An unknown error occurred"}}).encode()
                try:
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up waiting

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.api_base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> BrokenStripe:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
