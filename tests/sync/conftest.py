"""Shared fixtures for the integration's tests: an organization's Flourish integration with its
generated webhook values, and a helper that posts a delivery the way Flourish signs it (§5.2,
§5.3). Other areas' tests import these names; keep them stable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from flourish_client import SIGNATURE_HEADER, sign
from ordo_integration.organizations.models import Organization
from sync.models import FlourishIntegration
from sync.setup import INTEGRATION_HEADER, SECRET_HEADER, ensure_webhook_secrets, webhook_path

API_KEY = "test-key"


def make_integration(organization: Organization, **fields: Any) -> FlourishIntegration:
    """An integration with its webhook values generated, as the admin's first save leaves it."""
    integration = FlourishIntegration(
        organization=organization,
        api_username="ordo",
        api_key=fields.pop("api_key", API_KEY),
        **fields,
    )
    ensure_webhook_secrets(integration)
    integration.save()
    return integration


@pytest.fixture
def integration(organization: Organization) -> FlourishIntegration:
    """The ``organization`` persona's integration (enabled, secrets generated)."""
    return make_integration(organization)


@pytest.fixture
def other_integration(other_organization: Organization) -> FlourishIntegration:
    """The stranger's organization's integration."""
    return make_integration(other_organization)


def event_body(resource_type: str, data: dict[str, Any], action: str = "create") -> bytes:
    """A webhook envelope as Flourish sends it (§5.2)."""
    return json.dumps({"action": action, "resource_type": resource_type, "data": data}).encode()


def signed_post(
    client: Client, integration: FlourishIntegration, body: bytes, **overrides: Any
) -> Any:
    """POST ``body`` to the integration's endpoint, signed and with both custom headers.

    Overrides: ``key`` (sign with this key instead), ``signature`` (send this signature;
    ``None`` omits the header), ``integration_header`` / ``secret_header`` (send this value;
    ``None`` omits the header), ``path`` (post here instead), ``content_type``; any other
    keyword is passed to ``client.post`` (e.g. ``HTTP_X_EXTRA="1"``).
    """
    key = overrides.pop("key", integration.webhook_signing_key)
    headers: dict[str, Any] = {
        SIGNATURE_HEADER: overrides.pop("signature", sign(body, key)),
        INTEGRATION_HEADER: overrides.pop("integration_header", str(integration.uuid)),
        SECRET_HEADER: overrides.pop("secret_header", integration.webhook_header_secret),
    }
    path = overrides.pop("path", None) or webhook_path(integration)
    content_type = overrides.pop("content_type", "application/json")
    meta = {
        "HTTP_" + name.upper().replace("-", "_"): value
        for name, value in headers.items()
        if value is not None
    }
    return client.post(path, data=body, content_type=content_type, **meta, **overrides)
