"""Inventory sync runs against the demo Flourish sandbox over real HTTP (issue 5, design.md §4).

Given the demo sandbox (four brands, two facilities) and an organization selling two of those
brands at both licenses, when a run executes, then Ordo holds exactly the items of its brands with
Flourish's quantities per license, and the run says what it did and what it skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from flourish_sandbox.scenarios import FACILITY_A, FACILITY_B
from ordo_integration.catalog.models import Item, Stock
from ordo_integration.organizations.setup import steps_for
from sync import inventory
from sync.models import SyncMode, SyncRun, SyncState, SyncTrigger
from tests.catalog.inventory_world import World, make_world
from tests.factories import BrandFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def world(organization: Any) -> Iterator[World]:
    yield from make_world(organization)


def full_sync(world: World, **kwargs: Any) -> SyncRun:
    run = inventory.start_sync(
        world.organization, SyncTrigger.COMMAND, SyncMode.FULL, enqueue=False
    )
    assert run is not None
    done = inventory.run_sync(run.pk, **kwargs)
    assert done is not None
    done.refresh_from_db()
    return done


def delta_sync(world: World) -> SyncRun:
    run = inventory.start_sync(
        world.organization, SyncTrigger.SCHEDULE, SyncMode.DELTA, enqueue=False
    )
    assert run is not None
    inventory.run_sync(run.pk)
    run.refresh_from_db()
    return run


def sellable(world: World, item_id: str, facility_id: str) -> Decimal | None:
    return (
        Stock.objects.filter(item__flourish_item_id=item_id, license=world.licenses[facility_id])
        .values_list("sellable_qty", flat=True)
        .first()
    )


def test_it_creates_exactly_the_items_of_our_brands_with_their_stock_per_license(
    world: World,
) -> None:
    run = full_sync(world)

    assert run.state == SyncState.SUCCEEDED, run.error
    expected = world.flourish_ids_of()
    stored = set(
        Item.objects.filter(organization=world.organization).values_list(
            "flourish_item_id", flat=True
        )
    )
    assert stored == expected
    assert run.created == len(expected)
    assert run.seen == len(world.state.items)
    for item_id in expected:
        record = world.state.items[item_id]
        item = Item.objects.get(organization=world.organization, flourish_item_id=item_id)
        assert (item.sku, item.name, item.brand.name) == (
            record["sku"],
            record["item_name"],
            record["brand"],
        )
        assert item.is_active == record["active"]
        for facility_id in (FACILITY_A, FACILITY_B):
            assert sellable(world, item_id, facility_id) == world.sellable_in_flourish(
                item_id, facility_id
            ), (item_id, facility_id)


def test_it_keeps_a_negative_sellable_quantity_as_it_is(world: World) -> None:
    full_sync(world)

    # Demo order DEMO-1 asks 40 of item 105 with 25 on hand (flourish_sandbox.scenarios).
    assert sellable(world, "105", FACILITY_A) == Decimal(-15)


def test_it_reports_other_brands_as_skipped_by_their_flourish_name(world: World) -> None:
    run = full_sync(world)

    blue = len(world.flourish_ids_of(("Blue Harbor",)))
    canyon = len(world.flourish_ids_of(("Canyon Gold",)))
    assert run.skipped == {"other brand: 'Blue Harbor'": blue, "other brand: 'Canyon Gold'": canyon}


def test_it_reports_a_brand_that_differs_only_in_case_or_spacing_and_stores_none_of_it(
    world: World,
) -> None:
    BrandFactory(organization=world.organization, name="blue  harbor")

    run = full_sync(world)

    blue = world.flourish_ids_of(("Blue Harbor",))
    assert run.skipped["brand near-match: 'Blue Harbor' (Ordo: 'blue  harbor')"] == len(blue)
    assert not Item.objects.filter(flourish_item_id__in=blue).exists()


def test_it_updates_only_the_item_changed_in_flourish(world: World) -> None:
    full_sync(world)
    before = {
        i.flourish_item_id: (i.price, i.name, i.last_synced_at)
        for i in Item.objects.filter(organization=world.organization)
    }
    world.state.update_item("101", price=99.5)

    run = full_sync(world)

    assert (run.created, run.updated, run.unchanged) == (0, 1, len(before) - 1)
    after = {
        i.flourish_item_id: (i.price, i.name)
        for i in Item.objects.filter(organization=world.organization)
    }
    assert after["101"] == (Decimal("99.50"), before["101"][1])
    assert {k: v for k, v in after.items() if k != "101"} == {
        k: v[:2] for k, v in before.items() if k != "101"
    }


def test_it_deactivates_an_item_deleted_or_deactivated_in_flourish_without_deleting_it(
    world: World,
) -> None:
    full_sync(world)
    ours = len(world.flourish_ids_of())
    world.state.delete_item("101")
    world.state.update_item("102", active=False)

    run = full_sync(world)

    assert run.deactivated == 2
    gone = Item.objects.get(organization=world.organization, flourish_item_id="101")
    off = Item.objects.get(organization=world.organization, flourish_item_id="102")
    assert (gone.is_active, off.is_active) == (False, False)
    # Item 110 is inactive in the demo already.
    active = Item.objects.filter(organization=world.organization, is_active=True).count()
    assert active == ours - 2 - 1


def test_it_reads_only_the_changes_in_a_delta_run(world: World) -> None:
    first = full_sync(world)
    world.state.update_item("101", price=12.25)
    world.state.set_inventory("102", FACILITY_B, 777)

    run = delta_sync(world)

    assert run.state == SyncState.SUCCEEDED, run.error
    assert run.mode == SyncMode.DELTA
    assert run.since == first.started_at - inventory.DELTA_SAFETY_MARGIN
    assert (run.seen, run.updated, run.unchanged) == (1, 2, 0)  # one item listed, one stock row
    assert Item.objects.get(flourish_item_id="101").price == Decimal("12.25")
    assert sellable(world, "102", FACILITY_B) == world.sellable_in_flourish("102", FACILITY_B)


def test_it_turns_a_delta_request_without_an_earlier_success_into_a_full_run(
    world: World,
) -> None:
    run = inventory.start_sync(
        world.organization, SyncTrigger.SCHEDULE, SyncMode.DELTA, enqueue=False
    )

    assert run is not None
    assert (run.mode, run.since) == (SyncMode.FULL, None)


def test_it_records_a_flourish_500_mid_run_and_a_rerun_completes(
    organization: Any, settings: Any
) -> None:
    settings.INVENTORY_SYNC_BATCH_ITEMS = 50
    for world_ in make_world(organization, items=300):
        faults: list[Any] = []

        def break_flourish_after_first_batch(
            run: SyncRun, faults: list[Any] = faults, world_: World = world_
        ) -> None:
            if not faults:
                faults.append(
                    world_.state.add_fault(kind="status", status=500, path_prefix="/items")
                )

        failed = full_sync(world_, on_progress=break_flourish_after_first_batch)

        assert failed.state == SyncState.FAILED
        assert "500" in failed.error
        assert failed.finished_at is not None
        stored = Item.objects.filter(organization=organization).count()
        assert 0 < failed.created == stored < len(world_.flourish_ids_of())

        rerun = full_sync(world_)

        assert rerun.state == SyncState.SUCCEEDED, rerun.error
        assert rerun.created == len(world_.flourish_ids_of()) - stored
        assert Item.objects.filter(organization=organization).count() == len(
            world_.flourish_ids_of()
        )


def test_it_refuses_a_second_run_while_one_is_running(world: World) -> None:
    first = inventory.start_sync(world.organization, enqueue=False)

    second = inventory.start_sync(world.organization, enqueue=False)

    assert first is not None and second is None
    assert inventory.running_sync(world.organization) == first


def test_it_releases_a_run_abandoned_by_a_lost_worker(world: World) -> None:
    stuck = inventory.start_sync(world.organization, enqueue=False)
    assert stuck is not None
    SyncRun.objects.filter(pk=stuck.pk).update(started_at=timezone.now() - dt.timedelta(hours=2))

    fresh = inventory.start_sync(world.organization, enqueue=False)

    assert fresh is not None
    stuck.refresh_from_db()
    assert stuck.state == SyncState.FAILED and "Abandoned" in stuck.error


def test_it_leaves_a_finished_or_missing_run_alone_when_run_twice(world: World) -> None:
    run = full_sync(world)
    calls = run.api_calls

    again = inventory.run_sync(run.pk)

    assert again is not None and again.api_calls == calls
    assert inventory.run_sync(999_999) is None


def test_it_starts_scheduled_runs_only_when_the_interval_has_passed(world: World) -> None:
    world.integration.inventory_sync_interval_minutes = 15
    world.integration.save()

    first = inventory.sync_due_inventories()
    assert [r.mode for r in first] == [SyncMode.FULL]  # never succeeded: full
    inventory.run_sync(first[0].pk)

    assert inventory.sync_due_inventories(now=timezone.now() + dt.timedelta(minutes=5)) == []
    later = inventory.sync_due_inventories(now=timezone.now() + dt.timedelta(minutes=16))
    assert [(r.mode, r.trigger) for r in later] == [(SyncMode.DELTA, "schedule")]


def test_it_marks_the_setup_step_done_after_the_first_successful_run(world: World) -> None:
    def step_done() -> bool:
        return next(s for s in steps_for(world.organization) if s.key == "inventory_sync").done

    assert not step_done()

    full_sync(world)

    assert step_done()


def test_it_syncs_from_the_command_line_with_a_progress_bar(world: World, capsys: Any) -> None:
    call_command("sync_inventory", "--org", world.organization.slug, "--full")

    out = capsys.readouterr()
    assert "succeeded" in out.out
    assert world.organization.slug in out.err  # the tqdm bar
    assert Item.objects.filter(organization=world.organization).count() == len(
        world.flourish_ids_of()
    )
