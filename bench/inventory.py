"""Inventory sync speed (design.md §6, issue 5), against the sandbox over real HTTP.

``run()`` returns the ``sync.*`` rows. With 20,000 items (four brands, stock at two facilities):

- fetch-only: page through exactly the API responses a full run reads (items, then the
  inventory summary of each batch per facility), with the client and no database;
- full: a first full run into an empty organization (``sync.inventory.run_sync``);
- naive: the same responses applied with one ``update_or_create`` per item and per stock row,
  into another empty organization;
- delta: a delta run after 1 % of the items changed in Flourish (price, and stock at one facility);
- peak RSS: a full run of 20,000 and of 100,000 items, each in a child process that reports its own
  peak RSS during the run (Linux VmHWM, reset after the migrations; ``ru_maxrss`` elsewhere).
  Flat memory means the two are close.

The sandbox runs in a child process (its JSON work must not share our GIL, as Flourish does not),
and the runs write into a throwaway database made by Django's test machinery (``test_…`` next to
the configured one), dropped at the end. Run alone: ``python -m bench.inventory [items]``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ITEMS = 20_000
ITEMS_PEAK = 100_000
CHANGED_SHARE = 0.01
API_KEY = "bench-key"
BRANDS = ("Green Ridge", "Sunset Farms", "Blue Harbor", "Canyon Gold")
LICENSES = ("C11-0000123-LIC", "C11-0000456-LIC")


# -- the sandbox, in its own process ----------------------------------------------------------


def _serve_sandbox(conn: Any, items: int) -> None:
    from flourish_sandbox.testing import running_sandbox

    with running_sandbox(api_key=API_KEY, seed="bare", items=items) as sandbox:
        conn.send(sandbox.url)
        while True:
            command, argument = conn.recv()
            if command == "change":
                state = sandbox.state
                ids = sorted(state.items, key=int)
                step = max(1, len(ids) // argument)
                changed = ids[::step][:argument]
                facility = next(iter(state.facilities))
                for item_id in changed:
                    price = float(state.items[item_id]["price"]) + 1
                    state.update_item(item_id, price=round(price, 2))
                    state.set_inventory(item_id, facility, 999)
                conn.send(len(changed))
            else:
                conn.send("bye")
                return


@contextmanager
def sandbox_process(items: int) -> Iterator[tuple[str, Any]]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_sandbox, args=(child, items), daemon=True)
    process.start()
    try:
        yield parent.recv(), parent
    finally:
        try:
            parent.send(("stop", None))
            parent.recv()
        except (EOFError, OSError):
            pass
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()


# -- a throwaway database ---------------------------------------------------------------------


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordo_integration.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


@contextmanager
def throwaway_database(suffix: str) -> Iterator[None]:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    test = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test["NAME"] = str(settings.VAR_DIR / f"bench-{suffix}.sqlite3")
    else:
        test["NAME"] = f"test_ordo_bench_{suffix}"
    old = setup_databases(verbosity=0, interactive=False, keepdb=False)
    try:
        yield
    finally:
        teardown_databases(old, verbosity=0)


def _organization(name: str, url: str) -> Any:
    from ordo_integration.organizations.models import Brand, License, Organization
    from sync.models import FlourishIntegration

    organization = Organization.objects.create(name=name, slug=name.lower().replace(" ", "-"))
    for brand in BRANDS:
        Brand.objects.create(organization=organization, name=brand)
    for number in LICENSES:
        License.objects.create(
            organization=organization,
            license_number=number,
            license_type="Distributor",
            legal_name=f"{name} LLC",
            address_line_1="1 Warehouse Way",
            city="Oakland",
            state="CA",
            zip_code="94607",
        )
    return FlourishIntegration.objects.create(
        organization=organization, base_url=url, api_key=API_KEY
    )


# -- the measurements -------------------------------------------------------------------------


def fetch_only(integration: Any) -> tuple[float, int]:
    """The same calls a full run makes, read and parsed into records, no database."""
    from sync import inventory
    from sync.client import client_for

    matcher = inventory.BrandMatcher.for_organization(integration.organization)
    with client_for(integration) as client:
        facilities = inventory.ensure_facility_links(integration, client)
        calls_before = client.request_count
        started = time.perf_counter()
        for _batch in inventory.fetch_batches(
            client, client.list_items(), matcher, list(facilities)
        ):
            pass
        return time.perf_counter() - started, client.request_count - calls_before


def sync_run(integration: Any, mode: str) -> Any:
    from sync import inventory
    from sync.models import SyncState, SyncTrigger

    run = inventory.start_sync(integration.organization, SyncTrigger.COMMAND, mode, enqueue=False)
    if run is None:
        raise RuntimeError("a run is already running")
    started = time.perf_counter()
    inventory.run_sync(run.pk)
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    if run.state != SyncState.SUCCEEDED:
        raise RuntimeError(f"bench run failed: {run.error}")
    return run, elapsed


def naive_sync(integration: Any) -> float:
    """What the bulk path replaces: one update_or_create per item and per stock row."""
    from ordo_integration.catalog.models import Item, Stock
    from sync import inventory
    from sync.client import client_for

    organization = integration.organization
    matcher = inventory.BrandMatcher.for_organization(organization)
    with client_for(integration) as client:
        facilities = inventory.ensure_facility_links(integration, client)
        started = time.perf_counter()
        for batch in inventory.fetch_batches(
            client, client.list_items(), matcher, list(facilities)
        ):
            items = {}
            for record in batch.items:
                brand_pk = matcher.match(record.brand)
                if brand_pk is None:
                    continue
                items[record.id], _ = Item.objects.update_or_create(
                    organization=organization,
                    flourish_item_id=record.id,
                    defaults={
                        "brand_id": brand_pk,
                        "sku": record.sku,
                        "name": record.item_name,
                        "unit": record.uom or "",
                        "price": record.price,
                        "is_active": record.active,
                        "flourish_last_updated": record.last_updated_timestamp,
                    },
                )
            for facility_id, rows in (batch.stock or {}).items():
                for row in rows:
                    item = items.get(row.item_id)
                    if item is None or row.sku != item.sku:
                        continue
                    Stock.objects.update_or_create(
                        item=item,
                        license_id=facilities[facility_id],
                        defaults={
                            "sellable_qty": row.sellable_qty,
                            "qty": row.qty,
                            "available_qty": row.available_qty,
                            "on_order_qty": row.on_order_qty,
                        },
                    )
        return time.perf_counter() - started


def peak_rss(items: int) -> dict[str, float]:
    """A full run of ``items`` in a child process; its own peak RSS (MB) and run time."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.inventory", "--peak-rss", str(items)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"peak RSS child failed:\n{completed.stderr[-3000:]}")
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM, so the peak measured is the run's own, not
    the migrations' that built the throwaway database."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _peak_rss_child(items: int) -> None:
    _setup_django()
    from sync.models import SyncMode

    with sandbox_process(items) as (url, _control), throwaway_database(f"rss_{items}"):
        integration = _organization("Bench Memory", url)
        reset = _reset_peak_rss()
        run, elapsed = sync_run(integration, SyncMode.FULL)
        result = {
            "peak_rss_mb": _peak_rss_mb(),
            "peak_is_run_only": reset,
            "seconds": elapsed,
            "seen": run.seen,
        }
        print(json.dumps(result))


def _row(
    name: str, value: float, unit: str, target: str | None, met: bool | None
) -> dict[str, Any]:
    return {"name": name, "value": round(value, 4), "unit": unit, "target": target, "met": met}


def run(items: int = ITEMS, peak_items: int = ITEMS_PEAK) -> list[dict[str, Any]]:
    _setup_django()
    from sync.models import SyncMode

    with sandbox_process(items) as (url, control), throwaway_database("inventory"):
        bulk = _organization("Bench Bulk", url)
        naive = _organization("Bench Naive", url)

        fetch_seconds, fetch_calls = fetch_only(bulk)
        full, full_seconds = sync_run(bulk, SyncMode.FULL)
        naive_seconds = naive_sync(naive)
        changed = max(1, int(items * CHANGED_SHARE))
        control.send(("change", changed))
        control.recv()
        delta, delta_seconds = sync_run(bulk, SyncMode.DELTA)
        if delta.mode != SyncMode.DELTA or delta.updated < changed:
            raise RuntimeError(f"delta run saw {delta.updated} updates, expected {changed}")

    rss_small = peak_rss(items)
    rss_peak = peak_rss(peak_items)

    full_over_fetch = full_seconds / fetch_seconds
    naive_over_full = naive_seconds / full_seconds
    delta_time_share = delta_seconds / full_seconds
    delta_calls_share = delta.api_calls / full.api_calls
    rss_growth = rss_peak["peak_rss_mb"] / rss_small["peak_rss_mb"]
    return [
        _row("sync.items", items, "items", None, None),
        _row("sync.fetch_only_s", fetch_seconds, "s", None, None),
        _row("sync.fetch_only_calls", fetch_calls, "calls", None, None),
        _row("sync.full_s", full_seconds, "s", None, None),
        _row("sync.full_calls", full.api_calls, "calls", None, None),
        _row("sync.naive_s", naive_seconds, "s", None, None),
        _row("sync.delta_s", delta_seconds, "s", None, None),
        _row("sync.delta_calls", delta.api_calls, "calls", None, None),
        _row("sync.full_over_fetch", full_over_fetch, "ratio", "≤ 1.3", full_over_fetch <= 1.3),
        _row("sync.naive_over_full", naive_over_full, "ratio", "≥ 10", naive_over_full >= 10),
        _row(
            "sync.delta_time_share", delta_time_share, "ratio", "≤ 0.05", delta_time_share <= 0.05
        ),
        _row(
            "sync.delta_calls_share",
            delta_calls_share,
            "ratio",
            "≤ 0.05",
            delta_calls_share <= 0.05,
        ),
        _row("sync.peak_rss_mb_20k", rss_small["peak_rss_mb"], "MB", None, None),
        _row(
            "sync.peak_rss_mb_100k",
            rss_peak["peak_rss_mb"],
            "MB",
            "≤ 1.5x the 20k run (flat)",
            rss_growth <= 1.5,
        ),
        _row("sync.full_s_100k", rss_peak["seconds"], "s", None, None),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--peak-rss":
        _peak_rss_child(int(sys.argv[2]))
    else:
        for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else ITEMS):
            print(f"{row['name']}\t{row['value']}\t{row['unit']}\t{row['target'] or ''}")
