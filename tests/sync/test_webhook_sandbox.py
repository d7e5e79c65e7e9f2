"""End to end: the sandbox (acting as Flourish) signs and posts real webhooks over HTTP to the
portal's live server; a real Celery worker processes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from flourish_sandbox.testing import running_sandbox
from ordo_integration.orders.models import Order, OrderStatus, PaymentTerms
from sync.models import ProcessingState, Verdict, WebhookEvent
from sync.setup import webhook_headers, webhook_path
from tests.factories import OrderFactory
from tests.live import wait_for

from .conftest import make_integration

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DEMO_ORDER_ID = "00001001"  # the sandbox demo's open order, original_order_id DEMO-1


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with running_sandbox(api_key="test-key", seed="demo", items=0) as sb:
        yield sb


@pytest.fixture
def wired(organization: Any, sandbox: Any, live_server: Any) -> Any:
    """The integration pointed at the sandbox, and the sandbox's webhook endpoint pointed at the
    portal with exactly the values the admin would paste (§5.1)."""
    integration = make_integration(organization, base_url=sandbox.url, api_key=sandbox.api_key)
    sandbox.state.add_webhook_endpoint(
        url=live_server.url + webhook_path(integration),
        signing_key=integration.webhook_signing_key,
        headers=webhook_headers(integration),
        events=["Outbound Order"],
    )
    return integration


@pytest.fixture
def demo_order(organization: Any) -> Order:
    order: Any = OrderFactory(
        organization=organization,
        number="DEMO-1",
        flourish_order_id=DEMO_ORDER_ID,
        payment_terms=PaymentTerms.NET,
        status=OrderStatus.AWAITING_DELIVERY,
        confirmed_at=timezone.now(),
    )
    return order


def all_processed(integration: Any) -> list[WebhookEvent]:
    """The accepted events once none is pending any more (shipping allocates first, so one
    action sends several messages, §5.2)."""
    accepted = list(WebhookEvent.objects.filter(integration=integration, verdict=Verdict.ACCEPTED))
    if not accepted or any(event.state == ProcessingState.PENDING for event in accepted):
        return []
    return accepted


def test_it_accepts_and_processes_a_delivery_from_flourish_once(
    wired: Any, demo_order: Order, sandbox: Any, live_worker: Any
) -> None:
    sandbox.state.ship_order(DEMO_ORDER_ID)
    assert sandbox.state.wait_for_deliveries(timeout=15)

    events = wait_for(lambda: all_processed(wired), what="the order events processed")
    demo_order.refresh_from_db()
    assert {(e.resource_type, e.resource_id) for e in events} == {("order", DEMO_ORDER_ID)}
    assert {(e.state, e.attempts) for e in events} == {(ProcessingState.DONE, 1)}
    assert demo_order.status == OrderStatus.DELIVERED
    assert demo_order.events.filter(to_status=OrderStatus.DELIVERED).count() == 1


def test_it_processes_a_resent_delivery_once(
    wired: Any, demo_order: Order, sandbox: Any, live_worker: Any
) -> None:
    sandbox.state.set_webhook_fault("duplicate")

    sandbox.state.ship_order(DEMO_ORDER_ID)
    assert sandbox.state.wait_for_deliveries(timeout=15)

    wait_for(
        lambda: WebhookEvent.objects.filter(verdict=Verdict.DUPLICATE).exists(),
        what="the resent delivery recorded",
    )
    events = wait_for(lambda: all_processed(wired), what="the order events processed")
    demo_order.refresh_from_db()
    duplicate = WebhookEvent.objects.get(verdict=Verdict.DUPLICATE)
    [original] = [e for e in events if e.body_sha256 == duplicate.body_sha256]
    assert (original.state, original.attempts) == (ProcessingState.DONE, 1)
    assert duplicate.state == ProcessingState.NOT_APPLICABLE
    assert demo_order.events.filter(to_status=OrderStatus.DELIVERED).count() == 1
