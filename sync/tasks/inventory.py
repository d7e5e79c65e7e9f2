"""Inventory sync tasks: thin shells around ``sync.inventory`` (conventions §5)."""

from __future__ import annotations

import logging

from celery import shared_task

from sync import inventory

logger = logging.getLogger(__name__)


@shared_task(name="sync.tasks.run_inventory_sync")
def run_inventory_sync(sync_run_id: int) -> str:
    """Execute one open ``SyncRun``. A run that no longer exists or already finished is left
    alone, so a redelivered message (acks_late) does no harm."""
    run = inventory.run_sync(sync_run_id)
    if run is None:
        return "gone"
    return f"{run.state}: {run.seen} seen, {run.created} created, {run.updated} updated"


@shared_task(name="sync.tasks.sync_due_inventories")
def sync_due_inventories() -> str:
    """Beat, every minute: a delta run for each integration whose interval has passed."""
    started = inventory.sync_due_inventories()
    return f"{len(started)} run(s) started"
