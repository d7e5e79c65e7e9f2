"""What a delta run cannot see is caught up: a scheduled full run once a day and after a brand or
license is added; a run released as abandoned keeps its verdict; an item twice in one listing and
an item deleted in Flourish."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from flourish_client import Item as FlourishItem
from ordo_integration.catalog.models import Item
from sync import inventory, webhooks
from sync.models import ProcessingState, SyncMode, SyncRun, SyncState, SyncTrigger, WebhookEvent
from sync.setup import ensure_webhook_secrets
from tests.catalog.inventory_world import World, make_world
from tests.factories import BrandFactory
from tests.sync.conftest import event_body, signed_post

pytestmark = pytest.mark.integration


@pytest.fixture
def world(organization: Any) -> Iterator[World]:
    yield from make_world(organization)


def scheduled_after(world: World, minutes: int) -> list[SyncRun]:
    return inventory.sync_due_inventories(now=timezone.now() + dt.timedelta(minutes=minutes))


def first_full_run(world: World) -> SyncRun:
    world.integration.inventory_sync_interval_minutes = 15
    world.integration.save()
    (run,) = inventory.sync_due_inventories()
    inventory.run_sync(run.pk)
    return run


def test_it_schedules_a_full_run_once_a_day(world: World) -> None:
    first_full_run(world)

    (delta,) = scheduled_after(world, 16)
    inventory.run_sync(delta.pk)
    (daily,) = scheduled_after(world, 24 * 60 + 1)

    assert delta.mode == SyncMode.DELTA
    assert daily.mode == SyncMode.FULL


def test_it_schedules_a_full_run_after_a_brand_is_added(world: World) -> None:
    first_full_run(world)

    BrandFactory(organization=world.organization, name="Blue Harbor")
    (run,) = scheduled_after(world, 16)

    assert run.mode == SyncMode.FULL


def test_it_does_not_let_an_abandoned_run_mark_itself_succeeded(world: World) -> None:
    run = inventory.start_sync(world.organization, SyncTrigger.COMMAND, enqueue=False)
    assert run is not None
    SyncRun.objects.filter(pk=run.pk).update(state=SyncState.FAILED, error="Abandoned")
    runner = inventory._Runner(run, world.integration, world_client(world), on_progress=None)

    runner.finish(SyncState.SUCCEEDED)

    run.refresh_from_db()
    assert (run.state, run.error) == (SyncState.FAILED, "Abandoned")


def test_it_keeps_one_copy_of_an_item_listed_twice(world: World) -> None:
    first, second = (FlourishItem.from_wire(world.state.item(i)) for i in ("101", "102"))
    nobody = inventory.BrandMatcher(exact={}, near={})

    (batch,) = list(inventory.fetch_batches(None, [first, second, first], nobody, []))  # type: ignore[arg-type]

    assert [i.id for i in batch.items] == ["101", "102"]


def test_it_deactivates_an_item_when_flourish_sends_its_deletion(world: World) -> None:
    run = inventory.start_sync(world.organization, SyncTrigger.COMMAND, enqueue=False)
    assert run is not None
    inventory.run_sync(run.pk)
    item = Item.objects.filter(organization=world.organization, is_active=True).first()
    assert item is not None
    record = dict(world.sandbox.state.item(item.flourish_item_id))
    ensure_webhook_secrets(world.integration)
    world.integration.save()
    response = signed_post(Client(), world.integration, event_body("item", record, action="delete"))
    event = WebhookEvent.objects.get(pk=response.json()["event"])

    webhooks.process_event(event.pk)

    event.refresh_from_db()
    item.refresh_from_db()
    assert event.state == ProcessingState.DONE
    assert item.is_active is False


def world_client(world: World) -> Any:
    from sync.client import client_for

    return client_for(world.integration)
