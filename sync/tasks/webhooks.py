"""Processing accepted webhook events (sync.webhooks.process_event) after their commit."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from .. import webhooks

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
RETRY_BASE_SECONDS = 10


@shared_task(name="sync.tasks.process_webhook_event", bind=True, max_retries=MAX_RETRIES)
def process_webhook_event(self: Any, event_id: int) -> str:
    processed = webhooks.process_event(event_id)
    if processed is None:
        return "missing"
    if processed.retryable and self.request.retries < MAX_RETRIES:
        # Flourish or our database blinked: the event stays failed until a retry succeeds.
        raise self.retry(countdown=RETRY_BASE_SECONDS * 2**self.request.retries)
    return processed.state


@shared_task(name="sync.tasks.requeue_stalled_webhook_events")
def requeue_stalled_webhook_events() -> int:
    """Beat safety net: queue accepted events left pending (e.g. the broker was down at intake)."""
    return webhooks.requeue_stalled_events()
