"""Webhook delivery as Flourish does it (flourish-api.md §5).

Each message is ``{"action", "resource_type", "data"}``, serialised ONCE to bytes; the
``Auth-Signature`` header is the HMAC-SHA256 hex of exactly those bytes
(``flourish_client.webhooks.sign``).
Deliveries run on one background thread fed by a queue, so the order of messages is the order of
changes unless a webhook fault says otherwise. Retries (§8.4: undocumented, our choice): up to
``attempts`` tries on a connection error or a non-2xx answer, sleeping ``backoff_seconds * attempt``
between tries.

Webhook faults (for testing receivers): ``duplicate`` sends a message twice, ``drop`` does not
send it (logged with outcome ``dropped``), ``reorder`` holds one message back and sends it right
after the next one. Each applies to the next ``count`` messages.
"""

from __future__ import annotations

import collections
import http.client
import itertools
import logging
import queue
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from flourish_client.webhooks import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

# Event names as on Flourish's "Webhook Endpoint" screen (§5.1) and the resource_type each sends.
EVENT_RESOURCE_TYPES = {
    "Outbound Order": "order",
    "Inventory": "inventory_summary",
    "Item": "item",
}
EVENT_ALIASES = {"Inventory Summary": "Inventory"}
WEBHOOK_FAULT_MODES = ("duplicate", "drop", "reorder")
USER_AGENT = "Flourish-Sandbox-Webhooks/1.0"


def normalise_events(events: list[str] | None) -> list[str]:
    if not events:
        return list(EVENT_RESOURCE_TYPES)
    result = []
    for event in events:
        name = EVENT_ALIASES.get(event, event)
        if name not in EVENT_RESOURCE_TYPES:
            raise ValueError(
                f"unknown webhook event {event!r}; use one of {', '.join(EVENT_RESOURCE_TYPES)}"
            )
        if name not in result:
            result.append(name)
    return result


@dataclass
class WebhookEndpoint:
    url: str
    signing_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=lambda: list(EVENT_RESOURCE_TYPES))
    id: int = 0

    def to_json(self, *, reveal_key: bool = False) -> dict[str, Any]:
        # Flourish hides the signing key after saving (§5.1); the sandbox shows whether one is set.
        return {
            "id": self.id,
            "url": self.url,
            "signing_key": self.signing_key if reveal_key else None,
            "has_signing_key": bool(self.signing_key),
            "headers": dict(self.headers),
            "events": list(self.events),
        }


@dataclass
class _Message:
    endpoint: WebhookEndpoint
    body: bytes
    resource_type: str
    action: str
    resource_id: str
    copy: int = 1


class WebhookDispatcher:
    """Queue + worker thread + delivery log."""

    def __init__(
        self,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.05,
        timeout_seconds: float = 5.0,
        log_size: int = 5000,
    ) -> None:
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self._queue: queue.Queue[_Message | None] = queue.Queue()
        self._log: collections.deque[dict[str, Any]] = collections.deque(maxlen=log_size)
        self._log_ids = itertools.count(1)
        self._pending = 0
        self._cond = threading.Condition()
        self._fault_mode: str | None = None
        self._fault_count = 0
        self._held: _Message | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    # -- faults -------------------------------------------------------------------------------
    def set_fault(self, mode: str | None, count: int = 1) -> None:
        if mode is not None and mode not in WEBHOOK_FAULT_MODES:
            raise ValueError(f"webhook fault mode must be one of {', '.join(WEBHOOK_FAULT_MODES)}")
        with self._cond:
            self._fault_mode = mode
            self._fault_count = max(0, int(count)) if mode else 0

    def fault_json(self) -> dict[str, Any] | None:
        with self._cond:
            if not self._fault_mode or self._fault_count <= 0:
                return None
            return {"mode": self._fault_mode, "count": self._fault_count}

    def _take_fault(self) -> str | None:
        if self._fault_mode and self._fault_count > 0:
            self._fault_count -= 1
            return self._fault_mode
        return None

    # -- enqueue ------------------------------------------------------------------------------
    def enqueue(
        self,
        endpoint: WebhookEndpoint,
        body: bytes,
        *,
        resource_type: str,
        action: str,
        resource_id: str,
    ) -> None:
        message = _Message(endpoint, body, resource_type, action, resource_id)
        with self._cond:
            fault = self._take_fault()
            if fault == "drop":
                self._record(message, status_code=None, attempt=0, error=None, outcome="dropped")
                return
            ready = [message]
            if fault == "duplicate":
                ready.append(_Message(endpoint, body, resource_type, action, resource_id, copy=2))
            if fault == "reorder" and self._held is None:
                self._held = message
                ready = []
            elif self._held is not None:
                ready.append(self._held)
                self._held = None
            for item in ready:
                self._pending += 1
                self._queue.put(item)

    def release_held(self) -> None:
        """Send a message held back by the ``reorder`` fault now."""
        with self._cond:
            if self._held is not None:
                self._pending += 1
                self._queue.put(self._held)
                self._held = None

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until every queued delivery finished (held-back messages excluded)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def log(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._log)

    def clear_log(self) -> None:
        with self._cond:
            self._log.clear()

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout=2)

    # -- worker -------------------------------------------------------------------------------
    def _record(
        self,
        message: _Message,
        *,
        status_code: int | None,
        attempt: int,
        error: str | None,
        outcome: str,
    ) -> None:
        self._log.append(
            {
                "id": next(self._log_ids),
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "endpoint_id": message.endpoint.id,
                "url": message.endpoint.url,
                "resource_type": message.resource_type,
                "action": message.action,
                "resource_id": message.resource_id,
                "status_code": status_code,
                "attempt": attempt,
                "error": error,
                "outcome": outcome,
                "copy": message.copy,
            }
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self._queue.get()
            if message is None:
                break
            try:
                self._deliver(message)
            except Exception:  # never let the worker die
                logger.exception("webhook delivery crashed")
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _deliver(self, message: _Message) -> None:
        endpoint = message.endpoint
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        headers.update(endpoint.headers)
        if endpoint.signing_key:
            headers[SIGNATURE_HEADER] = sign(message.body, endpoint.signing_key)
        for attempt in range(1, self.attempts + 1):
            status: int | None = None
            error: str | None = None
            try:
                status = _post(endpoint.url, message.body, headers, self.timeout_seconds)
            except (OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
            ok = status is not None and 200 <= status < 300
            last = attempt == self.attempts
            outcome = "delivered" if ok else ("failed" if last else "retrying")
            with self._cond:
                self._record(
                    message, status_code=status, attempt=attempt, error=error, outcome=outcome
                )
            logger.info(
                "webhook %s %s/%s -> %s (attempt %s) %s",
                endpoint.url,
                message.resource_type,
                message.resource_id,
                status,
                attempt,
                error or "",
            )
            if ok or last or self._stop.wait(self.backoff_seconds * attempt):
                return


def _post(url: str, body: bytes, headers: dict[str, str], timeout_seconds: float) -> int:
    parts = urllib.parse.urlsplit(url)
    conn_cls = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_cls(parts.netloc, timeout=timeout_seconds)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()
