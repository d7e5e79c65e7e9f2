"""Order tasks: thin shells around ``sync.orders`` (conventions §5)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from sync import orders
from sync.orders import PushResult

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="sync.tasks.push_order", max_retries=None)
def push_order(self: Any, push_id: int) -> str:
    """Create the order in Flourish. ``sync.orders.push_order`` decides about retries (it counts
    attempts on the outbox row), so Celery's own retry limit is off."""
    report = orders.push_order(push_id)
    if report.result == PushResult.RETRY:
        logger.info(
            "push %s: retrying in %.1f s: %s", push_id, report.retry_in_seconds, report.message
        )
        raise self.retry(countdown=report.retry_in_seconds)
    return str(report.result)


@shared_task(name="sync.tasks.reconcile_orders")
def reconcile_orders() -> str:
    """Beat, every few minutes: catch up on order changes whose webhooks were missed."""
    report = orders.reconcile_orders()
    return (
        f"{report.integrations} integrations, {report.orders_seen} orders, {report.errors} errors"
    )


@shared_task(name="sync.tasks.requeue_stalled_pushes")
def requeue_stalled_pushes() -> str:
    """Beat, every minute: queue again the pushes whose task was lost (broker down at Confirm,
    a message dropped); see ``sync.orders.requeue_stalled_pushes``."""
    return f"{orders.requeue_stalled_pushes()} push(es) queued again"
