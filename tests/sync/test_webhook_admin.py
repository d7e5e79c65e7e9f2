"""The webhook event log as an operations console: read-only, filtered, the raw body shown,
Reprocess through the changelist, and each organization seeing only its own deliveries."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from sync.models import FlourishIntegration, ProcessingState, Verdict, WebhookEvent

from .conftest import event_body, signed_post

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:sync_webhookevent_changelist"


def item_body(item_id: str) -> bytes:
    return event_body("item", {"id": item_id, "sku": "S", "item_name": "Pre-Roll"})


def deliver(integration: FlourishIntegration, body: bytes, **overrides: Any) -> WebhookEvent:
    signed_post(Client(), integration, body, **overrides)
    return WebhookEvent.objects.order_by("-pk").first()  # type: ignore[return-value]


def test_it_reprocesses_selected_events_through_the_changelist(
    integration: FlourishIntegration, admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    failed = deliver(integration, item_body("1"))
    WebhookEvent.objects.filter(pk=failed.pk).update(state=ProcessingState.FAILED, error="boom")
    rejected = deliver(integration, item_body("2"), key="wrong")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin.client.post(
            reverse(CHANGELIST),
            {"action": "reprocess", "_selected_action": [failed.pk, rejected.pk], "index": 0},
            follow=True,
        )

    failed.refresh_from_db()
    rejected.refresh_from_db()
    html = response.content.decode()
    assert "1 event(s) queued for processing again. 1 not accepted" in html
    assert (failed.state, failed.error) == (ProcessingState.PENDING, "")
    assert rejected.state == ProcessingState.NOT_APPLICABLE
    assert len(callbacks) == 1


def test_it_shows_the_raw_body_pretty_printed_and_read_only(
    integration: FlourishIntegration, admin: Any
) -> None:
    event = deliver(integration, item_body("160"))
    url = reverse("admin:sync_webhookevent_change", args=[event.pk])

    page = admin.client.get(url)
    edit = admin.client.post(url, {"reason": "edited"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "&quot;resource_type&quot;: &quot;item&quot;" in html
    assert '<pre class="webhook-body">{\n  &quot;action&quot;' in html
    assert 'name="reason"' not in html
    assert edit.status_code == 403
    assert admin.client.get(reverse("admin:sync_webhookevent_add")).status_code == 403


def test_it_filters_by_verdict_state_and_resource_type(
    integration: FlourishIntegration, admin: Any
) -> None:
    accepted = deliver(integration, item_body("1"))
    rejected = deliver(integration, item_body("2"), key="wrong")

    page = admin.client.get(reverse(CHANGELIST), {"verdict": Verdict.REJECTED})

    shown = [obj.pk for obj in page.context["cl"].result_list]
    assert shown == [rejected.pk]
    assert accepted.pk not in shown
    filters = [spec.title for spec in page.context["cl"].filter_specs]
    assert filters == ["verdict", "state", "resource type"]


def test_it_shows_each_organization_only_its_own_events(
    integration: FlourishIntegration,
    other_integration: FlourishIntegration,
    admin: Any,
    stranger: Any,
    superuser: Any,
) -> None:
    ours = deliver(integration, item_body("1"))
    theirs = deliver(other_integration, item_body("1"))
    WebhookEvent.objects.filter(pk=theirs.pk).update(state=ProcessingState.FAILED)
    nobodys = deliver(integration, item_body("3"), path="/webhooks/flourish/" + "0" * 32 + "/")
    root = Client()
    root.force_login(superuser)

    def listed(client: Client) -> set[int]:
        return {obj.pk for obj in client.get(reverse(CHANGELIST)).context["cl"].result_list}

    assert listed(admin.client) == {ours.pk}
    assert listed(stranger.client) == {theirs.pk}
    assert listed(root) == {ours.pk, theirs.pk, nobodys.pk}
    detail = reverse("admin:sync_webhookevent_change", args=[theirs.pk])
    assert admin.client.get(detail).status_code == 302  # "doesn't exist", back to the index
    response = admin.client.post(
        reverse(CHANGELIST),
        {"action": "reprocess", "_selected_action": [theirs.pk], "index": 0},
    )
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.state == ProcessingState.FAILED


def test_it_lets_agents_see_no_event_log(integration: FlourishIntegration, agent: Any) -> None:
    deliver(integration, item_body("1"))

    assert agent.client.get(reverse(CHANGELIST)).status_code == 403
