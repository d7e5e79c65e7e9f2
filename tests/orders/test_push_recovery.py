"""The push when things go wrong around it: broker down, Flourish down before or after the POST,
an answer that cannot be read, an integration switched off. Whatever happens, the order ends up
in Flourish exactly once, and nothing is left stranded (design.md §4 Order push, §7)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from flourish_client import FlourishClient, OutboundOrder
from flourish_client.errors import ProtocolError
from ordo_integration.orders import services
from ordo_integration.orders.models import OrderStatus
from sync import orders as order_sync
from sync.models import FacilityLink, OrderPush, PushAttempt, PushState
from sync.orders import Outcome, PushResult
from sync.tasks import orders as order_tasks

from .conftest import sandbox_orders_for

pytestmark = pytest.mark.django_db

LONG_AGO = dt.timedelta(hours=1)


def confirmed_push(order, user):
    result = services.confirm(order, user)
    assert result.confirmed, result.errors
    return OrderPush.objects.get(order=order)


def stall(push):
    """As if nothing had touched the push for an hour (its task lost)."""
    OrderPush.objects.filter(pk=push.pk).update(updated_at=timezone.now() - LONG_AGO)


def settled(push):
    """As if the last attempts had been made long enough ago for Flourish to settle."""
    PushAttempt.objects.filter(push=push).update(started_at=timezone.now() - LONG_AGO)


# -- broker down when Confirm enqueues ----------------------------------------------------------


def test_confirm_answers_normally_when_the_broker_is_down(transactional_db, agent, make_order):
    order = make_order()
    down = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with mock.patch.object(order_tasks.push_order, "delay", side_effect=down) as delay:
        response = agent.client.post(
            reverse("admin:orders_order_confirm", args=[order.pk]), follow=True
        )

    assert delay.called  # the enqueue was tried after commit, and failed
    assert response.status_code == 200
    assert f"Order {order.number} confirmed" in response.content.decode()
    push = OrderPush.objects.get(order=order)
    assert push.state == PushState.QUEUED
    order.refresh_from_db()
    assert order.confirmed_at is not None


def test_it_queues_again_a_push_whose_task_was_lost(make_order, agent):
    stranded = confirmed_push(make_order(), agent.user)
    waiting = confirmed_push(make_order(), agent.user)  # touched just now: waits for a countdown
    done = confirmed_push(make_order(), agent.user)
    OrderPush.objects.filter(pk=done.pk).update(state=PushState.SUCCEEDED)
    stall(stranded)
    stall(done)

    with mock.patch.object(order_tasks.push_order, "delay") as delay:
        assert order_sync.requeue_stalled_pushes() == 1
        # Touched when sent, so the next beat tick does not send it a second time.
        assert order_sync.requeue_stalled_pushes() == 0

    delay.assert_called_once_with(stranded.pk)  # not the waiting one, nor the done one
    waiting.refresh_from_db()
    assert waiting.state == PushState.QUEUED


def test_it_tries_again_on_the_next_tick_while_the_broker_is_still_down(make_order, agent):
    push = confirmed_push(make_order(), agent.user)
    stall(push)

    with mock.patch.object(order_tasks.push_order, "delay", side_effect=OperationalError("down")):
        assert order_sync.requeue_stalled_pushes() == 0
    with mock.patch.object(order_tasks.push_order, "delay") as delay:
        assert order_sync.requeue_stalled_pushes() == 1

    delay.assert_called_once_with(push.pk)


def test_the_requeue_task_is_named_for_the_beat_schedule():
    assert order_tasks.requeue_stalled_pushes.name == "sync.tasks.requeue_stalled_pushes"


def test_an_unexpected_error_leaves_the_push_queued_for_the_requeue(make_order, agent, sandbox):
    order = make_order()
    push = confirmed_push(order, agent.user)

    with (
        mock.patch.object(order_sync, "build_payload", side_effect=RuntimeError("our bug")),
        pytest.raises(RuntimeError),
    ):
        order_sync.push_order(push.pk)

    push.refresh_from_db()
    assert push.state == PushState.QUEUED
    stall(push)
    with mock.patch.object(order_tasks.push_order, "delay") as delay:
        assert order_sync.requeue_stalled_pushes() == 1
    delay.assert_called_once_with(push.pk)
    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED
    assert len(sandbox_orders_for(sandbox, order.number)) == 1


# -- after an ambiguous attempt, wait before looking --------------------------------------------


def test_it_waits_for_flourish_to_settle_before_looking_again(make_order, agent, sandbox, settings):
    settings.ORDER_PUSH_AMBIGUOUS_SETTLE_SECONDS = 60
    order = make_order()
    push = confirmed_push(order, agent.user)
    sandbox.state.add_fault(
        kind="status", status=502, method="POST", path_prefix="/outbound-orders"
    )

    first = order_sync.push_order(push.pk)
    too_soon = order_sync.push_order(push.pk)  # a redelivery, the requeue, an admin...

    assert (first.result, too_soon.result) == (PushResult.RETRY, PushResult.RETRY)
    assert first.retry_in_seconds >= 60
    assert 0 < too_soon.retry_in_seconds <= 60
    assert list(push.attempt_log.values_list("outcome", flat=True)) == [Outcome.AMBIGUOUS]
    assert sandbox_orders_for(sandbox, order.number) == []

    settled(push)
    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED
    assert len(sandbox_orders_for(sandbox, order.number)) == 1


# -- a failure after the POST was sent is ambiguous ---------------------------------------------


def created_then(outcome):
    """Flourish creates the order, and then what comes back is ``outcome``."""
    real = FlourishClient.create_outbound_order

    def create(client, payload, facility_id=None):
        created = real(client, payload, facility_id=facility_id)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome(created)

    return mock.patch.object(
        FlourishClient, "create_outbound_order", autospec=True, side_effect=create
    )


@pytest.mark.parametrize(
    "answer",
    [
        ProtocolError("Flourish answered POST /outbound-orders without its envelope", 200),
        lambda created: OutboundOrder.from_wire({"original_order_id": created.original_order_id}),
    ],
    ids=["no envelope", "no id"],
)
def test_an_unreadable_answer_to_the_create_is_ambiguous(make_order, agent, sandbox, answer):
    order = make_order()
    push = confirmed_push(order, agent.user)

    with created_then(answer):
        assert order_sync.push_order(push.pk).result == PushResult.RETRY

    assert push.attempt_log.get().outcome == Outcome.AMBIGUOUS
    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED
    (created,) = sandbox_orders_for(sandbox, order.number)
    order.refresh_from_db()
    assert order.flourish_order_id == created["id"]
    assert push.attempt_log.last().outcome == Outcome.ADOPTED


def test_an_admin_retry_after_an_ambiguous_give_up_looks_before_sending(
    make_order, agent, sandbox, settings
):
    settings.ORDER_PUSH_GIVE_UP_AFTER_SECONDS = 0  # the first failure already gives up
    order = make_order()
    push = confirmed_push(order, agent.user)

    with created_then(ProtocolError("no envelope", 200)):
        assert order_sync.push_order(push.pk).result == PushResult.FAILED

    assert order_sync.retry_push(push)
    settings.ORDER_PUSH_GIVE_UP_AFTER_SECONDS = 3600
    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED
    assert len(sandbox_orders_for(sandbox, order.number)) == 1
    assert push.attempt_log.last().outcome == Outcome.ADOPTED


# -- Flourish down before the POST: retry with a growing backoff, nothing ambiguous -------------


def test_failures_before_the_post_are_retryable_with_a_growing_backoff(
    make_order, agent, sandbox, settings
):
    settings.ORDER_PUSH_BACKOFF_BASE_SECONDS = 2
    order = make_order()
    push = confirmed_push(order, agent.user)
    sandbox.state.add_fault(kind="status", status=503, count=3, path_prefix="/destinations")

    reports = [order_sync.push_order(push.pk) for _ in range(3)]

    assert [r.result for r in reports] == [PushResult.RETRY] * 3
    assert reports[0].retry_in_seconds <= 2 < 4 <= reports[2].retry_in_seconds
    assert list(push.attempt_log.values_list("outcome", flat=True)) == [Outcome.RETRYABLE] * 3
    push.refresh_from_db()
    assert push.attempts == 0  # nothing was sent
    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED
    assert push.attempt_log.last().outcome == Outcome.CREATED  # no lookup was needed


def test_flourish_down_while_matching_the_license_is_retried_not_refused(
    make_order, agent, license_b, sandbox
):
    order = make_order()
    push = confirmed_push(order, agent.user)
    FacilityLink.objects.filter(license=license_b).delete()
    sandbox.state.add_fault(kind="status", status=503, path_prefix="/facilities")

    report = order_sync.push_order(push.pk)

    assert report.result == PushResult.RETRY
    push.refresh_from_db()
    order.refresh_from_db()
    assert push.state == PushState.QUEUED
    assert order.confirmed_at is not None  # not reopened as if Flourish had refused it
    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED
    assert len(sandbox_orders_for(sandbox, order.number)) == 1


# -- a disabled integration holds the push ------------------------------------------------------


def test_a_disabled_integration_holds_the_push_until_enabled(
    make_order, agent, integration, sandbox
):
    order = make_order()
    push = confirmed_push(order, agent.user)
    integration.enabled = False
    integration.save()

    assert order_sync.push_order(push.pk).result == PushResult.DISABLED

    push.refresh_from_db()
    assert push.state == PushState.QUEUED
    assert "integration is disabled" in push.last_error
    assert not push.attempt_log.exists()
    assert sandbox_orders_for(sandbox, order.number) == []
    stall(push)
    with mock.patch.object(order_tasks.push_order, "delay") as delay:
        assert order_sync.requeue_stalled_pushes() == 0  # nothing to do while disabled
        integration.enabled = True
        integration.save()
        assert order_sync.requeue_stalled_pushes() == 1
    delay.assert_called_once_with(push.pk)
    assert order_sync.push_order(push.pk).result == PushResult.SUCCEEDED
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DELIVERY
