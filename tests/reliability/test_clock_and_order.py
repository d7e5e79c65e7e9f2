"""Clock and order: an event older than what was applied for its resource is recorded and
skipped, never applied (design.md §4 "Webhook receive", §7; flourish-api.md §5.4: no ordering
guarantee). Delivered through the real receiver, processed by the service the task calls."""

from __future__ import annotations

import pytest

from flourish_sandbox.scenarios import FACILITY_B
from ordo_integration.catalog.models import Stock
from ordo_integration.orders.models import OrderEvent, OrderStatus, PaymentTerms
from sync.models import AppliedVersion, ProcessingState, Verdict, WebhookEvent
from sync.webhooks import process_event

from .conftest import inventory_body, mirrored_order, order_body, post_in_process, sandbox_order

pytestmark = [pytest.mark.integration]


def deliver_and_process(integration, body: bytes) -> WebhookEvent:
    (status,) = post_in_process(integration, [body])
    assert status == 200
    event = WebhookEvent.objects.filter(integration=integration).latest("pk")
    process_event(event.pk)
    event.refresh_from_db()
    return event


def test_it_skips_and_records_order_events_older_than_the_applied_one(
    transactional_db, flourish, wired
):
    state = flourish.state
    flourish_id = sandbox_order(state, "REL-CLOCK-1", next(iter(wired.items)))
    order = mirrored_order(wired, "REL-CLOCK-1", flourish_id, PaymentTerms.NET)
    created = order_body(state, flourish_id, "create")
    state.ship_order(flourish_id)
    shipped = order_body(state, flourish_id)
    state.mark_paid(flourish_id)
    paid = order_body(state, flourish_id)

    newest = deliver_and_process(wired.integration, paid)
    late = [deliver_and_process(wired.integration, body) for body in (shipped, created)]

    assert newest.state == ProcessingState.DONE
    assert [(e.verdict, e.state, e.attempts) for e in late] == [
        (Verdict.ACCEPTED, ProcessingState.SKIPPED_STALE, 1),
        (Verdict.ACCEPTED, ProcessingState.SKIPPED_STALE, 1),
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.flourish_order_status == "Shipped"
    assert list(OrderEvent.objects.filter(order=order).values_list("to_status", flat=True)) == [
        OrderStatus.DELIVERED,
        OrderStatus.PAID,
    ]
    applied = AppliedVersion.objects.get(integration=wired.integration, resource_id=flourish_id)
    assert applied.last_updated == newest.resource_last_updated


def test_it_skips_an_older_inventory_row_but_applies_a_newer_one(transactional_db, flourish, wired):
    state = flourish.state
    item_id = next(iter(wired.items))
    state.set_inventory(item_id, FACILITY_B, 10)
    older = inventory_body(state, item_id)
    state.set_inventory(item_id, FACILITY_B, 20)
    newer = inventory_body(state, item_id)

    first = deliver_and_process(wired.integration, newer)
    stale = deliver_and_process(wired.integration, older)
    state.set_inventory(item_id, FACILITY_B, 30)
    newest = deliver_and_process(wired.integration, inventory_body(state, item_id))

    assert [first.state, stale.state, newest.state] == [
        ProcessingState.DONE,
        ProcessingState.SKIPPED_STALE,
        ProcessingState.DONE,
    ]
    stock = Stock.objects.get(item=wired.items[item_id], license=wired.license)
    assert stock.qty == 30
