"""Shared fixtures: a fresh demo sandbox per test, a keyed HTTP session, a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from flourish_sandbox.testing import RunningSandbox, running_sandbox

FACILITY_A = "5c1991b318fc4c7c6792789e"  # sales rep required
FACILITY_B = "58b9b09d280e20ea24a126bb"  # no sales rep required
DESTINATION_LICENSE = "C10-0000201-LIC"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(webhook_backoff_seconds=0.01) as running:
        yield running


class Api:
    """Plain HTTP against the sandbox API (no flourish_client: these tests pin the wire)."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.base = sandbox.api_url
        self.session = requests.Session()
        self.session.headers["x-api-key"] = sandbox.api_key

    def get(self, path: str, facility: str | None = None, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, headers=_facility(facility), timeout=10, **kwargs)

    def post(self, path: str, body: Any, facility: str | None = None) -> requests.Response:
        return self.session.post(
            self.base + path, json=body, headers=_facility(facility), timeout=10
        )

    def put(self, path: str, body: Any, facility: str | None = None) -> requests.Response:
        return self.session.put(
            self.base + path, json=body, headers=_facility(facility), timeout=10
        )


def _facility(facility: str | None) -> dict[str, str]:
    return {"FacilityID": facility} if facility else {}


@pytest.fixture
def api(sandbox: RunningSandbox) -> Api:
    return Api(sandbox)


def order_body(**overrides: Any) -> dict[str, Any]:
    """A valid create body for FACILITY_A (rep required) by destination id and SKU."""
    body: dict[str, Any] = {
        "original_order_id": "CRM-1",
        "order_timestamp": "2025-03-01T17:05:00.000Z",
        "destination": {"id": "PLACEHOLDER"},
        "sales_rep": {"id": 1},
        "order_lines": [{"sku": "GR-FL35-001", "order_qty": 4, "unit_price": 22.5}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def destination_id(api: Api) -> str:
    response = api.get("/destinations", params={"license_number": DESTINATION_LICENSE})
    return str(response.json()["data"][0]["id"])


@pytest.fixture
def new_order(api: Api, destination_id: str) -> dict[str, Any]:
    body = order_body(destination={"id": destination_id})
    response = api.post("/outbound-orders", body, facility=FACILITY_A)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, then 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A tiny stdlib HTTP server that records every POST it receives."""
    received = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                received.requests.append(Received(self.path, dict(self.headers.items()), body))
                status = received.statuses.pop(0) if received.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_address[1]}/flourish/webhook"
    yield received
    server.shutdown()
    server.server_close()
