"""Secrets at rest and on screen: the API key, signing keys and header secret are stored only
encrypted, never rendered back in full on a GET page, never logged, and re-encryptable under a
new key."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from sync.models import FlourishIntegration, WebhookEvent
from sync.setup import regenerate_signing_key

from .conftest import event_body, signed_post

pytestmark = pytest.mark.django_db

API_KEY = "flourish-live-key-0123456789abcdef"


@pytest.fixture
def keyed(integration: FlourishIntegration) -> FlourishIntegration:
    integration.api_key = API_KEY
    integration.save()
    regenerate_signing_key(integration)  # so a previous key exists too
    integration.refresh_from_db()
    return integration


def stored_columns(integration: FlourishIntegration) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_key, webhook_signing_key, previous_signing_key, webhook_header_secret "
            "FROM sync_flourishintegration WHERE id = %s",
            [integration.pk],
        )
        row = cursor.fetchone()
    assert row is not None
    names = ["api_key", "webhook_signing_key", "previous_signing_key", "webhook_header_secret"]
    return dict(zip(names, row, strict=True))


def secrets_of(integration: FlourishIntegration) -> list[str]:
    return [
        integration.api_key,
        integration.webhook_signing_key,
        integration.previous_signing_key,
        integration.webhook_header_secret,
    ]


def test_it_stores_no_plaintext_secret_in_the_database(keyed: FlourishIntegration) -> None:
    stored = stored_columns(keyed)

    for name, plaintext in zip(stored, secrets_of(keyed), strict=True):
        assert plaintext, name
        assert stored[name].startswith("fernet:"), name
        assert plaintext not in stored[name], name


def test_it_generates_signing_keys_with_at_least_32_bytes_of_entropy(
    keyed: FlourishIntegration,
) -> None:
    # token_urlsafe(32) is 43 characters of base64url: 6 bits each.
    assert len(keyed.webhook_signing_key) >= 43
    assert keyed.webhook_signing_key != keyed.previous_signing_key
    assert len(keyed.webhook_header_secret) >= 43


def test_it_never_renders_a_secret_on_the_change_page_or_the_setup_page(
    keyed: FlourishIntegration, admin: Any
) -> None:
    change = admin.client.get(reverse("admin:sync_flourishintegration_change", args=[keyed.pk]))
    setup = admin.client.get(reverse("admin:organization_my_setup"))

    for page in (change, setup):
        assert page.status_code == 200
        html = page.content.decode()
        for secret in secrets_of(keyed):
            assert secret not in html
    assert f"set, ending in …{API_KEY[-4:]}" in change.content.decode()
    assert f"set, ending in …{keyed.webhook_signing_key[-4:]}" in setup.content.decode()


def test_it_keeps_the_stored_api_key_when_the_field_is_left_empty(
    keyed: FlourishIntegration, admin: Any
) -> None:
    response = admin.client.post(
        reverse("admin:sync_flourishintegration_change", args=[keyed.pk]),
        {
            "base_url": "https://app.flourishsoftware.com",
            "api_username": "ordo",
            "api_key": "",
            "enabled": "on",
            "inventory_sync_interval_minutes": "30",
        },
    )

    assert response.status_code == 302
    keyed.refresh_from_db()
    assert keyed.api_key == API_KEY
    assert keyed.inventory_sync_interval_minutes == 30


def test_it_replaces_the_api_key_when_a_new_one_is_typed(
    keyed: FlourishIntegration, admin: Any
) -> None:
    admin.client.post(
        reverse("admin:sync_flourishintegration_change", args=[keyed.pk]),
        {
            "base_url": "https://app.flourishsoftware.com",
            "api_username": "ordo",
            "api_key": "a-brand-new-key-9999",
            "enabled": "on",
            "inventory_sync_interval_minutes": "15",
        },
    )

    keyed.refresh_from_db()
    assert keyed.api_key == "a-brand-new-key-9999"


def test_it_logs_no_secret_when_rejecting_a_delivery(
    keyed: FlourishIntegration, caplog: pytest.LogCaptureFixture
) -> None:
    body = event_body("item", {"id": "1", "sku": "S", "item_name": "x"})
    caplog.set_level(logging.DEBUG)

    signed_post(Client(), keyed, body, key="a-wrong-key")
    signed_post(Client(), keyed, body, secret_header=keyed.webhook_header_secret + "x")

    assert "rejected" in caplog.text
    for secret in secrets_of(keyed):
        assert secret not in caplog.text


def test_it_records_no_secret_on_the_event_log(keyed: FlourishIntegration, superuser: Any) -> None:
    body = event_body("item", {"id": "1", "sku": "S", "item_name": "x"})
    signed_post(Client(), keyed, body, key="a-wrong-key")
    client = Client()
    client.force_login(superuser)

    page = client.get(reverse("admin:sync_webhookevent_changelist"))
    detail = client.get(
        reverse("admin:sync_webhookevent_change", args=[WebhookEvent.objects.get().pk])
    )

    for html in (page.content.decode(), detail.content.decode()):
        for secret in secrets_of(keyed):
            assert secret not in html
    assert "does not match the signing key" in detail.content.decode()


def test_it_reencrypts_every_secret_with_the_newest_key(
    integration: FlourishIntegration, settings: Any
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = ["old-key"]
    integration.api_key = API_KEY
    integration.save()
    before = stored_columns(integration)

    settings.FIELD_ENCRYPTION_KEYS = ["new-key", "old-key"]
    call_command("reencrypt_secrets", stdout=io.StringIO())
    after = stored_columns(integration)

    settings.FIELD_ENCRYPTION_KEYS = ["new-key"]
    fresh = FlourishIntegration.objects.get(pk=integration.pk)
    assert fresh.api_key == API_KEY
    assert fresh.webhook_signing_key == integration.webhook_signing_key
    assert fresh.webhook_header_secret == integration.webhook_header_secret
    assert before["api_key"] != after["api_key"]
    settings.FIELD_ENCRYPTION_KEYS = ["old-key"]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        FlourishIntegration.objects.get(pk=integration.pk)
