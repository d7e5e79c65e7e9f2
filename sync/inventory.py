"""Inventory sync: Flourish items and their stock per license into Ordo (design.md §1.2, §4).

Entry points:

- ``start_sync(organization, trigger, mode)`` opens a ``SyncRun`` (the lock: at most one running
  run per organization, enforced by the ``one_running_sync_per_organization`` constraint) and
  queues ``sync.tasks.run_inventory_sync``; ``run_sync(sync_run_id)`` does the work.
- ``apply_item`` and ``apply_inventory_row`` apply one webhook's record at once, without a run.
- ``ensure_facility_links`` links licenses to Flourish facilities by ``license_number`` (§4.1).

How a run works: items are read page by page (50, §3.2) in batches of ``BATCH_ITEMS``; for the
items of a batch whose brand matches, the inventory summary is read per linked facility with
repeated ``item_id`` params (≤ 50 per call, §4.5). A background thread fetches the next batch
while the current one is written, so the database work hides behind the HTTP wait. Each batch is
compared with the rows already stored (one query for items, one for stock) and only new or changed
rows are written, with bulk upserts, in one transaction per batch. Nothing is held beyond two
batches: memory does not grow with the catalogue.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model, Q
from django.urls import reverse
from django.utils import timezone

from flourish_client import FlourishClient, FlourishError, InventorySummaryRow
from flourish_client import Item as FlourishItem
from ordo_integration.catalog.models import Item, Stock
from ordo_integration.organizations.models import License, Organization
from ordo_integration.organizations.setup import SetupStep, register_provider

from .client import client_for
from .models import FacilityLink, FlourishIntegration, SyncMode, SyncRun, SyncState, SyncTrigger
from .setup import link_unlinked_licenses

logger = logging.getLogger(__name__)

# Items per batch: one transaction, one comparison query per table, one progress update.
BATCH_ITEMS = 1000
# A delta run asks for changes since the last successful run's start minus this margin, so that
# a change stamped while that run was reading (or a clock skew with Flourish) is not missed.
DELTA_SAFETY_MARGIN = dt.timedelta(minutes=2)
# A run still "running" after this long lost its worker (killed, redeployed): it no longer holds
# the lock. A full run of 100,000 items takes minutes, so an hour is a generous bound.
ABANDONED_RUN_MINUTES = 60

QUANTITY_PLACES = Decimal("0.0001")
PRICE_PLACES = Decimal("0.01")
ITEM_FIELDS = ["brand", "sku", "name", "unit", "price", "is_active", "flourish_last_updated"]
STOCK_FIELDS = ["sellable_qty", "qty", "available_qty", "on_order_qty", "flourish_last_updated"]

T = TypeVar("T")


class SyncNotConfigured(Exception):
    """The organization has no Flourish integration with an API key: nothing can be synced."""


# ---------------------------------------------------------------------------------------------
# Brands: exact match only; near matches are reported (issue 5)
# ---------------------------------------------------------------------------------------------


def _normalised(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class BrandMatcher:
    """Flourish brand name → Ordo brand id. Only an exact name matches (design.md §1.1); a name
    that differs only in case or spacing is a near match, reported so the admin can fix it."""

    exact: dict[str, int]
    near: dict[str, str]

    @classmethod
    def for_organization(cls, organization: Organization) -> BrandMatcher:
        brands = list(organization.brands.values_list("name", "pk"))
        return cls(
            exact={name: pk for name, pk in brands},
            near={_normalised(name): name for name, _pk in brands},
        )

    @property
    def names(self) -> list[str]:
        return sorted(self.exact)

    def match(self, flourish_brand: str | None) -> int | None:
        return self.exact.get(flourish_brand) if flourish_brand else None

    def skip_reason(self, flourish_brand: str | None) -> str:
        if not flourish_brand:
            return "no brand"
        ordo_name = self.near.get(_normalised(flourish_brand))
        if ordo_name is not None:
            return f"brand near-match: {flourish_brand!r} (Ordo: {ordo_name!r})"
        return f"other brand: {flourish_brand!r}"


# ---------------------------------------------------------------------------------------------
# Facilities
# ---------------------------------------------------------------------------------------------


def ensure_facility_links(
    integration: FlourishIntegration, client: FlourishClient | None = None
) -> dict[str, int]:
    """Flourish facility id → License id for every license of the organization that has (or now
    gets) a ``FacilityLink``. Missing links are resolved from ``GET /facilities`` by
    ``license_number`` (§4.1); "Check connection" on the Setup page usually made them already."""
    organization = integration.organization
    linked = dict(
        FacilityLink.objects.filter(license__organization=organization).values_list(
            "facility_id", "license_id"
        )
    )
    missing = list(
        License.objects.filter(organization=organization, facility_link__isnull=True).only(
            "pk", "license_number"
        )
    )
    for license_id, link in link_unlinked_licenses(integration, missing, client).items():
        linked[link.facility_id] = license_id
    return linked


def unlinked_licenses(organization: Organization) -> list[str]:
    return list(
        License.objects.filter(organization=organization, facility_link__isnull=True)
        .order_by("license_number")
        .values_list("license_number", flat=True)
    )


# ---------------------------------------------------------------------------------------------
# Writing a batch: compare with stored rows in bulk, upsert only what changed
# ---------------------------------------------------------------------------------------------


@dataclass
class Counts:
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class FetchedBatch:
    """One batch of items as Flourish listed them, and the inventory summary rows of the
    matching ones per facility (``None``: stock not fetched for this batch)."""

    items: list[FlourishItem]
    stock: dict[str, list[InventorySummaryRow]] | None


def bulk_upsert(
    model: type[Model],
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    unique: Sequence[str],
    update: Sequence[str],
) -> None:
    """``INSERT … ON CONFLICT (unique) DO UPDATE SET update`` for many rows in one statement.

    On PostgreSQL the rows travel as one array per column through ``unnest``: a handful of
    parameters instead of one per value, which is what made ``bulk_create`` (compiling every
    value through its field) cost more than the HTTP it followed (bench/, sync.full_over_fetch).
    Elsewhere (the embedded SQLite) ``bulk_create(update_conflicts=True)`` does the same."""
    if not rows:
        return

    def field(name: str) -> Field[Any, Any]:
        found = model._meta.get_field(name)
        if not isinstance(found, Field):
            raise TypeError(f"{model.__name__}.{name} is not a concrete field")
        return found

    fields = [field(name) for name in columns]
    if connection.vendor != "postgresql":
        attnames = [f.attname for f in fields]  # "organization" → "organization_id" (a pk)
        model._default_manager.bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows],
            update_conflicts=True,
            unique_fields=list(unique),
            update_fields=list(update),
        )
        return
    quote = connection.ops.quote_name
    targets = ", ".join(quote(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    conflict = ", ".join(quote(field(name).column) for name in unique)
    assignments = ", ".join(
        f"{quote(field(name).column)} = EXCLUDED.{quote(field(name).column)}" for name in update
    )
    # Only identifiers from our own models are interpolated; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({targets}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
    )
    params = [list(values) for values in zip(*rows, strict=True)]
    connection.ensure_connection()
    # A server-side-binding psycopg cursor on Django's own connection (same transaction):
    # Django's default client-side binding would quote every array into the SQL text in Python,
    # while binary parameters are dumped by psycopg's C code.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)


def _relax_commit_durability() -> None:
    """Let PostgreSQL acknowledge this batch's commit before its WAL reaches the disk.

    Each batch would otherwise wait for an fsync (tens of ms per batch). Nothing is lost that
    matters: the run's final state is written by a normal, durable commit, which flushes the WAL
    of every batch before it; and after a database crash a rerun rewrites Flourish's state."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _price(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(PRICE_PLACES)


def _qty(value: Decimal) -> Decimal:
    return value.quantize(QUANTITY_PLACES)


def _pick_row(rows: Iterable[InventorySummaryRow], sku: str) -> InventorySummaryRow | None:
    """An item can have several summary rows (variation, strain, lot); the one whose ``sku``
    equals the item's is the item's own stock, as the official client does (§4.5)."""
    for row in rows:
        if row.sku == sku:
            return row
    return None


def _stock_values(row: InventorySummaryRow | None) -> tuple[Any, ...]:
    if row is None:
        # The item has no summary row at that facility any more: nothing is there to sell.
        zero = Decimal(0).quantize(QUANTITY_PLACES)
        return (zero, zero, zero, zero, None)
    return (
        _qty(row.sellable_qty),
        _qty(row.qty),
        _qty(row.available_qty),
        _qty(row.on_order_qty),
        row.last_updated_timestamp,
    )


def _write_stock(
    wanted: dict[tuple[int, int], InventorySummaryRow | None],
    synced_at: dt.datetime,
    *,
    zero_missing_rows: bool,
) -> set[int]:
    """Upsert ``(item pk, license pk) → row`` where the quantities differ from what is stored.
    ``None`` means "no row": an existing row is zeroed, none is created. Returns the item pks
    whose stock changed. One query to compare, one bulk upsert, one stamp update."""
    if not wanted:
        return set()
    item_pks = {item_pk for item_pk, _license in wanted}
    license_pks = {license_pk for _item, license_pk in wanted}
    stored_rows = Stock.objects.filter(
        item_id__in=item_pks, license_id__in=license_pks
    ).values_list(
        "item_id",
        "license_id",
        "sellable_qty",
        "qty",
        "available_qty",
        "on_order_qty",
        "flourish_last_updated",
    )
    stored = {(row[0], row[1]): row[2:] for row in stored_rows}
    changed: list[tuple[Any, ...]] = []
    changed_items: set[int] = set()
    for (item_pk, license_pk), row in wanted.items():
        current = stored.get((item_pk, license_pk))
        if row is None and (current is None or not zero_missing_rows):
            continue
        values = _stock_values(row)
        if current is not None and current[:4] == values[:4]:
            continue
        changed_items.add(item_pk)
        changed.append((item_pk, license_pk, *values, synced_at))
    bulk_upsert(
        Stock,
        ["item", "license", *STOCK_FIELDS, "synced_at"],
        changed,
        unique=["item", "license"],
        update=[*STOCK_FIELDS, "synced_at"],
    )
    return changed_items


def _write_batch(
    organization: Organization,
    batch: FetchedBatch,
    matcher: BrandMatcher,
    facilities: dict[str, int],
    counts: Counts,
) -> set[str]:
    """Apply one fetched batch in one transaction. Returns the Flourish ids it counted as
    created or updated (a delta run uses them not to count an item twice)."""
    synced_at = timezone.now()
    matching: list[tuple[FlourishItem, int]] = []
    for flourish_item in batch.items:
        counts.seen += 1
        brand_pk = matcher.match(flourish_item.brand)
        if brand_pk is None:
            counts.skipped[matcher.skip_reason(flourish_item.brand)] += 1
        else:
            matching.append((flourish_item, brand_pk))
    if not matching:
        return set()

    ids = [flourish_item.id for flourish_item, _brand in matching]
    stored = {
        row[0]: row[1:]
        for row in Item.objects.filter(organization=organization, flourish_item_id__in=ids)
        .values_list("flourish_item_id", "pk", "brand_id", *ITEM_FIELDS[1:])
        .iterator()
    }
    to_write: list[tuple[Any, ...]] = []
    item_outcome: dict[str, str] = {}
    for flourish_item, brand_pk in matching:
        values = (
            brand_pk,
            flourish_item.sku,
            flourish_item.item_name,
            flourish_item.uom or "",
            _price(flourish_item.price),
            flourish_item.active,
            flourish_item.last_updated_timestamp,
        )
        current = stored.get(flourish_item.id)
        if current is None:
            item_outcome[flourish_item.id] = "created"
        elif current[1:] == values:
            item_outcome[flourish_item.id] = "unchanged"
            continue
        elif current[6] and not flourish_item.active:
            item_outcome[flourish_item.id] = "deactivated"
        else:
            item_outcome[flourish_item.id] = "updated"
        # created_at is written for new rows only (it is not among the updated columns).
        to_write.append((organization.pk, flourish_item.id, *values, synced_at, synced_at))

    with transaction.atomic():
        _relax_commit_durability()
        bulk_upsert(
            Item,
            ["organization", "flourish_item_id", *ITEM_FIELDS, "last_synced_at", "created_at"],
            to_write,
            unique=["organization", "flourish_item_id"],
            update=[*ITEM_FIELDS, "last_synced_at"],
        )
        pks = {flourish_id: current[0] for flourish_id, current in stored.items()}
        created_ids = [i for i, outcome in item_outcome.items() if outcome == "created"]
        if created_ids:
            pks.update(
                Item.objects.filter(
                    organization=organization, flourish_item_id__in=created_ids
                ).values_list("flourish_item_id", "pk")
            )
        # The run stamp: an item seen by this run has last_synced_at ≥ the run's start, so a
        # full run can deactivate the others at its end without remembering every id it saw.
        unchanged_pks = [pks[i] for i, outcome in item_outcome.items() if outcome == "unchanged"]
        if unchanged_pks:
            Item.objects.filter(pk__in=unchanged_pks).update(last_synced_at=synced_at)
        stock_changed: set[int] = set()
        if batch.stock is not None:
            by_item: dict[str, list[InventorySummaryRow]] = {}
            wanted: dict[tuple[int, int], InventorySummaryRow | None] = {}
            for facility_id, rows in batch.stock.items():
                license_pk = facilities.get(facility_id)
                if license_pk is None:
                    continue
                by_item.clear()
                for row in rows:
                    by_item.setdefault(row.item_id, []).append(row)
                for flourish_item, _brand in matching:
                    wanted[(pks[flourish_item.id], license_pk)] = _pick_row(
                        by_item.get(flourish_item.id, ()), flourish_item.sku
                    )
            stock_changed = _write_stock(wanted, synced_at, zero_missing_rows=True)

    touched: set[str] = set()
    for flourish_id, outcome in item_outcome.items():
        if outcome == "unchanged" and pks[flourish_id] in stock_changed:
            outcome = "updated"
        if outcome == "unchanged":
            counts.unchanged += 1
        else:
            touched.add(flourish_id)
            if outcome == "created":
                counts.created += 1
            elif outcome == "deactivated":
                counts.deactivated += 1
            else:
                counts.updated += 1
    return touched


def _write_stock_rows(
    organization: Organization,
    license_pk: int,
    rows: Sequence[InventorySummaryRow],
    synced_at: dt.datetime,
) -> set[str]:
    """Apply summary rows of one facility to the items Ordo already has (others are not ours).
    Returns the Flourish ids whose stock changed."""
    items = {
        flourish_id: (pk, sku)
        for flourish_id, pk, sku in Item.objects.filter(
            organization=organization, flourish_item_id__in={row.item_id for row in rows}
        ).values_list("flourish_item_id", "pk", "sku")
    }
    wanted: dict[tuple[int, int], InventorySummaryRow | None] = {}
    for row in rows:
        known = items.get(row.item_id)
        if known is not None and row.sku == known[1]:  # the item's own row (§4.5)
            wanted[(known[0], license_pk)] = row
    changed = _write_stock(wanted, synced_at, zero_missing_rows=False)
    return {flourish_id for flourish_id, (pk, _sku) in items.items() if pk in changed}


# ---------------------------------------------------------------------------------------------
# Fetching, one batch ahead of the writes
# ---------------------------------------------------------------------------------------------


def batch_items() -> int:
    return int(getattr(settings, "INVENTORY_SYNC_BATCH_ITEMS", BATCH_ITEMS))


def _chunked(values: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fetch_batches(
    client: FlourishClient,
    items: Iterable[FlourishItem],
    matcher: BrandMatcher,
    facility_ids: Sequence[str],
    batch_size: int | None = None,
) -> Iterator[FetchedBatch]:
    """Batches of listed items, each with the summary rows of its matching items per facility.

    Stock is asked by ``item_id`` (≤ 50 per call, the client chunks; §4.5) rather than by paging
    each facility's whole summary: for the items we keep, that is never more calls, and fewer
    as soon as some brands are not ours. Pure HTTP: no database access (runs on a thread)."""
    for listed in _chunked(items, batch_size or batch_items()):
        # Offset paging over a list that changes meanwhile can hand out an item twice; one
        # upsert statement cannot touch a row twice (PostgreSQL refuses), so keep the last copy.
        chunk = list({flourish_item.id: flourish_item for flourish_item in listed}.values())
        ids = [flourish_item.id for flourish_item in chunk if matcher.match(flourish_item.brand)]
        stock = {
            facility_id: list(client.inventory_summary(facility_id, item_ids=ids)) if ids else []
            for facility_id in facility_ids
        }
        yield FetchedBatch(chunk, stock)


_DONE = object()


def prefetched(source: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Iterate ``source`` on a thread, at most ``depth`` results ahead of the consumer.

    The run's time is then about max(HTTP, database) instead of their sum. The thread stops when
    the consumer stops (even on an exception); the source's exceptions re-raise here."""
    results: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(value: Any) -> bool:
        while not stop.is_set():
            try:
                results.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for value in source:
                if not offer(value):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            offer(exc)

    thread = threading.Thread(target=produce, name="inventory-fetch", daemon=True)
    thread.start()
    try:
        while True:
            value = results.get()
            if value is _DONE:
                return
            if isinstance(value, BaseException):
                raise value
            yield value
    finally:
        stop.set()
        thread.join(timeout=5)


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------


def last_successful_run(organization: Organization) -> SyncRun | None:
    return (
        SyncRun.objects.filter(organization=organization, state=SyncState.SUCCEEDED)
        .order_by("-started_at")
        .first()
    )


def running_sync(organization: Organization) -> SyncRun | None:
    return SyncRun.objects.filter(organization=organization, state=SyncState.RUNNING).first()


def _release_abandoned_runs(organization: Organization) -> None:
    minutes = getattr(settings, "INVENTORY_SYNC_ABANDONED_MINUTES", ABANDONED_RUN_MINUTES)
    cutoff = timezone.now() - dt.timedelta(minutes=minutes)
    released = SyncRun.objects.filter(
        organization=organization, state=SyncState.RUNNING, started_at__lt=cutoff
    ).update(
        state=SyncState.FAILED,
        finished_at=timezone.now(),
        error=f"Abandoned: still running after {minutes} minutes (worker lost?).",
    )
    if released:
        logger.warning("released %s abandoned sync run(s) of %s", released, organization)


def start_sync(
    organization: Organization,
    trigger: str = SyncTrigger.BUTTON,
    mode: str = SyncMode.FULL,
    *,
    enqueue: bool = True,
) -> SyncRun | None:
    """Open a run and (after commit) queue it. ``None`` when a run of this organization is
    already running: the caller says so (see ``running_sync``) instead of queuing a duplicate.

    A delta run without any earlier successful run becomes a full run: there is no "since"."""
    integration = FlourishIntegration.objects.filter(organization=organization).first()
    if integration is None or not integration.api_key:
        raise SyncNotConfigured(
            f"{organization} has no Flourish credentials yet: enter them on the Setup page."
        )
    _release_abandoned_runs(organization)
    since = None
    if mode == SyncMode.DELTA:
        last = last_successful_run(organization)
        if last is None:
            mode = SyncMode.FULL
        else:
            since = last.started_at - DELTA_SAFETY_MARGIN
    try:
        # The partial unique constraint one_running_sync_per_organization is the lock: two
        # simultaneous requests cannot both insert a running row (the savepoint keeps an outer
        # transaction usable after the refusal).
        with transaction.atomic():
            run = SyncRun.objects.create(
                organization=organization, trigger=trigger, mode=mode, since=since
            )
    except IntegrityError:
        return None
    if enqueue:
        from .tasks.inventory import run_inventory_sync

        transaction.on_commit(lambda: run_inventory_sync.delay(run.pk))
    return run


ProgressCallback = Callable[[SyncRun], None]


class _Runner:
    def __init__(
        self,
        run: SyncRun,
        integration: FlourishIntegration,
        client: FlourishClient,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.run = run
        self.organization = run.organization
        self.integration = integration
        self.client = client
        self.on_progress = on_progress
        self.counts = Counts()
        self.matcher = BrandMatcher.for_organization(self.organization)

    def execute(self) -> None:
        facilities = ensure_facility_links(self.integration, self.client)
        for license_number in unlinked_licenses(self.organization):
            reason = f"license {license_number}: no Flourish facility with this number, no stock"
            self.counts.skipped[reason] = 1
        if self.run.mode == SyncMode.FULL:
            self._full(facilities)
        else:
            self._delta(facilities)

    def _full(self, facilities: dict[str, int]) -> None:
        # All items, not only our brands (`brand_name=` filter): a full run must see the others
        # to report them as skipped by brand name. The cost is the item pages of other brands
        # (one call per 50 items); stock is still asked only for our items. When the organization
        # sells most of the catalogue the two lists cost the same; the filtered variant was not
        # benchmarked separately (bench/ measures this all-items path).
        items = self.client.list_items()
        batches = fetch_batches(self.client, items, self.matcher, list(facilities))
        for batch in prefetched(batches):
            _write_batch(self.organization, batch, self.matcher, facilities, self.counts)
            self.report(f"{self.counts.seen} items read")
        # Never deleted (orders reference items): an item this run did not see, or saw under a
        # brand that is no longer ours, becomes inactive. Seen items carry a newer stamp.
        vanished = Item.objects.filter(organization=self.organization, is_active=True).filter(
            Q(last_synced_at__lt=self.run.started_at) | Q(last_synced_at__isnull=True)
        )
        self.counts.deactivated += vanished.update(is_active=False)

    def _delta(self, facilities: dict[str, int]) -> None:
        since = self.run.since
        if since is None:  # start_sync sets it on every delta run; a hand-made row may not
            raise ValueError("a delta run needs a 'since' time")
        # Items changed since (with their stock: a new item of ours needs its quantities), then
        # stock changed since per facility; both filtered by last_updated_timestamp_start (§4.4,
        # §4.5). Deleted items are not listed by Flourish: only a full run deactivates them.
        items = self.client.list_items(last_updated_since=since)
        batches = fetch_batches(self.client, items, self.matcher, list(facilities))
        touched: set[str] = set()
        for batch in prefetched(batches):
            touched |= _write_batch(self.organization, batch, self.matcher, facilities, self.counts)
            self.report(f"{self.counts.seen} changed items read")
        for facility_id, license_pk in facilities.items():
            rows = self.client.inventory_summary(facility_id, last_updated_since=since)
            for chunk in _chunked(rows, batch_items()):
                with transaction.atomic():
                    changed = _write_stock_rows(
                        self.organization, license_pk, chunk, timezone.now()
                    )
                self.counts.updated += len(changed - touched)
                touched |= changed
                self.report(f"stock changes read at facility {facility_id}")

    def report(self, progress: str) -> None:
        run, counts = self.run, self.counts
        run.api_calls = self.client.request_count
        run.pages = self.client.pages_fetched
        run.seen = counts.seen
        run.created = counts.created
        run.updated = counts.updated
        run.unchanged = counts.unchanged
        run.deactivated = counts.deactivated
        run.skipped = dict(counts.skipped.most_common())
        run.progress = progress[:200]
        # A cheap update() of the counters: the admin shows them live while the run goes on.
        SyncRun.objects.filter(pk=run.pk).update(
            api_calls=run.api_calls,
            pages=run.pages,
            seen=run.seen,
            created=run.created,
            updated=run.updated,
            unchanged=run.unchanged,
            deactivated=run.deactivated,
            skipped=run.skipped,
            progress=run.progress,
        )
        if self.on_progress is not None:
            self.on_progress(run)

    def finish(self, state: str, error: str = "") -> None:
        run = self.run
        run.state = state
        run.error = error
        run.finished_at = timezone.now()
        self.report("Done." if state == SyncState.SUCCEEDED else "Failed.")
        # Only a run still marked running is finished: one released meanwhile as abandoned
        # (and perhaps already followed by another run) keeps its verdict.
        SyncRun.objects.filter(pk=run.pk, state=SyncState.RUNNING).update(
            state=run.state, error=run.error, finished_at=run.finished_at
        )


def run_sync(sync_run_id: int, on_progress: ProgressCallback | None = None) -> SyncRun | None:
    """Execute an open run. Safe to call twice: a finished run is left alone, and a run that is
    re-executed (task redelivered after a lost worker) converges, since every write is an
    upsert of Flourish's current state. A failure is recorded on the run, not raised."""
    run = SyncRun.objects.select_related("organization").filter(pk=sync_run_id).first()
    if run is None:
        logger.info("sync run %s no longer exists", sync_run_id)
        return None
    if run.state != SyncState.RUNNING:
        logger.info("sync run %s already %s", sync_run_id, run.state)
        return run
    integration = FlourishIntegration.objects.filter(organization=run.organization).first()
    if integration is None or not integration.api_key:
        SyncRun.objects.filter(pk=run.pk).update(
            state=SyncState.FAILED,
            finished_at=timezone.now(),
            error="No Flourish integration with an API key for this organization.",
        )
        run.refresh_from_db()
        return run
    with client_for(integration) as client:
        runner = _Runner(run, integration, client, on_progress)
        try:
            runner.execute()
        except FlourishError as exc:
            logger.warning("sync run %s failed: %s", run.pk, exc)
            runner.finish(SyncState.FAILED, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # recorded on the run for the admin, with the traceback logged
            logger.exception("sync run %s failed", run.pk)
            runner.finish(SyncState.FAILED, f"{type(exc).__name__}: {exc}")
        else:
            runner.finish(SyncState.SUCCEEDED)
    return run


def full_sync_every() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "INVENTORY_FULL_SYNC_EVERY_HOURS", 24))


def _full_run_due(organization: Organization, now: dt.datetime) -> bool:
    """A delta run cannot see what Flourish deleted, nor the items of a brand or the stock of a
    license added in Ordo since (nothing about them changed in Flourish): a scheduled full run
    once a day, and whenever brands or licenses changed after the last full run, catches up."""
    last_full = (
        SyncRun.objects.filter(
            organization=organization, state=SyncState.SUCCEEDED, mode=SyncMode.FULL
        )
        .order_by("-started_at")
        .first()
    )
    if last_full is None or now - last_full.started_at >= full_sync_every():
        return True
    return (
        organization.brands.filter(created_at__gt=last_full.started_at).exists()
        or organization.licenses.filter(created_at__gt=last_full.started_at).exists()
    )


def sync_due_inventories(now: dt.datetime | None = None) -> list[SyncRun]:
    """Beat: start a run for each enabled integration whose interval has passed since its last
    successful run: a delta run, or a full one when ``_full_run_due``. Already running: skipped."""
    now = now or timezone.now()
    started: list[SyncRun] = []
    integrations = (
        FlourishIntegration.objects.filter(enabled=True)
        .exclude(api_key="")
        .select_related("organization")
    )
    for integration in integrations:
        last = last_successful_run(integration.organization)
        interval = dt.timedelta(minutes=integration.inventory_sync_interval_minutes)
        if last is not None and now - last.started_at < interval:
            continue
        mode = SyncMode.FULL if _full_run_due(integration.organization, now) else SyncMode.DELTA
        run = start_sync(integration.organization, SyncTrigger.SCHEDULE, mode)
        if run is not None:
            started.append(run)
    return started


# ---------------------------------------------------------------------------------------------
# Webhooks: one record at once, without a run (design.md §4 "Webhook receive")
# ---------------------------------------------------------------------------------------------


def apply_item(
    integration: FlourishIntegration,
    item: FlourishItem,
    client: FlourishClient | None = None,
) -> None:
    """Apply an ``item`` webhook's record (§5.2): an item of one of our brands is created or
    updated at once, with its stock read per linked facility; an item of another brand is not
    stored, and one we had (its brand changed away) becomes inactive, as a full run would do."""
    organization = integration.organization
    matcher = BrandMatcher.for_organization(organization)
    if matcher.match(item.brand) is None:
        Item.objects.filter(
            organization=organization, flourish_item_id=item.id, is_active=True
        ).update(is_active=False, last_synced_at=timezone.now())
        return
    own_client = client is None
    client = client or client_for(integration)
    try:
        facilities = ensure_facility_links(integration, client)
        batch = next(fetch_batches(client, [item], matcher, list(facilities)))
    finally:
        if own_client:
            client.close()
    _write_batch(organization, batch, matcher, facilities, Counts())


def apply_inventory_row(
    integration: FlourishIntegration,
    row: InventorySummaryRow,
    client: FlourishClient | None = None,
) -> None:
    """Apply an ``inventory_summary`` webhook's row (§5.2).

    The row carries no facility id (§5.5 example), and an item's stock is kept per facility: the
    row cannot be attributed to a license by itself (it may even be a facility we do not sell
    from). So the item's summary is read again per linked facility (one call each, §4.5) and
    applied: the current state, whichever facility changed. An item Ordo does not have yet is
    fetched and applied whole when its brand is ours."""
    organization = integration.organization
    own_client = client is None
    client = client or client_for(integration)
    try:
        known = Item.objects.filter(
            organization=organization, flourish_item_id=row.item_id
        ).exists()
        if not known:
            if BrandMatcher.for_organization(organization).match(row.brand) is not None:
                apply_item(integration, client.get_item(row.item_id), client)
            return
        facilities = ensure_facility_links(integration, client)
        fetched = {
            facility_id: list(client.inventory_summary(facility_id, item_ids=[row.item_id]))
            for facility_id in facilities
        }
    finally:
        if own_client:
            client.close()
    synced_at = timezone.now()
    with transaction.atomic():
        for facility_id, rows in fetched.items():
            _write_stock_rows(organization, facilities[facility_id], rows, synced_at)


def deactivate_item(integration: FlourishIntegration, flourish_item_id: str) -> bool:
    """An item deleted in Flourish becomes inactive in Ordo (never deleted: orders use it)."""
    return bool(
        Item.objects.filter(
            organization=integration.organization,
            flourish_item_id=flourish_item_id,
            is_active=True,
        ).update(is_active=False, last_synced_at=timezone.now())
    )


# ---------------------------------------------------------------------------------------------
# The Setup page's "First inventory sync done" step (organizations/setup.py)
# ---------------------------------------------------------------------------------------------


def inventory_setup_steps(organization: Organization) -> list[SetupStep]:
    last = last_successful_run(organization)
    if last is None:
        detail = "Not done yet: press Sync inventory on the Inventory & allocations screen."
    else:
        detail = f"Last successful sync started {last.started_at:%Y-%m-%d %H:%M} UTC."
    return [
        SetupStep(
            "inventory_sync",
            "First inventory sync done",
            last is not None,
            detail,
            reverse("admin:catalog_item_changelist"),
        )
    ]


# Registered on import: the admin (autodiscovered at start-up) and the tasks import this module.
register_provider(inventory_setup_steps)
