"""The one place the portal builds a Flourish client from an organization's stored settings."""

from __future__ import annotations

from flourish_client import FlourishClient

from .models import FlourishIntegration


def client_for(integration: FlourishIntegration) -> FlourishClient:
    """A client authenticated with the integration's (decrypted) API key and username."""
    return FlourishClient(
        base_url=integration.base_url,
        api_key=integration.api_key,
        username=integration.api_username or None,
    )
