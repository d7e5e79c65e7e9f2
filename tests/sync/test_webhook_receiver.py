"""The webhook endpoint: every delivery is recorded; only an authentic, well-formed delivery of a
known resource type is accepted and queued, and a rejection never touches domain data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ordo_integration.orders.models import Order, OrderStatus
from sync.models import ProcessingState, Verdict, WebhookEvent
from sync.setup import regenerate_signing_key
from tests.factories import OrderFactory

from .conftest import event_body, signed_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped_order(organization: Any) -> Any:
    """An order already in Flourish that a Shipped delivery would move on."""
    return OrderFactory(
        organization=organization,
        number="ORD-77",
        flourish_order_id="42",
        status=OrderStatus.AWAITING_DELIVERY,
        confirmed_at=timezone.now(),
    )


def shipped_body(**data: Any) -> bytes:
    return event_body(
        "order",
        {
            "id": "42",
            "original_order_id": "ORD-77",
            "order_status": "Shipped",
            "last_updated_timestamp": "2025-03-03T15:12:41Z",
            **data,
        },
        action="update",
    )


def assert_rejected(response: Any, status: int, reason: str, integration: Any = None) -> None:
    assert response.status_code == status
    assert response.json()["status"] == "rejected"
    assert reason in response.json()["reason"]
    event = WebhookEvent.objects.get()
    assert event.verdict == Verdict.REJECTED
    assert reason in event.reason
    assert event.state == ProcessingState.NOT_APPLICABLE
    assert event.integration == integration


def assert_domain_untouched(order: Order) -> None:
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_DELIVERY
    assert order.flourish_order_status == ""


def test_it_accepts_a_signed_delivery_and_queues_it_after_commit(
    integration: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = signed_post(Client(), integration, shipped_body())

    event = WebhookEvent.objects.get()
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "event": event.pk}
    assert (event.verdict, event.state) == (Verdict.ACCEPTED, ProcessingState.PENDING)
    assert (event.resource_type, event.resource_id, event.action) == ("order", "42", "update")
    assert event.resource_last_updated == dt.datetime(2025, 3, 3, 15, 12, 41, tzinfo=dt.UTC)
    assert event.raw_body == shipped_body().decode()
    assert len(callbacks) == 1


def test_it_records_a_resent_delivery_as_a_duplicate_and_queues_it_once(
    integration: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = signed_post(Client(), integration, shipped_body())
        again = signed_post(Client(), integration, shipped_body())

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "duplicate"
    assert again.json()["original"] == first.json()["event"]
    verdicts = sorted(WebhookEvent.objects.values_list("verdict", flat=True))
    assert verdicts == [Verdict.ACCEPTED, Verdict.DUPLICATE]
    assert len(callbacks) == 1


def test_it_rejects_a_bad_signature(integration: Any, shipped_order: Order) -> None:
    response = signed_post(Client(), integration, shipped_body(), key="not-the-key")

    assert_rejected(response, 403, "does not match the signing key", integration)
    assert_domain_untouched(shipped_order)


def test_it_rejects_a_missing_signature(integration: Any, shipped_order: Order) -> None:
    response = signed_post(Client(), integration, shipped_body(), signature=None)

    assert_rejected(response, 403, "Auth-Signature header missing", integration)
    assert WebhookEvent.objects.get().headers["Auth-Signature present"] is False
    assert_domain_untouched(shipped_order)


def test_it_rejects_a_wrong_secret_header_value(integration: Any, shipped_order: Order) -> None:
    response = signed_post(Client(), integration, shipped_body(), secret_header="guess")

    assert_rejected(response, 403, "X-Ordo-Webhook-Secret header missing or wrong", integration)
    assert WebhookEvent.objects.get().headers["X-Ordo-Webhook-Secret matched"] is False
    assert_domain_untouched(shipped_order)


def test_it_rejects_a_missing_secret_header(integration: Any, shipped_order: Order) -> None:
    response = signed_post(Client(), integration, shipped_body(), secret_header=None)

    assert_rejected(response, 403, "X-Ordo-Webhook-Secret header missing or wrong", integration)
    assert_domain_untouched(shipped_order)


def test_it_rejects_a_wrong_integration_header(
    integration: Any, other_integration: Any, shipped_order: Order
) -> None:
    response = signed_post(
        Client(), integration, shipped_body(), integration_header=str(other_integration.uuid)
    )

    assert_rejected(response, 403, "X-Ordo-Integration header missing or wrong", integration)
    assert_domain_untouched(shipped_order)


def test_it_rejects_an_unknown_integration_and_records_it_without_one(
    integration: Any, shipped_order: Order
) -> None:
    path = "/webhooks/flourish/00000000-0000-4000-8000-000000000000/"

    response = signed_post(Client(), integration, shipped_body(), path=path)

    assert_rejected(response, 404, "unknown integration", integration=None)
    assert WebhookEvent.objects.get().headers["url integration"] == (
        "00000000-0000-4000-8000-000000000000"
    )
    assert_domain_untouched(shipped_order)


def test_it_rejects_a_delivery_signed_for_another_integration(
    integration: Any, other_integration: Any, shipped_order: Order
) -> None:
    """The stranger's own valid headers and key, posted to our URL, do not authenticate."""
    response = signed_post(
        Client(),
        other_integration,
        shipped_body(),
        path=f"/webhooks/flourish/{integration.uuid}/",
    )

    assert_rejected(response, 403, "X-Ordo-Integration header missing or wrong", integration)
    assert_domain_untouched(shipped_order)


def test_it_rejects_a_disabled_integration(integration: Any, shipped_order: Order) -> None:
    integration.enabled = False
    integration.save()

    response = signed_post(Client(), integration, shipped_body())

    assert_rejected(response, 403, "integration disabled", integration)
    assert_domain_untouched(shipped_order)


def test_it_rejects_malformed_json(integration: Any, shipped_order: Order) -> None:
    response = signed_post(Client(), integration, b'{"resource_type": "order", "data": {')

    assert_rejected(response, 400, "body is not JSON", integration)
    assert_domain_untouched(shipped_order)


def test_it_rejects_an_envelope_without_data(integration: Any, shipped_order: Order) -> None:
    body = json.dumps({"action": "create", "resource_type": "order"}).encode()

    response = signed_post(Client(), integration, body)

    assert_rejected(response, 400, "data is missing", integration)
    assert_domain_untouched(shipped_order)


def test_it_rejects_an_unknown_resource_type(integration: Any, shipped_order: Order) -> None:
    body = event_body("retail_order", {"id": "42", "original_order_id": "ORD-77"})

    response = signed_post(Client(), integration, body)

    assert_rejected(response, 400, "unknown resource type 'retail_order'", integration)
    assert WebhookEvent.objects.get().raw_body == body.decode()
    assert_domain_untouched(shipped_order)


def test_it_rejects_a_two_mebibyte_body(integration: Any, shipped_order: Order) -> None:
    body = shipped_body(notes="x" * (2 * 1024 * 1024))

    response = signed_post(Client(), integration, body)

    assert_rejected(response, 413, "body larger than 1048576 bytes", integration=None)
    assert WebhookEvent.objects.get().raw_body == ""
    assert_domain_untouched(shipped_order)


def test_it_rejects_a_body_longer_than_its_declared_length(
    integration: Any, shipped_order: Order
) -> None:
    """The cap is checked on the bytes read too, not only on the Content-Length header."""
    body = shipped_body(notes="x" * (1024 * 1024))

    response = signed_post(Client(), integration, body, CONTENT_LENGTH="100")

    # Django reads only the declared 100 bytes: they are not the signed body.
    assert response.status_code in (403, 413)
    assert WebhookEvent.objects.get().verdict == Verdict.REJECTED
    assert_domain_untouched(shipped_order)


def test_it_accepts_the_previous_key_inside_the_rotation_window(integration: Any) -> None:
    old_key = integration.webhook_signing_key
    regenerate_signing_key(integration)

    response = signed_post(Client(), integration, shipped_body(), key=old_key)

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.verdict == Verdict.ACCEPTED
    assert event.headers["Auth-Signature matched"] == "previous"


def test_it_rejects_the_previous_key_after_the_rotation_window(integration: Any) -> None:
    old_key = integration.webhook_signing_key
    regenerate_signing_key(integration)
    integration.previous_signing_key_valid_until = timezone.now() - dt.timedelta(seconds=1)
    integration.save()

    response = signed_post(Client(), integration, shipped_body(), key=old_key)

    assert_rejected(response, 403, "does not match the signing key", integration)


def test_it_accepts_the_new_key_right_after_regenerating(integration: Any) -> None:
    regenerate_signing_key(integration)
    integration.refresh_from_db()

    response = signed_post(Client(), integration, shipped_body())

    assert response.status_code == 200
    assert WebhookEvent.objects.get().headers["Auth-Signature matched"] == "current"


def test_it_needs_no_session_or_csrf_token(integration: Any) -> None:
    response = signed_post(Client(enforce_csrf_checks=True), integration, shipped_body())

    assert response.status_code == 200


def test_it_answers_get_with_405_and_records_nothing(integration: Any) -> None:
    response = Client().get(f"/webhooks/flourish/{integration.uuid}/")

    assert response.status_code == 405
    assert not WebhookEvent.objects.exists()
