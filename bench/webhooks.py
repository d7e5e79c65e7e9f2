"""Webhook intake and processing (design.md §6): the real endpoint against a bare 200 view, both
under gunicorn + PostgreSQL at concurrency 16 in the same run, and events processed per second by
one worker.

``run()`` builds a throwaway database (bench/inventory.py's ``throwaway_database``), an
organization wired to an in-process sandbox, and ``count`` distinct signed event bodies captured
from the sandbox as a warehouse works (order and inventory_summary events, as in
tests/reliability). Then:

1. gunicorn (2 workers, ``bench.settings``: the portal's URLs plus ``bench/bare/``) serves both;
   the same bodies and headers are POSTed to the bare view, then to the real endpoint (no worker
   runs meanwhile, so intake is measured alone). Throughput = requests / wall time; latencies per
   request as the client sees them.
2. One Celery worker (prefork, concurrency 2, like tests/live.py) is started on the queued events
   and timed until every accepted event is processed.

Run alone: ``python -m bench.webhooks [count]``.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

EVENT_COUNT = 3000
CONCURRENCY = 16
WARMUP_REQUESTS = 200
PROCESSING_TIMEOUT_SECONDS = 600
INTAKE_OVER_BARE_TARGET = 0.40
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
P99_TARGET_MS = 150.0


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _row(
    name: str, value: float, unit: str, target: str | None = None, met: bool | None = None
) -> dict[str, Any]:
    return {"name": name, "value": round(value, 4), "unit": unit, "target": target, "met": met}


def blast(
    url: str, requests_: Sequence[tuple[bytes, dict[str, str]]], concurrency: int
) -> tuple[float, list[float], list[int]]:
    """POST every (body, headers) at ``concurrency``: (wall seconds, latencies in s, statuses)."""
    import requests

    local = threading.local()

    def post(item: tuple[bytes, dict[str, str]]) -> tuple[float, int]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        body, headers = item
        started = time.perf_counter()
        status = session.post(url, data=body, headers=headers, timeout=60).status_code
        return time.perf_counter() - started, status

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        started = time.perf_counter()
        results = list(pool.map(post, requests_))
        wall = time.perf_counter() - started
    return wall, [latency for latency, _ in results], [status for _, status in results]


def run(count: int = EVENT_COUNT, concurrency: int = CONCURRENCY) -> list[dict[str, Any]]:
    tag = uuid.uuid4().hex[:8]
    # A queue of our own, so that only the bench's worker takes the bench's events. Set in the
    # environment (gunicorn and the worker read it) and in settings, which may have been read
    # already when ``python -m bench`` set Django up (tests.live reads the queue from there).
    queue = os.environ["CELERY_QUEUE"] = f"bench-webhooks-{tag}"
    # Production's broker (design.md §5) when this machine has one, as the tests do.
    if "CELERY_BROKER_URL" not in os.environ and _redis_answers():
        os.environ["CELERY_BROKER_URL"] = LOCAL_REDIS
    from bench.inventory import _setup_django, throwaway_database

    _setup_django()
    from django.conf import settings
    from django.db import connection

    settings.CELERY_TASK_DEFAULT_QUEUE = queue

    from flourish_sandbox.testing import running_sandbox
    from sync.models import ProcessingState, Verdict, WebhookEvent
    from sync.setup import webhook_path
    from tests.factories import OrganizationFactory
    from tests.live import WorkerProcess
    from tests.reliability.conftest import signed_headers, warehouse_history, wire
    from tests.reliability.processes import GunicornProcess

    with (
        running_sandbox(api_key="bench-key", seed="demo") as sandbox,
        throwaway_database("webhooks"),
    ):
        organization = OrganizationFactory(name=f"Bench webhooks {tag}", slug=f"bw-{tag}")
        wired = wire(organization, sandbox.url, sandbox.api_key, sandbox.state)
        history, _orders = warehouse_history(
            sandbox.state, wired, random.Random(6), count * 3 // 50, count + WARMUP_REQUESTS
        )
        integration = wired.integration
        signed = [(body, signed_headers(integration, body)) for _key, body in history.versions]
        warmup, measured = signed[:WARMUP_REQUESTS], signed[WARMUP_REQUESTS:]
        portal = GunicornProcess(
            f"bench-gunicorn-{tag}",
            database_url=_database_url(connection.settings_dict),
            extra_env={
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                # The intake is measured, not the rate limit in front of it.
                "WEBHOOK_RATE_LIMIT_PER_MINUTE": "100000000",
            },
        )
        worker = WorkerProcess(f"bench-webhooks-{tag}")
        portal.start()
        try:
            endpoint = portal.url + webhook_path(integration)
            bare_url = portal.url + "/bench/bare/"
            blast(bare_url, warmup, concurrency)
            blast(endpoint, warmup, concurrency)
            bare_wall, bare_latencies, bare_statuses = blast(bare_url, measured, concurrency)
            wall, latencies, statuses = blast(endpoint, measured, concurrency)
            if set(bare_statuses) != {200} or set(statuses) != {200}:
                raise RuntimeError(f"non-200 answers: {set(bare_statuses) | set(statuses)}")
            portal.stop()
            accepted = WebhookEvent.objects.filter(
                integration=integration, verdict=Verdict.ACCEPTED
            )
            total = accepted.count()
            started = time.perf_counter()
            worker.start()
            deadline = started + PROCESSING_TIMEOUT_SECONDS
            while accepted.filter(state=ProcessingState.PENDING).exists():
                if time.perf_counter() > deadline:
                    raise RuntimeError("the worker did not process the events in time")
                time.sleep(0.2)
            processing_seconds = time.perf_counter() - started
            failed = accepted.exclude(
                state__in=[ProcessingState.DONE, ProcessingState.SKIPPED_STALE]
            ).count()
            if failed:
                raise RuntimeError(f"{failed} events were not processed")
        finally:
            worker.stop()
            portal.stop()

    bare_rps = len(measured) / bare_wall
    intake_rps = len(measured) / wall
    ratio = intake_rps / bare_rps
    p50_ms = statistics.median(latencies) * 1000
    p99_ms = _percentile(latencies, 0.99) * 1000
    return [
        _row("webhook.events", len(measured), "requests"),
        _row("webhook.concurrency", concurrency, "clients"),
        _row("webhook.bare_rps", bare_rps, "req/s"),
        _row("webhook.bare_p50_ms", statistics.median(bare_latencies) * 1000, "ms"),
        _row("webhook.bare_p99_ms", _percentile(bare_latencies, 0.99) * 1000, "ms"),
        _row("webhook.intake_rps", intake_rps, "req/s"),
        _row("webhook.p50_ms", p50_ms, "ms"),
        _row(
            "webhook.intake_over_bare",
            ratio,
            "ratio",
            f"≥ {INTAKE_OVER_BARE_TARGET:.2f}",
            ratio >= INTAKE_OVER_BARE_TARGET,
        ),
        _row("webhook.p99_ms", p99_ms, "ms", f"≤ {P99_TARGET_MS:.0f}", p99_ms <= P99_TARGET_MS),
        _row("webhook.processed_per_s", total / processing_seconds, "events/s", "report", None),
    ]


def _database_url(db: dict[str, Any]) -> str:
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{db.get('USER') or 'postgres'}{password}@{host}:{port}/{db['NAME']}"


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else EVENT_COUNT):
        print(f"{row['name']:<28} {row['value']:>12} {row['unit']:<9} {row['target'] or ''}")
