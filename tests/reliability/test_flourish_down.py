"""Flourish down for a while (sandbox server stopped, its state kept) during order pushes and an
inventory sync (design.md §7): orders confirmed meanwhile are pushed, once each, when it returns;
the sync run reports the failure and the next one converges on Flourish's quantities."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from flourish_sandbox.scenarios import FACILITY_B
from ordo_integration.orders import services
from ordo_integration.orders.models import Order, OrderStatus
from sync import inventory
from sync.models import OrderPush, SyncState
from tests.factories import OrderFactory, OrderLineFactory
from tests.live import wait_for

from .conftest import stock_differences

pytestmark = [pytest.mark.integration]

ORDERS = 3
DOWN_SECONDS = 4


def confirmed_order(wired, agent, item) -> Order:
    order: Any = OrderFactory(
        organization=wired.integration.organization,
        customer=wired.customer,
        license=wired.license,
        sales_agent=agent.user,
    )
    OrderLineFactory(order=order, item=item, quantity=Decimal(2), unit_price=Decimal(25))
    assert services.confirm(order, agent.user).confirmed
    return order


def sandbox_orders_for(state, number: str) -> list[str]:
    with state.lock:
        return [o["id"] for o in state.orders.values() if o["original_order_id"] == number]


def test_it_pushes_orders_and_syncs_again_once_flourish_is_back(
    restartable_worker, flourish, wired, agent
):
    organization = wired.integration.organization
    flourish.go_down()
    items = list(wired.items.values())
    orders = [confirmed_order(wired, agent, items[n]) for n in range(ORDERS)]
    failed_run = inventory.start_sync(organization, enqueue=False)
    inventory.run_sync(failed_run.pk)
    # Pushes are being retried meanwhile (short backoff in tests/reliability/worker_settings.py).
    wait_for(
        lambda: all(OrderPush.objects.get(order=o).attempt_log.count() >= 2 for o in orders),
        timeout=20,
        what="each push tried at least twice while Flourish is down",
    )
    time.sleep(DOWN_SECONDS)

    failed_run.refresh_from_db()
    assert failed_run.state == SyncState.FAILED
    assert failed_run.error
    assert all(Order.objects.get(pk=o.pk).status == OrderStatus.PENDING for o in orders)

    flourish.state.set_inventory(items[0].flourish_item_id, FACILITY_B, 77)
    flourish.come_back()

    for order in orders:
        wait_for(
            lambda order=order: (
                Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_DELIVERY
            ),
            timeout=60,
            what=f"{order.number} pushed after Flourish returned",
        )
        order.refresh_from_db()
        assert sandbox_orders_for(flourish.state, order.number) == [order.flourish_order_id]
    next_run = inventory.start_sync(organization, enqueue=False)
    inventory.run_sync(next_run.pk)
    next_run.refresh_from_db()
    assert next_run.state == SyncState.SUCCEEDED
    assert stock_differences(flourish.state, wired) == []
