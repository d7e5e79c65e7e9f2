"""A scripted stand-in for Flourish: a stdlib HTTP server in a thread that answers each request
with the next scripted response and records what it received. It exercises the client's real
HTTP path (timeouts, redirects, headers) without patching ``requests``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass
class Scripted:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (to trigger the client's read timeout).
    delay_seconds: float = 0.0
    raw: bytes | None = None


@dataclass
class Received:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any
    raw_body: bytes = b""


def envelope(data: Any, **meta: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"message": "Success", "status": 200, "data": data}
    if meta:
        answer["meta"] = meta
    return answer


class ScriptedFlourish:
    def __init__(self) -> None:
        self.script: list[Scripted] = []
        self.received: list[Received] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def answer(self, *responses: Scripted) -> None:
        self.script.extend(responses)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw_body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                server.received.append(
                    Received(
                        method=self.command,
                        path=split.path,
                        query=parse_qsl(split.query, keep_blank_values=True),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=json.loads(raw_body) if raw_body else None,
                        raw_body=raw_body,
                    )
                )
                scripted = server.script.pop(0) if server.script else Scripted(body=envelope({}))
                if scripted.delay_seconds:
                    time.sleep(scripted.delay_seconds)
                payload = (
                    scripted.raw if scripted.raw is not None else json.dumps(scripted.body).encode()
                )
                try:
                    self.send_response(scripted.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in scripted.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = _serve

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def flourish() -> Iterator[ScriptedFlourish]:
    server = ScriptedFlourish()
    server.start()
    try:
        yield server
    finally:
        server.stop()
