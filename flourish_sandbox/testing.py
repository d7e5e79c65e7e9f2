"""Start a sandbox for tests: ``with running_sandbox() as sandbox: ...``.

``sandbox.url`` is the server root (the API lives under ``sandbox.url + "/external/api/v1/..."``),
``sandbox.api_key`` the accepted key, ``sandbox.state`` the live ``SandboxState`` whose Python
methods (allocate_order, ship_order, set_inventory, add_webhook_endpoint, add_fault,
wait_for_deliveries, ...) tests may call directly. The server runs on a daemon thread and is stopped
on exit; other processes (e.g. a Celery worker) can reach it by URL meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flourish_sandbox.faults import API_PREFIX
from flourish_sandbox.server import SandboxServer, start_server, stop_server
from flourish_sandbox.state import SandboxState


@dataclass
class RunningSandbox:
    url: str
    api_key: str
    state: SandboxState
    server: SandboxServer
    username: str | None = None
    facility_ids: list[str] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        """``http://host:port/external/api/v1``."""
        return self.url + API_PREFIX

    def api_headers(self, facility_id: str | None = None) -> dict[str, str]:
        headers = {"x-api-key": self.api_key}
        if facility_id:
            headers["FacilityID"] = facility_id
        return headers


@contextmanager
def running_sandbox(
    api_key: str = "test-key",
    seed: str = "demo",
    items: int = 0,
    state_file: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    **options: Any,
) -> Iterator[RunningSandbox]:
    """Options: ``username`` (for legacy Basic auth), ``latency_ms``, ``fail_next`` +
    ``fail_status`` (+ ``retry_after``), ``webhook_url`` + ``webhook_key`` + ``webhook_headers``
    (dict) + ``webhook_events`` (list), ``webhook_attempts``, ``webhook_backoff_seconds``,
    ``webhook_timeout_seconds``."""
    known = {
        "username",
        "latency_ms",
        "fail_next",
        "fail_status",
        "retry_after",
        "webhook_url",
        "webhook_key",
        "webhook_headers",
        "webhook_events",
        "webhook_attempts",
        "webhook_backoff_seconds",
        "webhook_timeout_seconds",
    }
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unknown running_sandbox options: {', '.join(sorted(unknown))}")
    state = SandboxState(
        seed=seed,
        items=items,
        state_file=state_file,
        webhook_attempts=options.get("webhook_attempts", 3),
        webhook_backoff_seconds=options.get("webhook_backoff_seconds", 0.05),
        webhook_timeout_seconds=options.get("webhook_timeout_seconds", 5.0),
    )
    configure(state, options)
    server, thread = start_server(
        state, host=host, port=port, api_key=api_key, username=options.get("username")
    )
    try:
        yield RunningSandbox(
            url=server.url,
            api_key=api_key,
            state=state,
            server=server,
            username=options.get("username"),
            facility_ids=list(state.facilities),
        )
    finally:
        stop_server(server, thread)
        state.close()


def configure(state: SandboxState, options: dict[str, Any]) -> None:
    """Apply the start-up options shared by ``running_sandbox`` and the CLI."""
    if options.get("latency_ms"):
        state.set_latency(int(options["latency_ms"]))
    if options.get("fail_next"):
        status = int(options.get("fail_status") or 500)
        state.add_fault(
            kind="status",
            status=status,
            count=int(options["fail_next"]),
            retry_after=options.get("retry_after"),
        )
    if options.get("webhook_url"):
        state.add_webhook_endpoint(
            options["webhook_url"],
            signing_key=options.get("webhook_key"),
            headers=options.get("webhook_headers") or {},
            events=options.get("webhook_events"),
        )
