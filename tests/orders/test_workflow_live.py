"""End to end with real moving parts: the sandbox over HTTP and a real Celery worker.

The webhook endpoint is being built in parallel (sync/urls.py); until it lands, Flourish's
changes reach Ordo through the reconciliation (the path that also catches dropped webhooks).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from ordo_integration.orders import services
from ordo_integration.orders.models import Order, OrderStatus, PaymentTerms
from sync import orders as order_sync
from sync.models import OrderPush, PushState
from sync.tasks.orders import reconcile_orders as reconcile_task
from tests.live import WorkerProcess, wait_for

from .conftest import WORKER_ENV, sandbox_orders_for

pytestmark = [pytest.mark.integration]

VISIBILITY_TIMEOUT_SECONDS = 3


def awaiting_delivery(order: Order) -> Order | None:
    order.refresh_from_db()
    return order if order.status == OrderStatus.AWAITING_DELIVERY else None


def confirm_and_wait(order: Order, user) -> Order:
    assert services.confirm(order, user).confirmed
    wait_for(lambda: awaiting_delivery(order), timeout=30, what="Awaiting Delivery")
    return order


@pytest.mark.parametrize("terms", [PaymentTerms.CASH_ON_DELIVERY, PaymentTerms.NET])
def test_an_order_goes_from_confirm_to_paid(live_worker, make_order, agent, sandbox, terms):
    order = confirm_and_wait(make_order(terms=terms), agent.user)
    (created,) = sandbox_orders_for(sandbox, order.number)
    assert order.flourish_order_id == created["id"]

    sandbox.state.allocate_order(created["id"])
    sandbox.state.ship_order(created["id"])
    order_sync.reconcile_orders()
    order.refresh_from_db()
    expected = OrderStatus.PAID if terms == PaymentTerms.CASH_ON_DELIVERY else OrderStatus.DELIVERED
    assert order.status == expected

    sandbox.state.mark_paid(created["id"])
    reconcile_task.delay()  # the beat's task, run by the worker
    wait_for(
        lambda: Order.objects.get(pk=order.pk).status == OrderStatus.PAID,
        timeout=20,
        what="Paid",
    )


def test_an_order_cancelled_in_flourish_is_cancelled(live_worker, make_order, agent, sandbox):
    order = confirm_and_wait(make_order(), agent.user)

    sandbox.state.cancel_order(order.flourish_order_id)
    order_sync.reconcile_orders()

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_server_errors_are_retried_into_one_outbound_order(live_worker, make_order, agent, sandbox):
    sandbox.state.add_fault(
        kind="status", status=500, count=2, method="POST", path_prefix="/outbound-orders"
    )

    order = confirm_and_wait(make_order(), agent.user)

    assert len(sandbox_orders_for(sandbox, order.number)) == 1
    push = OrderPush.objects.get(order=order)
    assert push.attempts == 3


def test_a_flourish_refusal_leaves_the_order_pending_with_the_message(
    live_worker, make_order, agent, sandbox
):
    sandbox.state.add_fault(
        kind="status", status=400, method="POST", path_prefix="/outbound-orders"
    )
    order = make_order()
    assert services.confirm(order, agent.user).confirmed

    push = wait_for(
        lambda: OrderPush.objects.filter(order=order, state=PushState.REJECTED).first(),
        timeout=20,
        what="rejected push",
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert "Flourish refused the order" in push.last_error
    assert sandbox_orders_for(sandbox, order.number) == []


def test_concurrent_confirms_make_one_outbound_order(transactional_db, make_order, agent, sandbox):
    order = make_order()
    barrier = threading.Barrier(4)
    results = []

    def click() -> None:
        try:
            barrier.wait()
            results.append(services.confirm(Order.objects.get(pk=order.pk), agent.user))
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.confirmed for r in results) == 1
    push = OrderPush.objects.get(order=order)
    # Two runs of the task at once (a redelivery racing the original): one sends, one stands by.
    reports = []

    def run() -> None:
        try:
            reports.append(order_sync.push_order(push.pk))
        finally:
            connection.close()

    runners = [threading.Thread(target=run) for _ in range(3)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert len(sandbox_orders_for(sandbox, order.number)) == 1


@pytest.fixture
def quick_redelivery_worker(transactional_db: None) -> Iterator[WorkerProcess]:
    """A worker whose broker hands an unacknowledged message out again after 3 s."""
    from ordo_integration.celery import app

    app.control.purge()
    worker = WorkerProcess(
        "worker-orders-kill",
        extra_env={
            **WORKER_ENV,
            "CELERY_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_TIMEOUT_SECONDS),
        },
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def test_a_worker_killed_during_the_push_pushes_once_when_back(
    quick_redelivery_worker, make_order, agent, sandbox
):
    # Flourish creates the order at once but holds the answer: the worker dies waiting for it.
    sandbox.state.add_fault(
        kind="timeout", seconds=8, after_action=True, method="POST", path_prefix="/outbound-orders"
    )
    order = make_order()
    assert services.confirm(order, agent.user).confirmed
    wait_for(lambda: sandbox_orders_for(sandbox, order.number), timeout=20, what="order created")

    quick_redelivery_worker.kill()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    # Redis hands an unacknowledged message out again once it is older than the visibility
    # timeout, checked when a worker starts polling (then only every ~100 s): come back after it.
    time.sleep(VISIBILITY_TIMEOUT_SECONDS + 1)
    quick_redelivery_worker.start()
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        # The embedded filesystem broker has no redelivery: a message taken by a killed worker
        # is gone. The beat's safety net queues the stalled push again, as it would later.
        later = timezone.now() + dt.timedelta(seconds=order_sync.stall_seconds() + 1)
        assert order_sync.requeue_stalled_pushes(now=later) == 1

    deadline = time.monotonic() + 45
    while not awaiting_delivery(order) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not awaiting_delivery(order):
        # Redelivery did not bring the task back (kombu's Redis transport can lose a message
        # popped at the instant of the kill): the beat's requeue of stalled pushes does.
        later = timezone.now() + dt.timedelta(seconds=order_sync.stall_seconds() + 1)
        order_sync.requeue_stalled_pushes(now=later)
    wait_for(lambda: awaiting_delivery(order), timeout=60, what="Awaiting Delivery after restart")
    (created,) = sandbox_orders_for(sandbox, order.number)
    assert order.flourish_order_id == created["id"]
    outcomes = list(
        OrderPush.objects.get(order=order).attempt_log.values_list("outcome", flat=True)
    )
    assert outcomes[-1] == "adopted"


# -- driven by Flourish's webhooks (sync/urls.py endpoint served by live_server) ---------------


@pytest.fixture
def webhooks_to_portal(live_server, integration, sandbox):
    """Paste the portal's generated values into the sandbox's Webhook Endpoint screen (§5.1)."""
    from sync.setup import ensure_webhook_secrets, webhook_headers, webhook_path

    ensure_webhook_secrets(integration)
    integration.save()
    sandbox.state.add_webhook_endpoint(
        live_server.url + webhook_path(integration),
        signing_key=integration.webhook_signing_key,
        headers=webhook_headers(integration),
        events=["Outbound Order"],
    )
    return sandbox


def status_becomes(order: Order, status: str, timeout: float = 30) -> None:
    wait_for(lambda: Order.objects.get(pk=order.pk).status == status, timeout=timeout, what=status)


@pytest.mark.parametrize("terms", [PaymentTerms.CASH_ON_DELIVERY, PaymentTerms.NET])
def test_webhooks_move_the_order_to_delivered_and_paid(
    live_worker, webhooks_to_portal, make_order, agent, terms
):
    sandbox = webhooks_to_portal
    order = confirm_and_wait(make_order(terms=terms), agent.user)

    sandbox.state.allocate_order(order.flourish_order_id)
    sandbox.state.ship_order(order.flourish_order_id)
    if terms == PaymentTerms.CASH_ON_DELIVERY:
        status_becomes(order, OrderStatus.PAID)
        return
    status_becomes(order, OrderStatus.DELIVERED)
    sandbox.state.mark_paid(order.flourish_order_id)
    status_becomes(order, OrderStatus.PAID)
    assert order.events.filter(source="webhook", to_status=OrderStatus.PAID).exists()


def test_a_webhook_cancels_the_order(live_worker, webhooks_to_portal, make_order, agent):
    order = confirm_and_wait(make_order(), agent.user)

    webhooks_to_portal.state.cancel_order(order.flourish_order_id)

    status_becomes(order, OrderStatus.CANCELLED)


def test_reconciliation_catches_up_on_dropped_webhooks(
    live_worker, webhooks_to_portal, make_order, agent
):
    sandbox = webhooks_to_portal
    order = confirm_and_wait(make_order(terms=PaymentTerms.NET), agent.user)
    assert sandbox.state.wait_for_deliveries(timeout=10)
    sandbox.state.set_webhook_fault("drop", count=10)

    sandbox.state.ship_order(order.flourish_order_id)
    sandbox.state.mark_paid(order.flourish_order_id)
    assert sandbox.state.wait_for_deliveries(timeout=10)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DELIVERY  # nothing arrived

    reconcile_task.delay()

    status_becomes(order, OrderStatus.PAID)
    assert order.events.filter(source="reconciliation", to_status=OrderStatus.PAID).exists()
