"""Nothing accepted is lost when the broker is down at intake or a worker never got the message;
unauthenticated bodies are not stored; a second key regeneration keeps the key Flourish uses."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from flourish_client import sign
from sync import webhooks
from sync.models import ProcessingState, Verdict, WebhookEvent
from sync.setup import regenerate_signing_key
from sync.tasks import webhooks as webhook_tasks
from tests.sync.conftest import event_body, signed_post

pytestmark = pytest.mark.django_db(transaction=True)

ITEM = {"id": "101", "sku": "GR-1", "brand": "Nobody's brand", "item_name": "Kush"}


def test_it_answers_200_and_keeps_the_event_pending_when_the_broker_is_down(integration):
    with mock.patch.object(
        webhook_tasks.process_webhook_event, "delay", autospec=True, side_effect=BrokerDown
    ):
        response = signed_post(Client(), integration, event_body("item", ITEM))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.verdict, event.state) == (Verdict.ACCEPTED, ProcessingState.PENDING)


def test_it_requeues_events_left_pending_or_failed_with_attempts_left(integration):
    old = timezone.now() - dt.timedelta(minutes=10)

    def event(**fields: Any) -> WebhookEvent:
        made = WebhookEvent.objects.create(
            integration=integration,
            verdict=Verdict.ACCEPTED,
            body_sha256=hashlib.sha256(repr(fields).encode()).hexdigest(),
            **fields,
        )
        WebhookEvent.objects.filter(pk=made.pk).update(received_at=old)
        return made

    stranded = event(state=ProcessingState.PENDING)
    retry_left = event(state=ProcessingState.FAILED, attempts=2, processed_at=old)
    exhausted = event(state=ProcessingState.FAILED, attempts=6, processed_at=old)
    event(state=ProcessingState.DONE, attempts=1, processed_at=old)
    fresh = WebhookEvent.objects.create(
        integration=integration, verdict=Verdict.ACCEPTED, body_sha256="fresh", state="pending"
    )

    with mock.patch.object(webhook_tasks.process_webhook_event, "delay", autospec=True) as delay:
        count = webhooks.requeue_stalled_events()

    queued = {call.args[0] for call in delay.call_args_list}
    assert queued == {stranded.pk, retry_left.pk}
    assert count == 2
    assert exhausted.pk not in queued and fresh.pk not in queued


def test_it_marks_a_database_blip_in_a_handler_retryable(integration):
    event = WebhookEvent.objects.create(
        integration=integration,
        verdict=Verdict.ACCEPTED,
        state=ProcessingState.PENDING,
        body_sha256="x",
        raw_body=event_body("item", ITEM).decode(),
    )

    with mock.patch("sync.inventory.apply_item", autospec=True, side_effect=OperationalError):
        processed = webhooks.process_event(event.pk)

    assert processed is not None and processed.retryable
    assert WebhookEvent.objects.get(pk=event.pk).state == ProcessingState.FAILED


def test_it_does_not_store_the_body_of_an_unauthenticated_delivery(integration):
    body = b'{"resource_type": "item", "data": {"x": "' + b"A" * 50_000 + b'"}}'

    response = signed_post(Client(), integration, body, signature="0" * 64)

    assert response.status_code == 403
    rejected = WebhookEvent.objects.get()
    assert rejected.raw_body == ""
    assert rejected.headers["body_bytes"] == len(body)
    assert rejected.body_sha256 and rejected.reason.startswith("Auth-Signature does not match")


def test_it_keeps_the_key_flourish_uses_when_regenerated_twice(integration):
    pasted_in_flourish = integration.webhook_signing_key
    regenerate_signing_key(integration)
    never_pasted = integration.webhook_signing_key

    regenerate_signing_key(integration)

    integration.refresh_from_db()
    assert integration.previous_signing_key == pasted_in_flourish
    assert integration.webhook_signing_key not in (pasted_in_flourish, never_pasted)
    body = event_body("item", ITEM)
    accepted = signed_post(Client(), integration, body, key=pasted_in_flourish)
    assert accepted.status_code == 200


def test_it_rotates_normally_once_flourish_signs_with_the_new_key(integration):
    regenerate_signing_key(integration)
    integration.refresh_from_db()
    new_key = integration.webhook_signing_key
    assert (
        signed_post(Client(), integration, event_body("item", ITEM), key=new_key).status_code == 200
    )

    regenerate_signing_key(integration)

    integration.refresh_from_db()
    assert integration.previous_signing_key == new_key
    assert sign(b"x", new_key) != sign(b"x", integration.webhook_signing_key)
