"""An organization wired to a running Flourish sandbox, with what an agent needs to take an order.

The demo scenario (flourish_sandbox/scenarios.py) gives facility A (license C11-0000123-LIC,
sales rep required; rep Ana Ruiz ana.ruiz@example.com), facility B (C11-0000456-LIC, no rep
required), destination Green Door Dispensary (C10-0000201-LIC), and items "101".. "150".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from flourish_sandbox.scenarios import FACILITY_A, FACILITY_B
from flourish_sandbox.testing import RunningSandbox, running_sandbox
from ordo_integration.catalog.models import Item
from ordo_integration.orders.models import Order, PaymentTerms
from sync.models import FacilityLink, FlourishIntegration
from tests.factories import (
    CustomerFactory,
    ItemFactory,
    LicenseFactory,
    OrderFactory,
    OrderLineFactory,
    StockFactory,
)
from tests.live import WorkerProcess

FACILITY_A_LICENSE = "C11-0000123-LIC"
FACILITY_B_LICENSE = "C11-0000456-LIC"
KNOWN_DESTINATION_LICENSE = "C10-0000201-LIC"
# The order tests' workers run with tests/orders/worker_settings.py (a shorter settle wait).
WORKER_ENV = {"DJANGO_SETTINGS_MODULE": "tests.orders.worker_settings"}


@pytest.fixture(autouse=True)
def settled_at_once(settings: Any) -> None:
    """In-process pushes may look up an ambiguous attempt at once (production waits about a
    minute, sync.orders.AMBIGUOUS_SETTLE_SECONDS); the tests about that wait set it back."""
    settings.ORDER_PUSH_AMBIGUOUS_SETTLE_SECONDS = 0


@pytest.fixture
def live_worker(transactional_db: None, request: pytest.FixtureRequest) -> Iterator[WorkerProcess]:
    """tests/live.py's worker, started with the order tests' settings."""
    from ordo_integration.celery import app

    app.control.purge()
    worker = WorkerProcess(f"worker-{request.node.name[:40]}", extra_env=WORKER_ENV)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(api_key="test-key", seed="demo") as sb:
        yield sb


@pytest.fixture
def integration(organization: Any, sandbox: RunningSandbox) -> FlourishIntegration:
    return FlourishIntegration.objects.create(
        organization=organization, base_url=sandbox.url, api_key=sandbox.api_key
    )


@pytest.fixture
def license_a(organization: Any) -> Any:
    license: Any = LicenseFactory(organization=organization, license_number=FACILITY_A_LICENSE)
    FacilityLink.objects.create(
        license=license,
        facility_id=FACILITY_A,
        facility_name="Green Ridge Distribution",
        sales_rep_required=True,
    )
    return license


@pytest.fixture
def license_b(organization: Any) -> Any:
    license: Any = LicenseFactory(organization=organization, license_number=FACILITY_B_LICENSE)
    FacilityLink.objects.create(
        license=license, facility_id=FACILITY_B, facility_name="Sunset Valley Manufacturing"
    )
    return license


@pytest.fixture
def sandbox_item(organization: Any, sandbox: RunningSandbox) -> Callable[[str], Any]:
    """An Ordo item mirroring sandbox item ``item_id`` (as the inventory sync would make it)."""

    def make(item_id: str = "101") -> Any:
        existing = Item.objects.filter(organization=organization, flourish_item_id=item_id)
        if existing.exists():
            return existing.get()
        record = sandbox.state.item(item_id)
        return ItemFactory(
            organization=organization,
            flourish_item_id=item_id,
            sku=record["sku"],
            name=record["item_name"],
            price=Decimal(str(record["price"])),
        )

    return make


@pytest.fixture
def known_customer(organization: Any) -> Any:
    return CustomerFactory(
        organization=organization,
        name="Green Door Dispensary",
        license_number=KNOWN_DESTINATION_LICENSE,
    )


@pytest.fixture
def make_order(
    organization: Any,
    agent: Any,
    integration: Any,
    license_b: Any,
    known_customer: Any,
    sandbox_item: Callable[[str], Any],
) -> Callable[..., Order]:
    """A Pending order of the agent that Flourish will accept, from facility B by default."""

    def make(
        terms: str = PaymentTerms.CASH_ON_DELIVERY,
        license: Any = None,
        customer: Any = None,
        item_id: str = "101",
        quantity: Decimal = Decimal(3),
        **fields: Any,
    ) -> Order:
        order: Any = OrderFactory(
            organization=organization,
            customer=customer or known_customer,
            license=license or license_b,
            sales_agent=agent.user,
            payment_terms=terms,
            net_days=30 if terms == PaymentTerms.NET else None,
            **fields,
        )
        OrderLineFactory(
            order=order,
            item=sandbox_item(item_id),
            quantity=quantity,
            unit_price=Decimal("25.00"),
            discount=Decimal("5.00"),
        )
        return order

    return make


@pytest.fixture
def stocked(license_b: Any) -> Callable[..., Any]:
    def make(item: Any, sellable: Decimal) -> Any:
        return StockFactory(item=item, license=license_b, sellable_qty=sellable)

    return make


def sandbox_orders_for(sandbox: RunningSandbox, number: str) -> list[dict[str, Any]]:
    """The sandbox's outbound orders carrying our order number as original_order_id."""
    with sandbox.state.lock:
        return [o for o in sandbox.state.orders.values() if o["original_order_id"] == number]
