"""The push service against the sandbox over real HTTP: one Flourish order per Ordo order,
whatever fails on the way (design.md §4 Order push)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ordo_integration.orders import services
from ordo_integration.orders.models import EventSource, OrderStatus
from sync import orders as order_sync
from sync.models import OrderPush, PushState
from sync.orders import Outcome, PushResult

from .conftest import sandbox_orders_for

pytestmark = pytest.mark.django_db


def confirmed_push(order, user):
    result = services.confirm(order, user)
    assert result.confirmed, result.errors
    return OrderPush.objects.get(order=order)


def test_it_creates_the_outbound_order_and_moves_the_order_to_awaiting_delivery(
    make_order, agent, sandbox
):
    order = make_order(notes="Deliver before noon")
    push = confirmed_push(order, agent.user)

    report = order_sync.push_order(push.pk)

    assert report.result == PushResult.SUCCEEDED
    order.refresh_from_db()
    (created,) = sandbox_orders_for(sandbox, order.number)
    assert order.status == OrderStatus.AWAITING_DELIVERY
    assert order.flourish_order_id == created["id"]
    assert order.flourish_order_status == "Created"
    push.refresh_from_db()
    assert (push.state, push.flourish_order_id, push.attempts) == (
        PushState.SUCCEEDED,
        created["id"],
        1,
    )
    # Destination by id (its license number is known to Flourish), lines by SKU, our notes.
    destination = sandbox.state.destinations[created["destination_id"]]
    assert destination["license_number"] == order.customer.license_number
    line = created["order_lines"][0]
    assert (line["sku"], line["order_qty"], line["unit_price"], line["discount_price"]) == (
        order.lines.get().item.sku,
        3,
        25,
        5,
    )
    assert created["notes"][0]["subject"] == "From Ordo"
    assert "Deliver before noon" in created["notes"][0]["note"]
    attempt = push.attempt_log.get()
    assert (attempt.outcome, attempt.response_code) == (Outcome.CREATED, 200)
    assert "test-key" not in attempt.request_summary
    assert order.number in attempt.request_summary
    assert order.events.filter(
        source=EventSource.PUSH, to_status=OrderStatus.AWAITING_DELIVERY
    ).exists()


def test_it_creates_the_destination_from_the_customer_when_flourish_has_none(
    make_order, agent, organization, sandbox
):
    from tests.factories import CustomerFactory

    newcomer = CustomerFactory(
        organization=organization,
        name="Brand New Buds",
        license_number="C10-0009999-LIC",
        license_type="Retailer",
    )
    order = make_order(customer=newcomer)
    push = confirmed_push(order, agent.user)

    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED

    (created,) = sandbox_orders_for(sandbox, order.number)
    destination = sandbox.state.destinations[created["destination_id"]]
    assert (
        destination["name"],
        destination["license_number"],
        destination["license_type"],
    ) == ("Brand New Buds", "C10-0009999-LIC", "Retailer")


def test_it_sends_the_agents_sales_rep_when_the_facility_requires_one(
    make_order, agent, license_a, sandbox
):
    agent.user.email = "ana.ruiz@example.com"
    agent.user.save()
    order = make_order(license=license_a)
    push = confirmed_push(order, agent.user)

    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED

    (created,) = sandbox_orders_for(sandbox, order.number)
    assert created["sales_rep_id"] == 1  # Ana Ruiz, matched by email


def test_it_sends_an_agent_flourish_does_not_know_as_a_new_sales_rep_by_email(
    make_order, agent, license_a, sandbox
):
    agent.user.email = "sam.new@example.com"
    agent.user.first_name, agent.user.last_name = "Sam", "New"
    agent.user.save()
    order = make_order(license=license_a)
    push = confirmed_push(order, agent.user)

    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED

    (created,) = sandbox_orders_for(sandbox, order.number)
    rep = sandbox.state.sales_rep(created["sales_rep_id"])
    assert (rep["email"], rep["first_name"], rep["last_name"]) == (
        "sam.new@example.com",
        "Sam",
        "New",
    )


def test_it_retries_server_errors_and_still_creates_one_order(make_order, agent, sandbox):
    order = make_order()
    push = confirmed_push(order, agent.user)
    sandbox.state.add_fault(
        kind="status", status=500, count=2, method="POST", path_prefix="/outbound-orders"
    )

    first = order_sync.push_order(push.pk)
    second = order_sync.push_order(push.pk)
    third = order_sync.push_order(push.pk)

    assert [first.result, second.result, third.result] == [
        PushResult.RETRY,
        PushResult.RETRY,
        PushResult.SUCCEEDED,
    ]
    assert first.retry_in_seconds > 0
    assert len(sandbox_orders_for(sandbox, order.number)) == 1
    outcomes = list(push.attempt_log.values_list("outcome", "response_code"))
    assert outcomes == [
        (Outcome.AMBIGUOUS, 500),
        (Outcome.AMBIGUOUS, 500),
        (Outcome.CREATED, 200),
    ]


def test_it_adopts_the_order_flourish_created_before_the_answer_timed_out(
    make_order, agent, sandbox, settings
):
    settings.ORDER_PUSH_READ_TIMEOUT_SECONDS = 0.5
    order = make_order()
    push = confirmed_push(order, agent.user)
    sandbox.state.add_fault(
        kind="timeout", seconds=2, after_action=True, method="POST", path_prefix="/outbound-orders"
    )

    assert order_sync.push_order(push.pk).result == PushResult.RETRY
    assert len(sandbox_orders_for(sandbox, order.number)) == 1  # created, answer lost

    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED

    (created,) = sandbox_orders_for(sandbox, order.number)
    order.refresh_from_db()
    assert order.flourish_order_id == created["id"]
    assert order.status == OrderStatus.AWAITING_DELIVERY
    assert push.attempt_log.last().outcome == Outcome.ADOPTED


def test_it_treats_a_run_that_died_mid_request_as_ambiguous(make_order, agent, sandbox):
    order = make_order()
    push = confirmed_push(order, agent.user)
    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED
    # As if a worker died after sending: the push is queued again with an "in flight" trace.
    OrderPush.objects.filter(pk=push.pk).update(state=PushState.QUEUED)
    push.attempt_log.create(outcome=Outcome.IN_FLIGHT)

    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED

    assert len(sandbox_orders_for(sandbox, order.number)) == 1


def test_it_leaves_a_refused_order_pending_with_flourishs_message(
    make_order, agent, license_a, sandbox
):
    # Facility A requires a sales rep; an agent without one in Flourish and no email to create
    # one from is refused by Flourish itself (validation checks email, so remove it afterwards).
    agent.user.email = "sam@example.com"
    agent.user.save()
    order = make_order(license=license_a)
    push = confirmed_push(order, agent.user)
    sandbox.state.add_fault(
        kind="status", status=400, method="POST", path_prefix="/outbound-orders"
    )

    report = order_sync.push_order(push.pk)

    assert report.result == PushResult.REJECTED
    order.refresh_from_db()
    push.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.confirmed_at is None  # the agent may fix it and confirm again
    assert services.is_editable(order)
    assert push.state == PushState.REJECTED
    assert "Flourish refused the order" in push.last_error
    assert order.events.filter(message__startswith="Flourish refused the order").exists()
    assert sandbox_orders_for(sandbox, order.number) == []
    # No retry: running the task again does nothing.
    assert order_sync.push_order(push.pk).result == PushResult.NOTHING_TO_DO


def test_it_keeps_retrying_for_the_give_up_horizon_then_an_admin_can_retry(
    make_order, agent, sandbox, settings
):
    # design.md §7: Flourish down for minutes, the push resumes by itself; not after 8 tries.
    settings.ORDER_PUSH_GIVE_UP_AFTER_SECONDS = 3600
    order = make_order()
    push = confirmed_push(order, agent.user)
    sandbox.state.add_fault(
        kind="status", status=503, count=11, method="POST", path_prefix="/outbound-orders"
    )

    results = [order_sync.push_order(push.pk).result for _ in range(10)]

    assert results == [PushResult.RETRY] * 10
    # An hour after the push was queued, the next failure gives up.
    OrderPush.objects.filter(pk=push.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=3601)
    )
    assert order_sync.push_order(push.pk).result == PushResult.FAILED
    push.refresh_from_db()
    assert push.state == PushState.FAILED
    assert push.last_error.startswith("Gave up after 60 min of retries")
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING

    assert order_sync.retry_push(push)
    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED
    assert len(sandbox_orders_for(sandbox, order.number)) == 1


def test_it_returns_quietly_when_the_push_no_longer_exists(db):
    assert order_sync.push_order(987654).result == PushResult.MISSING


def test_backoff_is_capped_and_honours_retry_after(settings):
    settings.ORDER_PUSH_BACKOFF_BASE_SECONDS = 2
    assert 1 <= order_sync.backoff_seconds(1) <= 2
    assert 150 <= order_sync.backoff_seconds(30) <= 300
    assert 150 <= order_sync.backoff_seconds(10_000) <= 300
    assert order_sync.backoff_seconds(1, retry_after_seconds=42) == 42
    assert order_sync.backoff_seconds(1, retry_after_seconds=86_400) == 300
