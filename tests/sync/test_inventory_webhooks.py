"""Item and inventory webhooks change Ordo at once, without a sync run (issue 5, §5.2).

Given an organization synced once from the demo sandbox, when the warehouse changes something in
Flourish and the webhook's record is applied, then that one thing changes in Ordo and no run is
recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from flourish_client import InventorySummaryRow
from flourish_client import Item as FlourishItem
from flourish_sandbox.scenarios import FACILITY_A, FACILITY_B
from ordo_integration.catalog.models import Item, Stock
from sync import inventory, webhooks
from sync.models import ProcessingState, SyncMode, SyncRun, SyncTrigger, WebhookEvent
from sync.setup import ensure_webhook_secrets
from tests.catalog.inventory_world import World, make_world
from tests.sync.conftest import event_body, signed_post

pytestmark = pytest.mark.integration


@pytest.fixture
def world(organization: Any) -> Iterator[World]:
    yield from make_world(organization)


@pytest.fixture
def synced(world: World) -> World:
    run = inventory.start_sync(
        world.organization, SyncTrigger.COMMAND, SyncMode.FULL, enqueue=False
    )
    assert run is not None
    inventory.run_sync(run.pk)
    return world


def stock_at(world: World, item_id: str, facility_id: str) -> Stock:
    return Stock.objects.get(item__flourish_item_id=item_id, license=world.licenses[facility_id])


def test_it_changes_one_quantity_from_an_inventory_row_without_a_sync(synced: World) -> None:
    runs = SyncRun.objects.count()
    untouched = stock_at(synced, "102", FACILITY_A).sellable_qty
    row = synced.state.set_inventory("102", FACILITY_B, 321)

    inventory.apply_inventory_row(synced.integration, InventorySummaryRow.from_wire(row))

    assert stock_at(synced, "102", FACILITY_B).sellable_qty == Decimal(row["sellable_qty"])
    assert stock_at(synced, "102", FACILITY_B).qty == Decimal(321)
    assert stock_at(synced, "102", FACILITY_A).sellable_qty == untouched
    assert SyncRun.objects.count() == runs


def test_it_creates_a_new_item_of_our_brand_from_an_item_webhook(synced: World) -> None:
    record = synced.state.create_item(
        sku="GR-NEW-001", item_name="Green Ridge New Pre-Roll", brand="Green Ridge", price=9
    )
    synced.state.set_inventory(record["id"], FACILITY_A, 40)

    inventory.apply_item(synced.integration, FlourishItem.from_wire(record))

    item = Item.objects.get(organization=synced.organization, flourish_item_id=record["id"])
    assert (item.sku, item.brand.name, item.price, item.is_active) == (
        "GR-NEW-001",
        "Green Ridge",
        Decimal("9.00"),
        True,
    )
    assert stock_at(synced, record["id"], FACILITY_A).qty == Decimal(40)


def test_it_ignores_an_item_webhook_of_another_brand(synced: World) -> None:
    record = synced.state.create_item(
        sku="BH-NEW-001", item_name="Harbor Gummies", brand="Blue Harbor"
    )

    inventory.apply_item(synced.integration, FlourishItem.from_wire(record))

    assert not Item.objects.filter(flourish_item_id=record["id"]).exists()


def test_it_deactivates_our_item_whose_brand_moved_away_in_flourish(synced: World) -> None:
    record = synced.state.update_item("101", brand="Blue Harbor")

    inventory.apply_item(synced.integration, FlourishItem.from_wire(record))

    assert Item.objects.get(flourish_item_id="101").is_active is False


def test_it_applies_an_inventory_webhook_posted_to_the_endpoint(synced: World) -> None:
    ensure_webhook_secrets(synced.integration)
    synced.integration.save()
    row = synced.state.set_inventory("106", FACILITY_A, 5, non_available_qty=0)
    response = signed_post(
        Client(),
        synced.integration,
        event_body("inventory_summary", row, action="update"),
    )
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get(integration=synced.integration)

    webhooks.process_event(event.pk)  # what the Celery task does after commit

    event.refresh_from_db()
    assert event.state == ProcessingState.DONE, event.error
    assert stock_at(synced, "106", FACILITY_A).sellable_qty == Decimal(row["sellable_qty"])
