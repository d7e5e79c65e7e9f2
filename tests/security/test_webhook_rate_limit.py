"""The webhook endpoint is rate-limited per integration, with a clear 429 that is recorded."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from sync.models import Verdict, WebhookEvent
from tests.sync.conftest import event_body, signed_post

pytestmark = pytest.mark.django_db

BODY = event_body("item", {"id": "101", "sku": "GR-1", "brand": "Green Ridge"})


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.WEBHOOK_RATE_LIMIT_PER_MINUTE = 3
    cache.clear()


def test_it_answers_429_with_retry_after_past_the_limit(client, integration):
    answers = [signed_post(client, integration, BODY).status_code for _ in range(3)]

    refused = signed_post(client, integration, BODY)

    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "Too many deliveries" in refused.json()["detail"]
    rejected = WebhookEvent.objects.get(verdict=Verdict.REJECTED)
    assert rejected.integration == integration
    assert rejected.reason.startswith("rate limited")


def test_it_counts_each_integration_on_its_own(client, integration, other_integration):
    for _ in range(3):
        signed_post(client, integration, BODY)

    other = signed_post(client, other_integration, BODY)

    assert signed_post(client, integration, BODY).status_code == 429
    assert other.status_code == 200
