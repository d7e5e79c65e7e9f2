"""Redis restarted during a run (design.md §7): work resumes without manual steps.

A Redis of our own (the shared one serves other engineers) is the broker of a live worker and of
this test process; it is killed (SIGKILL, nothing persisted, as a crash with no AOF) and started
again on the same port.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.utils import timezone

from ordo_integration.celery import app
from sync.models import ProcessingState, Verdict, WebhookEvent
from sync.webhooks import STALLED_AFTER, requeue_stalled_events

from .conftest import (
    post_in_process,
    quick_worker,
    unprocessed,
    wait_until_processed,
    warehouse_history,
)

pytestmark = [pytest.mark.integration]


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point this process's Celery app (the receiver's enqueue) at ``url`` for a while."""
    old = app.conf.broker_url

    def switch(to: str) -> None:
        # The connection and producer pools are made lazily from broker_url: drop them.
        # Not force_close_all(): kombu keeps producer pools per broker URL for the process, and
        # a closed one would be handed back when switching back.
        app.conf.update(broker_url=to)
        vars(app)["_pool"] = None
        vars(app.amqp)["_producer_pool"] = None

    switch(url)
    try:
        yield
    finally:
        switch(old)


@pytest.fixture
def worker_on_own_redis(transactional_db, own_redis, monkeypatch):
    # WorkerProcess hands the process's CELERY_BROKER_URL to the worker.
    monkeypatch.setenv("CELERY_BROKER_URL", own_redis.url)
    worker = quick_worker("worker-own-redis")
    with broker_at(own_redis.url):
        worker.start()
        try:
            yield worker
        finally:
            worker.stop()


def test_it_resumes_processing_after_redis_restarts(
    worker_on_own_redis, own_redis, flourish, wired
):
    integration = wired.integration
    history, _orders = warehouse_history(flourish.state, wired, random.Random(3), 6, 40)
    first, second = history.versions[:20], history.versions[20:]
    assert post_in_process(integration, [body for _key, body in first]) == [200] * 20
    wait_until_processed(integration, 30, "the first batch")

    own_redis.kill()
    time.sleep(1)
    own_redis.start()

    # Nobody restarts the worker: it reconnects by itself, and so does the receiver's enqueue.
    assert post_in_process(integration, [body for _key, body in second]) == [200] * 20
    wait_until_processed(integration, 60, "the second batch, after the restart")
    accepted = WebhookEvent.objects.filter(integration=integration, verdict=Verdict.ACCEPTED)
    assert accepted.count() == 40
    assert set(accepted.values_list("state", flat=True)) <= {
        ProcessingState.DONE,
        ProcessingState.SKIPPED_STALE,
    }


def test_it_processes_events_received_while_redis_was_down(
    worker_on_own_redis, own_redis, flourish, wired
):
    integration = wired.integration
    history, _orders = warehouse_history(flourish.state, wired, random.Random(4), 2, 6)
    bodies = [body for _key, body in history.versions]

    own_redis.kill()
    during_outage = post_in_process(integration, bodies, raise_errors=False)
    own_redis.start()
    # Flourish may resend (flourish-api.md §5.4 leaves it open): duplicates, processed once.
    post_in_process(integration, bodies, raise_errors=False)
    # The beat's safety net, as it runs once the events have been pending for a while.
    requeue_stalled_events(now=timezone.now() + STALLED_AFTER + dt.timedelta(seconds=1))

    assert set(during_outage) == {200}
    wait_until_processed(integration, 20, "events received while Redis was down")
    assert unprocessed(integration) == 0
