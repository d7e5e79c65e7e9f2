"""The "Sync inventory" button and the sync run log, through real admin POSTs (issue 5).

Given the demo sandbox and an organization wired to it: an admin's POST starts one run and comes
back to the Inventory & allocations screen saying so; a second request while it runs says a sync
is already running instead of queuing another; with a real Celery worker the run completes and the
items appear; an agent cannot start a sync; the run log refreshes itself while a run is running.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse

from ordo_integration.catalog.models import Item
from sync import inventory
from sync.models import SyncMode, SyncRun, SyncState, SyncTrigger
from tests.catalog.inventory_world import World, make_world
from tests.live import wait_for

pytestmark = pytest.mark.integration

START = reverse("admin:sync_syncrun_start")
SCREEN = reverse("admin:catalog_item_changelist")
RUNS = reverse("admin:sync_syncrun_changelist")


@pytest.fixture
def live_world(transactional_db: None, organization: Any) -> Any:
    yield from make_world(organization)


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_makes_one_run_of_two_simultaneous_requests(live_world: World) -> None:
    barrier = threading.Barrier(2)
    results: list[SyncRun | None] = []

    def request_a_sync() -> None:
        try:
            barrier.wait()
            results.append(inventory.start_sync(live_world.organization, enqueue=False))
        finally:
            connection.close()

    threads = [threading.Thread(target=request_a_sync) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r is None for r in results) == [False, True]
    assert SyncRun.objects.filter(organization=live_world.organization).count() == 1


def test_it_says_a_sync_is_already_running_when_the_button_is_pressed_twice(
    live_world: World, admin: Any
) -> None:
    first = admin.client.post(START)
    second = admin.client.post(START)

    assert first.status_code == 302 and first.url == SCREEN
    assert messages_of(first)[0].startswith("Sync started")
    assert messages_of(second)[-1].startswith("A sync is already running since")
    assert SyncRun.objects.filter(organization=live_world.organization).count() == 1


def test_it_runs_the_button_sync_on_a_real_worker(
    live_world: World, admin: Any, live_worker: Any
) -> None:
    response = admin.client.post(START)
    assert response.status_code == 302

    run = wait_for(
        lambda: SyncRun.objects.filter(
            organization=live_world.organization, state__in=[SyncState.SUCCEEDED, SyncState.FAILED]
        ).first(),
        timeout=30,
        what="the button's run to finish on the worker",
    )

    assert run.state == SyncState.SUCCEEDED, run.error + live_worker.log_text()[-2000:]
    assert run.trigger == SyncTrigger.BUTTON and run.mode == SyncMode.FULL
    stored = set(
        Item.objects.filter(organization=live_world.organization).values_list(
            "flourish_item_id", flat=True
        )
    )
    assert stored == live_world.flourish_ids_of()


def test_it_refuses_the_button_to_a_sales_agent(live_world: World, agent: Any) -> None:
    response = agent.client.post(START)

    assert response.status_code == 403
    assert not SyncRun.objects.exists()


def test_it_answers_get_on_the_button_url_with_405(live_world: World, admin: Any) -> None:
    assert admin.client.get(START).status_code == 405


def test_it_refreshes_the_run_log_while_a_run_is_running(live_world: World, admin: Any) -> None:
    run = inventory.start_sync(live_world.organization, enqueue=False)
    assert run is not None

    running_list = admin.client.get(RUNS).content.decode()
    running_page = admin.client.get(reverse("admin:sync_syncrun_change", args=[run.pk]))
    inventory.run_sync(run.pk)
    finished_list = admin.client.get(RUNS).content.decode()

    assert 'http-equiv="refresh"' in running_list
    assert 'http-equiv="refresh"' in running_page.content.decode()
    assert 'http-equiv="refresh"' not in finished_list
    assert "Succeeded" in finished_list


def test_it_hides_one_organizations_runs_from_another(
    live_world: World, stranger: Any, admin: Any
) -> None:
    run = inventory.start_sync(live_world.organization, enqueue=False)
    assert run is not None

    assert stranger.client.get(reverse("admin:sync_syncrun_change", args=[run.pk])).status_code in (
        302,
        404,
    )
    assert stranger.client.get(RUNS).context["cl"].result_count == 0
    assert admin.client.get(RUNS).context["cl"].result_count == 1
