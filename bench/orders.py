"""Confirm → Awaiting Delivery latency (design.md §6: median ≤ 0.5 s), worker and sandbox running.

``run()`` returns rows ``orders.confirm_to_awaiting_p50_s`` and ``orders.confirm_to_awaiting_p95_s``
over ``count`` orders confirmed one after another, each timed from the Confirm call until the
order reads Awaiting Delivery in the database. It builds a throwaway organization wired to a fresh
sandbox, starts one real Celery worker on its own queue, and removes everything afterwards.

Run alone: ``python -m bench.orders [count]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from decimal import Decimal
from typing import Any

ORDER_COUNT = 200
POLL_INTERVAL_SECONDS = 0.005
ORDER_TIMEOUT_SECONDS = 30.0
P50_TARGET_SECONDS = 0.5  # design.md §6


def _setup_django() -> None:
    # A queue of our own, so that the bench worker takes only the bench's pushes.
    os.environ.setdefault("CELERY_QUEUE", f"bench-{uuid.uuid4().hex[:12]}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordo_integration.settings")
    import django

    django.setup()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def run(count: int = ORDER_COUNT) -> list[dict[str, Any]]:
    _setup_django()
    from django.contrib.auth import get_user_model

    from flourish_sandbox.scenarios import FACILITY_B
    from flourish_sandbox.testing import running_sandbox
    from ordo_integration.catalog.models import Item
    from ordo_integration.orders import services
    from ordo_integration.orders.models import Customer, Order, OrderLine, OrderStatus
    from ordo_integration.organizations.models import Brand, License, Organization
    from sync.models import FacilityLink, FlourishIntegration
    from tests.live import WorkerProcess

    tag = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    with running_sandbox(api_key="bench-key", seed="demo") as sandbox:
        organization = Organization.objects.create(name=f"Bench {tag}", slug=f"bench-{tag}")
        user = get_user_model().objects.create(username=f"bench-{tag}")
        worker = WorkerProcess(f"bench-orders-{tag}")
        try:
            FlourishIntegration.objects.create(
                organization=organization, base_url=sandbox.url, api_key=sandbox.api_key
            )
            license = License.objects.create(
                organization=organization,
                license_number="C11-0000456-LIC",
                license_type="Distributor",
                legal_name="Bench LLC",
                address_line_1="1 Warehouse Way",
                city="Oakland",
                state="CA",
                zip_code="94607",
            )
            FacilityLink.objects.create(license=license, facility_id=FACILITY_B)
            customer = Customer.objects.create(
                organization=organization,
                name="Green Door Dispensary",
                license_number="C10-0000201-LIC",
                address_line_1="12 Main St",
                city="Oakland",
                state="CA",
                zip_code="94607",
            )
            record = sandbox.state.item("101")
            brand = Brand.objects.create(organization=organization, name="Green Ridge")
            item = Item.objects.create(
                organization=organization,
                brand=brand,
                flourish_item_id="101",
                sku=record["sku"],
                name=record["item_name"],
                price=Decimal("25"),
            )
            worker.start()
            for _ in range(count):
                order = Order.objects.create(
                    organization=organization, customer=customer, license=license
                )
                OrderLine.objects.create(
                    order=order, item=item, quantity=Decimal(1), unit_price=Decimal(25)
                )
                started = time.perf_counter()
                result = services.confirm(order, user)
                if not result.confirmed:
                    raise RuntimeError(f"bench order refused: {result.errors}")
                deadline = started + ORDER_TIMEOUT_SECONDS
                while (
                    Order.objects.filter(pk=order.pk).values_list("status", flat=True).get()
                    != OrderStatus.AWAITING_DELIVERY
                ):
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"order {order.number} never reached Awaiting Delivery")
                    time.sleep(POLL_INTERVAL_SECONDS)
                latencies.append(time.perf_counter() - started)
        finally:
            worker.stop()
            Order.objects.filter(organization=organization).delete()
            Item.objects.filter(organization=organization).delete()
            organization.delete()
            user.delete()
    return [
        {
            "name": "orders.confirm_to_awaiting_p50_s",
            "value": round(statistics.median(latencies), 4),
            "unit": "s",
            "target": f"≤ {P50_TARGET_SECONDS}",
            "met": statistics.median(latencies) <= P50_TARGET_SECONDS,
            "n": len(latencies),
        },
        {
            "name": "orders.confirm_to_awaiting_p95_s",
            "value": round(_percentile(latencies, 0.95), 4),
            "unit": "s",
            "n": len(latencies),
        },
    ]


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else ORDER_COUNT):
        print(f"{row['name']}\t{row['value']}\t{row['unit']}\t(n={row['n']})")
