"""Real moving parts for the reliability stories: gunicorn on the test database, a Redis of our
own that a test may kill, a Flourish sandbox that can go down and come back on the same port,
and an organization wired to it with Ordo orders mirroring sandbox orders.

Everything listens on 127.0.0.1 and is stopped by its fixture, whatever the test did.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from flourish_client import SIGNATURE_HEADER, sign
from flourish_sandbox.scenarios import FACILITY_B
from flourish_sandbox.server import SandboxServer, start_server, stop_server
from flourish_sandbox.state import SandboxState
from flourish_sandbox.testing import RunningSandbox, running_sandbox
from ordo_integration.catalog.models import Item, Stock
from ordo_integration.orders.models import Order, OrderStatus, PaymentTerms
from sync.models import FacilityLink, FlourishIntegration, ProcessingState, Verdict, WebhookEvent
from sync.setup import INTEGRATION_HEADER, SECRET_HEADER, webhook_path
from tests.factories import BrandFactory, CustomerFactory, ItemFactory, LicenseFactory
from tests.live import LOG_DIR, WorkerProcess, wait_for
from tests.sync.conftest import make_integration, signed_post

from .processes import GunicornProcess, free_port, listening

FACILITY_B_LICENSE = "C11-0000456-LIC"
KNOWN_DESTINATION_LICENSE = "C10-0000201-LIC"
POST_TIMEOUT_SECONDS = 30


@pytest.fixture
def live_portal(
    transactional_db: None, request: pytest.FixtureRequest
) -> Iterator[GunicornProcess]:
    portal = GunicornProcess(f"gunicorn-{request.node.name[:40]}")
    portal.start()
    try:
        yield portal
    finally:
        portal.stop()


# ---------------------------------------------------------------------------------------------
# A Redis of our own (the shared one on 6379 serves other engineers)
# ---------------------------------------------------------------------------------------------


class RedisServer:
    def __init__(self, name: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = LOG_DIR / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: listening(self.port), timeout=10, what="redis-server listening")

    def kill(self) -> None:
        """SIGKILL: everything Redis held in memory is gone, as after a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("the broker of this run is not Redis")
    server = RedisServer(f"redis-{request.node.name[:40]}")
    server.start()
    try:
        yield server
    finally:
        server.kill()


# ---------------------------------------------------------------------------------------------
# Flourish that can go down and come back (same state, same port)
# ---------------------------------------------------------------------------------------------


@dataclass
class Flourish:
    """A sandbox whose HTTP server can be stopped and started again on the same port."""

    sandbox: RunningSandbox
    server: SandboxServer
    thread: threading.Thread | None = None

    @property
    def state(self) -> SandboxState:
        return self.sandbox.state

    @property
    def url(self) -> str:
        return self.sandbox.url

    def go_down(self) -> None:
        stop_server(self.server, self.thread)

    def come_back(self) -> None:
        host, port = self.server.server_address[:2]
        self.server, self.thread = start_server(
            self.state, host=str(host), port=int(port), api_key=self.sandbox.api_key
        )


@pytest.fixture
def flourish() -> Iterator[Flourish]:
    with running_sandbox(api_key="test-key", seed="demo") as sandbox:
        flourish = Flourish(sandbox=sandbox, server=sandbox.server)
        try:
            yield flourish
        finally:
            # running_sandbox stops the server it started; a restarted one is ours to stop.
            if flourish.server is not sandbox.server:
                stop_server(flourish.server, flourish.thread)


# ---------------------------------------------------------------------------------------------
# The organization wired to the sandbox, with mirrored items and orders
# ---------------------------------------------------------------------------------------------


@dataclass
class Wired:
    integration: FlourishIntegration
    license: Any
    customer: Any
    items: dict[str, Item] = field(default_factory=dict)


@pytest.fixture
def wired(organization: Any, flourish: Flourish) -> Wired:
    """The organization's integration on the sandbox, selling from facility B only (one
    inventory call per inventory event), with every item stocked there known to Ordo."""
    return wire(organization, flourish.url, flourish.sandbox.api_key, flourish.state)


def wire(organization: Any, url: str, api_key: str, state: SandboxState) -> Wired:
    integration = make_integration(organization, base_url=url, api_key=api_key)
    license: Any = LicenseFactory(organization=organization, license_number=FACILITY_B_LICENSE)
    FacilityLink.objects.create(
        license=license, facility_id=FACILITY_B, facility_name="Sunset Valley Manufacturing"
    )
    customer: Any = CustomerFactory(
        organization=organization,
        name="Green Door Dispensary",
        license_number=KNOWN_DESTINATION_LICENSE,
    )
    wired = Wired(integration=integration, license=license, customer=customer)
    brands: dict[str, Any] = {}
    for item_id in stocked_item_ids(state):
        record = state.item(item_id)
        brand_name = record["brand"]
        if brand_name not in brands:
            brands[brand_name] = BrandFactory(organization=organization, name=brand_name)
        item: Any = ItemFactory(
            organization=organization,
            brand=brands[brand_name],
            flourish_item_id=item_id,
            sku=record["sku"],
            name=record["item_name"],
            price=Decimal(str(record["price"])),
        )
        wired.items[item_id] = item
    return wired


def stocked_item_ids(state: SandboxState) -> list[str]:
    """Active items with stock at facility B, in id order."""
    with state.lock:
        return sorted(
            item_id
            for item_id in state.stock.get(FACILITY_B, {})
            if state.items[item_id]["active"] and state.items[item_id]["sellable"]
        )


def sandbox_order(state: SandboxState, number: str, item_id: str, qty: int = 2) -> str:
    """An outbound order created in the sandbox for our order ``number`` (as the push makes)."""
    destination_id = next(
        d["id"]
        for d in state.destinations.values()
        if d["license_number"] == KNOWN_DESTINATION_LICENSE
    )
    record = state.create_order(
        FACILITY_B,
        {
            "original_order_id": number,
            "destination": {"id": destination_id},
            "order_lines": [
                {"sku": state.item(item_id)["sku"], "order_qty": qty, "unit_price": 25}
            ],
        },
    )
    return str(record["id"])


def mirrored_order(wired: Wired, number: str, flourish_id: str, terms: str) -> Order:
    """The Ordo order Confirm left behind: Awaiting Delivery with its Flourish id."""
    return Order.objects.create(
        organization=wired.integration.organization,
        number=number,
        customer=wired.customer,
        license=wired.license,
        payment_terms=terms,
        net_days=30 if terms == PaymentTerms.NET else None,
        status=OrderStatus.AWAITING_DELIVERY,
        flourish_order_id=flourish_id,
        confirmed_at=timezone.now(),
    )


# ---------------------------------------------------------------------------------------------
# Bodies as Flourish sends them, and posting them the way Flourish does
# ---------------------------------------------------------------------------------------------


def envelope(resource_type: str, data: dict[str, Any], action: str = "update") -> bytes:
    """Serialised like the sandbox's dispatcher (flourish-api.md §5.2): compact JSON."""
    payload = {"action": action, "resource_type": resource_type, "data": data}
    return json.dumps(payload, separators=(",", ":")).encode()


def order_body(state: SandboxState, order_id: str, action: str = "update") -> bytes:
    return envelope("order", state.order_record(order_id), action)


def inventory_body(state: SandboxState, item_id: str) -> bytes:
    return envelope("inventory_summary", state.inventory_row(item_id, FACILITY_B))


def signed_headers(integration: FlourishIntegration, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, integration.webhook_signing_key),
        INTEGRATION_HEADER: str(integration.uuid),
        SECRET_HEADER: integration.webhook_header_secret,
    }


def post_all(
    base_url: str,
    integration: FlourishIntegration,
    bodies: Iterable[bytes],
    concurrency: int = 16,
) -> list[int]:
    """POST every body, signed, at ``concurrency``; the HTTP statuses in the bodies' order."""
    url = base_url + webhook_path(integration)
    local = threading.local()
    prepared = [(body, signed_headers(integration, body)) for body in bodies]

    def post(item: tuple[bytes, dict[str, str]]) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        body, headers = item
        return session.post(
            url, data=body, headers=headers, timeout=POST_TIMEOUT_SECONDS
        ).status_code

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(post, prepared))


# ---------------------------------------------------------------------------------------------
# A warehouse's day, captured as the events Flourish would send
# ---------------------------------------------------------------------------------------------

# What the warehouse does to each order, and the Ordo timeline that must result (design.md §1.3).
PLANS: list[tuple[str, str, list[str]]] = [
    ("allocated", PaymentTerms.NET, []),
    ("shipped", PaymentTerms.NET, [OrderStatus.DELIVERED]),
    ("shipped", PaymentTerms.CASH_ON_DELIVERY, [OrderStatus.DELIVERED, OrderStatus.PAID]),
    ("paid", PaymentTerms.NET, [OrderStatus.DELIVERED, OrderStatus.PAID]),
    ("cancelled", PaymentTerms.CASH_ON_DELIVERY, [OrderStatus.CANCELLED]),
]


class History:
    """Every version Flourish would send, in the order its changes happened."""

    def __init__(self) -> None:
        self.versions: list[tuple[str, bytes]] = []  # (resource key, body)
        self.latest: dict[str, bytes] = {}

    def add(self, key: str, body: bytes) -> None:
        # A change that left the record as it was (a cancel does not touch stock) sends nothing.
        if self.latest.get(key) != body:
            self.latest[key] = body
            self.versions.append((key, body))


def warehouse_history(
    state: SandboxState, wired: Wired, rng: random.Random, orders_count: int, distinct: int
) -> tuple[History, dict[str, tuple[Order, list[str]]]]:
    """Drive the sandbox like a warehouse and capture each resulting event body."""
    item_ids = list(wired.items)
    history = History()
    orders: dict[str, tuple[Order, list[str]]] = {}
    for n in range(orders_count):
        final, terms, timeline = PLANS[n % len(PLANS)]
        item_id = item_ids[n % len(item_ids)]
        number = f"REL-{n:05d}"
        flourish_id = sandbox_order(state, number, item_id, qty=rng.randint(1, 5))
        orders[number] = (mirrored_order(wired, number, flourish_id, terms), timeline)
        history.add(f"order:{flourish_id}", order_body(state, flourish_id, "create"))
        history.add(f"inventory:{item_id}", inventory_body(state, item_id))
        plans: dict[str, list[Callable[[str], Any]]] = {
            "allocated": [state.allocate_order],
            "shipped": [state.allocate_order, state.ship_order],
            "paid": [state.allocate_order, state.ship_order, state.mark_paid],
            "cancelled": [state.allocate_order, state.cancel_order],
        }
        steps = plans[final]
        for step in steps:
            step(flourish_id)
            history.add(f"order:{flourish_id}", order_body(state, flourish_id))
            if step is not state.mark_paid:  # allocating, shipping, cancelling move stock
                history.add(f"inventory:{item_id}", inventory_body(state, item_id))
    while len(history.versions) < distinct:
        item_id = rng.choice(item_ids)
        state.set_inventory(item_id, FACILITY_B, rng.randint(0, 500))
        history.add(f"inventory:{item_id}", inventory_body(state, item_id))
    return history, orders


# ---------------------------------------------------------------------------------------------
# What the outcome must be
# ---------------------------------------------------------------------------------------------


def expected_ordo_status(terms: str, record: dict[str, Any]) -> str:
    """design.md §1.3, written out again from the table rather than taken from the code."""
    status = record["order_status"]
    if status == "Cancelled":
        return OrderStatus.CANCELLED
    shipped = status in ("Shipped", "Completed")
    if shipped and (terms == PaymentTerms.CASH_ON_DELIVERY or record["payment_status"] == "Paid"):
        return OrderStatus.PAID
    if shipped:
        return OrderStatus.DELIVERED
    return OrderStatus.AWAITING_DELIVERY


def unprocessed(integration: FlourishIntegration) -> int:
    return (
        WebhookEvent.objects.filter(integration=integration, verdict=Verdict.ACCEPTED)
        .exclude(state__in=[ProcessingState.DONE, ProcessingState.SKIPPED_STALE])
        .count()
    )


def processing_states(integration: FlourishIntegration) -> Counter[tuple[str, str]]:
    return Counter(
        WebhookEvent.objects.filter(integration=integration).values_list("verdict", "state")
    )


def wait_until_processed(integration: FlourishIntegration, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while unprocessed(integration):
        if time.monotonic() > deadline:
            pytest.fail(
                f"timed out after {timeout}s waiting for {what}: "
                f"(verdict, state) counts {dict(processing_states(integration))}"
            )
        time.sleep(0.5)


def stock_differences(state: SandboxState, wired: Wired) -> list[str]:
    """Items whose Ordo stock at the license differs from the sandbox's summary row."""
    differences = []
    stored = {
        stock.item.flourish_item_id: stock
        for stock in Stock.objects.filter(license=wired.license).select_related("item")
    }
    for item_id in wired.items:
        row = state.inventory_row(item_id, FACILITY_B)
        stock = stored.get(item_id)
        wanted = tuple(Decimal(str(row[name])) for name in ("sellable_qty", "qty", "available_qty"))
        got = None if stock is None else (stock.sellable_qty, stock.qty, stock.available_qty)
        if got != wanted:
            differences.append(f"item {item_id}: Ordo {got}, Flourish {wanted}")
    return differences


def applied_version_differences(integration: FlourishIntegration) -> list[str]:
    """Resources whose AppliedVersion is not the newest timestamp accepted for them."""
    from django.db.models import Max

    from sync.models import AppliedVersion

    newest = {
        (row["resource_type"], row["resource_id"]): row["newest"]
        for row in WebhookEvent.objects.filter(integration=integration, verdict=Verdict.ACCEPTED)
        .values("resource_type", "resource_id")
        .annotate(newest=Max("resource_last_updated"))
    }
    applied: dict[tuple[str, str], dt.datetime] = {
        (v.resource_type, v.resource_id): v.last_updated
        for v in AppliedVersion.objects.filter(integration=integration)
    }
    return [
        f"{key}: applied {applied.get(key)}, newest accepted {value}"
        for key, value in newest.items()
        if applied.get(key) != value
    ]


# ---------------------------------------------------------------------------------------------
# Workers that redeliver quickly (and push with a short backoff)
# ---------------------------------------------------------------------------------------------

VISIBILITY_TIMEOUT_SECONDS = 3


def quick_worker(name: str, **extra_env: str) -> WorkerProcess:
    """A worker whose broker hands an unacknowledged message out again after 3 s and whose
    order pushes back off from 0.5 s (tests/reliability/worker_settings.py)."""
    return WorkerProcess(
        name,
        extra_env={
            "CELERY_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_TIMEOUT_SECONDS),
            "DJANGO_SETTINGS_MODULE": "tests.reliability.worker_settings",
            **extra_env,
        },
    )


@pytest.fixture
def restartable_worker(
    transactional_db: None, request: pytest.FixtureRequest
) -> Iterator[WorkerProcess]:
    from ordo_integration.celery import app

    app.control.purge()
    worker = quick_worker(f"worker-{request.node.name[:40]}")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def post_in_process(
    integration: FlourishIntegration, bodies: Iterable[bytes], raise_errors: bool = True
) -> list[int]:
    """Deliver through the real receiver inside the test process (Django's test client);
    with ``raise_errors=False`` a server error is answered 500 instead of raised."""
    from django.test import Client

    client = Client(raise_request_exception=raise_errors)
    return [signed_post(client, integration, body).status_code for body in bodies]
