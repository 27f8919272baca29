"""A stand-in for Sentry's ingest, a real HTTP server written from Sentry's public SDK documentation
(develop.sentry.dev: "Envelopes", "Authentication"): `POST /api/<project_id>/envelope/`, authenticated by the DSN's
public key in `X-Sentry-Auth: Sentry sentry_key=…` (or a `sentry_key` query parameter), a body that may be gzip or
deflate compressed, made of an envelope header line and items (an item header line with its `type` and `length`,
then its payload). It keeps what it received and answers as Sentry does: 200 with the event id; 401 without a
(known) key; 404 for an unknown project; 400 for a body that is not an envelope; 413 above the size limit."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

MAX_BYTES = 20 * 1024 * 1024  # Sentry's limit for a whole envelope (compressed)


def parse_envelope(body: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    header_line, _sep, rest = body.partition(b"\n")
    header = json.loads(header_line)
    items: list[tuple[dict[str, Any], bytes]] = []
    while rest.strip():
        item_line, _sep, rest = rest.partition(b"\n")
        item = json.loads(item_line)
        if "length" in item:
            payload, rest = rest[:item["length"]], rest[item["length"]:]
            rest = rest[1:] if rest.startswith(b"\n") else rest
        else:
            payload, _sep, rest = rest.partition(b"\n")
        items.append((item, payload))
    return header, items


class SentryStandIn:
    def __init__(self, projects: dict[str, str]) -> None:
        self.projects = projects  # project id → public key
        self.envelopes: list[tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]] = []
        self.raw: list[bytes] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                url = urlparse(self.path)
                parts = url.path.strip("/").split("/")
                if len(parts) != 3 or parts[0] != "api" or parts[2] != "envelope":
                    return self._answer(404, {"detail": "not found"})
                project = parts[1]
                auth = self.headers.get("X-Sentry-Auth", "")
                fields = dict(part.strip().split("=", 1) for part in auth.removeprefix("Sentry ").split(",")
                              if "=" in part)
                key = fields.get("sentry_key") or parse_qs(url.query).get("sentry_key", [""])[0]
                if not key:
                    return self._answer(401, {"detail": "missing authorization information"})
                if project not in stand_in.projects:
                    return self._answer(404, {"detail": "unknown project"})
                if key != stand_in.projects[project]:
                    return self._answer(401, {"detail": "invalid api key"})
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BYTES:
                    return self._answer(413, {"detail": "envelope exceeded size limits"})
                body = self.rfile.read(length)
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                try:
                    if encoding == "gzip":
                        body = gzip.decompress(body)
                    elif encoding == "deflate":
                        body = zlib.decompress(body)
                    elif encoding not in ("", "identity"):
                        return self._answer(415, {"detail": f"unsupported content encoding {encoding}"})
                    envelope = parse_envelope(body)
                except (OSError, ValueError, zlib.error):
                    return self._answer(400, {"detail": "invalid envelope"})
                stand_in.raw.append(body)
                stand_in.envelopes.append(envelope)
                return self._answer(200, {"id": envelope[0].get("event_id", "")})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def dsn(self, project: str) -> str:
        return f"http://{self.projects[project]}@127.0.0.1:{self.port}/{project}"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(payload) for _header, items in self.envelopes for item, payload in items
                if item.get("type") == "event"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
