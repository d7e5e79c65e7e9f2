"""Processing accepted events: dispatched by resource type to the services, at most once per
event, never older over newer for one resource, and always inside the integration's own
organization."""

from __future__ import annotations

import types
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from flourish_client import TransientError
from ordo_integration.orders.models import OrderStatus, PaymentTerms
from sync import webhooks
from sync.models import AppliedVersion, ProcessingState, WebhookEvent
from tests.factories import OrderFactory

from .conftest import event_body, signed_post

pytestmark = pytest.mark.django_db


class Recorder:
    """A handler module standing in for a service not written yet: it records what it got."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.error: Exception | None = None

    def apply_item(self, integration: Any, item: Any) -> None:
        self.calls.append((integration.pk, item.id, item.last_updated_timestamp))
        if self.error is not None:
            raise self.error


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    module = types.ModuleType("tests_recording_handlers")
    module.apply_item = recorder.apply_item  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "tests_recording_handlers", module)
    monkeypatch.setitem(webhooks.HANDLERS, "item", ("tests_recording_handlers", "apply_item"))
    return recorder


def item_body(updated: str, name: str = "Pre-Roll 0.5g") -> bytes:
    return event_body(
        "item",
        {
            "id": "160",
            "sku": "GRN-PR-05",
            "item_name": name,
            "brand": "Green Ridge",
            "last_updated_timestamp": updated,
        },
        action="update",
    )


def deliver(integration: Any, body: bytes) -> WebhookEvent:
    response = signed_post(Client(), integration, body)
    assert response.status_code == 200, response.json()
    return WebhookEvent.objects.get(pk=response.json()["event"])


def test_it_dispatches_an_item_event_to_its_handler_once(
    integration: Any, recorder: Recorder
) -> None:
    event = deliver(integration, item_body("2025-03-03T15:12:41Z"))

    first = webhooks.process_event(event.pk)
    again = webhooks.process_event(event.pk)

    event.refresh_from_db()
    assert first == webhooks.Processed(ProcessingState.DONE)
    assert again == webhooks.Processed(ProcessingState.DONE)
    assert [call[:2] for call in recorder.calls] == [(integration.pk, "160")]
    assert (event.state, event.attempts) == (ProcessingState.DONE, 1)
    assert event.processed_at is not None


def test_it_skips_an_event_older_than_the_one_applied(integration: Any, recorder: Recorder) -> None:
    newer = deliver(integration, item_body("2025-03-03T15:12:41Z", name="new"))
    older = deliver(integration, item_body("2025-03-03T15:12:40Z", name="old"))

    webhooks.process_event(newer.pk)
    outcome = webhooks.process_event(older.pk)

    assert outcome == webhooks.Processed(ProcessingState.SKIPPED_STALE)
    assert len(recorder.calls) == 1
    applied = AppliedVersion.objects.get(integration=integration, resource_id="160")
    assert applied.resource_type == "item"
    assert applied.last_updated.isoformat() == "2025-03-03T15:12:41+00:00"


def test_it_applies_an_event_as_new_as_the_one_applied(
    integration: Any, recorder: Recorder
) -> None:
    """Same timestamp, different body (e.g. another action): declarative data, applied again."""
    first = deliver(integration, item_body("2025-03-03T15:12:41Z"))
    same_time = deliver(integration, item_body("2025-03-03T15:12:41Z", name="renamed"))

    webhooks.process_event(first.pk)
    outcome = webhooks.process_event(same_time.pk)

    assert outcome == webhooks.Processed(ProcessingState.DONE)
    assert len(recorder.calls) == 2


def test_it_keeps_stale_checks_per_integration(
    integration: Any, other_integration: Any, recorder: Recorder
) -> None:
    ours = deliver(integration, item_body("2025-03-03T15:12:41Z"))
    theirs_older = deliver(other_integration, item_body("2025-03-03T15:00:00Z"))

    webhooks.process_event(ours.pk)
    outcome = webhooks.process_event(theirs_older.pk)

    assert outcome == webhooks.Processed(ProcessingState.DONE)
    assert [call[0] for call in recorder.calls] == [integration.pk, other_integration.pk]


def test_it_marks_an_event_unhandled_while_its_service_does_not_exist(
    integration: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(webhooks.HANDLERS, "item", ("sync.not_written_yet", "apply_item"))
    event = deliver(integration, item_body("2025-03-03T15:12:41Z"))

    outcome = webhooks.process_event(event.pk)

    event.refresh_from_db()
    assert outcome == webhooks.Processed(ProcessingState.UNHANDLED)
    assert "no handler for item" in event.error
    # Nothing was applied, so a later Reprocess must not find it stale.
    assert not AppliedVersion.objects.exists()


def test_it_records_a_handler_failure_and_rolls_back_the_version(
    integration: Any, recorder: Recorder
) -> None:
    recorder.error = ValueError("brand Green Ridge has no license")
    event = deliver(integration, item_body("2025-03-03T15:12:41Z"))

    outcome = webhooks.process_event(event.pk)

    event.refresh_from_db()
    assert outcome == webhooks.Processed(ProcessingState.FAILED, retryable=False)
    assert (event.state, event.attempts) == (ProcessingState.FAILED, 1)
    assert "ValueError: brand Green Ridge has no license" in event.error
    assert not AppliedVersion.objects.exists()


def test_it_says_a_transient_failure_is_retryable_and_a_retry_applies_it(
    integration: Any, recorder: Recorder
) -> None:
    recorder.error = TransientError("Flourish answered 503")
    event = deliver(integration, item_body("2025-03-03T15:12:41Z"))

    failed = webhooks.process_event(event.pk)
    recorder.error = None
    retried = webhooks.process_event(event.pk)

    event.refresh_from_db()
    assert failed == webhooks.Processed(ProcessingState.FAILED, retryable=True)
    assert retried == webhooks.Processed(ProcessingState.DONE)
    assert (event.state, event.attempts, event.error) == (ProcessingState.DONE, 2, "")


def test_it_tolerates_an_event_that_no_longer_exists(db: None) -> None:
    assert webhooks.process_event(987654) is None


def test_it_moves_the_organizations_order_on_a_shipped_event(integration: Any) -> None:
    order: Any = OrderFactory(
        organization=integration.organization,
        number="ORD-77",
        flourish_order_id="42",
        payment_terms=PaymentTerms.NET,
        status=OrderStatus.AWAITING_DELIVERY,
        confirmed_at=timezone.now(),
    )
    body = event_body(
        "order",
        {
            "id": "42",
            "original_order_id": "ORD-77",
            "order_status": "Shipped",
            "last_updated_timestamp": "2025-03-03T15:12:41Z",
        },
    )
    event = deliver(integration, body)

    outcome = webhooks.process_event(event.pk)

    order.refresh_from_db()
    assert outcome == webhooks.Processed(ProcessingState.DONE)
    assert order.flourish_order_status == "Shipped"
    assert order.status == OrderStatus.DELIVERED


def test_it_never_changes_another_organizations_order_named_in_the_body(
    integration: Any, other_integration: Any
) -> None:
    """B has an order with the very numbers A's delivery names; only A's data may move."""
    theirs: Any = OrderFactory(
        organization=other_integration.organization,
        number="ORD-77",
        flourish_order_id="42",
        status=OrderStatus.AWAITING_DELIVERY,
        confirmed_at=timezone.now(),
    )
    body = event_body(
        "order",
        {
            "id": "42",
            "original_order_id": "ORD-77",
            "order_status": "Cancelled",
            "last_updated_timestamp": "2025-03-03T15:12:41Z",
        },
    )
    event = deliver(integration, body)

    outcome = webhooks.process_event(event.pk)

    theirs.refresh_from_db()
    assert outcome == webhooks.Processed(ProcessingState.DONE)
    assert theirs.status == OrderStatus.AWAITING_DELIVERY
    assert theirs.flourish_order_status == ""
    assert theirs.events.count() == 0


def test_it_reprocesses_a_failed_event_on_request(
    integration: Any, recorder: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    recorder.error = ValueError("boom")
    event = deliver(integration, item_body("2025-03-03T15:12:41Z"))
    webhooks.process_event(event.pk)
    recorder.error = None

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = webhooks.reprocess(WebhookEvent.objects.filter(pk=event.pk))

    event.refresh_from_db()
    assert queued == 1
    assert (event.state, event.error) == (ProcessingState.PENDING, "")
    assert len(callbacks) == 1
    assert webhooks.process_event(event.pk) == webhooks.Processed(ProcessingState.DONE)
