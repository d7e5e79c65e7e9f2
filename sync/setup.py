"""Setting up an organization's Flourish integration: the values the admin pastes into Flourish
(signing key, endpoint URL, two custom headers), key rotation, and the pre-flight check of the
stored credentials and of how licenses and brands map onto Flourish (flourish-api.md §5.1, §5.3).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from .models import FlourishIntegration

# The two custom headers Flourish sends with every delivery (§5.3: up to two key/value pairs).
# One names the integration, the other carries a random secret only this portal and Flourish know.
INTEGRATION_HEADER = "X-Ordo-Integration"
SECRET_HEADER = "X-Ordo-Webhook-Secret"  # noqa: S105 - a header name, not a secret

# token_urlsafe(n) draws n random bytes: 32 bytes is the entropy floor the issue asks for.
SIGNING_KEY_BYTES = 32
HEADER_SECRET_BYTES = 32


def new_signing_key() -> str:
    return secrets.token_urlsafe(SIGNING_KEY_BYTES)


def new_header_secret() -> str:
    return secrets.token_urlsafe(HEADER_SECRET_BYTES)


def ensure_webhook_secrets(integration: FlourishIntegration) -> bool:
    """Generate the signing key and header secret once; True when something was generated.

    Never overwrites an existing value: Flourish holds a copy, and changing it silently would make
    every delivery fail. Rotation is ``regenerate_signing_key``'s job. Does not save.
    """
    generated = False
    if not integration.webhook_signing_key:
        integration.webhook_signing_key = new_signing_key()
        generated = True
    if not integration.webhook_header_secret:
        integration.webhook_header_secret = new_header_secret()
        generated = True
    return generated


def rotation_window() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "WEBHOOK_ROTATION_WINDOW_HOURS", 24))


def regenerate_signing_key(integration: FlourishIntegration) -> None:
    """Replace the signing key, keeping the old one valid for the rotation window.

    Deliveries already signed (or retried by Flourish) with the old key keep being accepted until
    the admin has pasted the new key into Flourish and clicked Save there (§5.1).
    """
    if integration.webhook_signing_key:
        integration.previous_signing_key = integration.webhook_signing_key
        integration.previous_signing_key_valid_until = timezone.now() + rotation_window()
    integration.webhook_signing_key = new_signing_key()
    if not integration.webhook_header_secret:
        integration.webhook_header_secret = new_header_secret()
    integration.save(
        update_fields=[
            "webhook_signing_key",
            "previous_signing_key",
            "previous_signing_key_valid_until",
            "webhook_header_secret",
            "updated_at",
        ]
    )


def webhook_path(integration: FlourishIntegration) -> str:
    return reverse("flourish-webhook", kwargs={"integration_uuid": integration.uuid})


def webhook_url(integration: FlourishIntegration) -> str:
    """The endpoint URL to paste into Flourish's Webhook URL field (§5.1)."""
    return getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/") + webhook_path(integration)


def webhook_headers(integration: FlourishIntegration) -> dict[str, str]:
    """The two custom headers (name → value) to paste into Flourish (§5.3)."""
    return {
        INTEGRATION_HEADER: str(integration.uuid),
        SECRET_HEADER: integration.webhook_header_secret,
    }


@dataclass(frozen=True)
class GeneratedValue:
    """One value the admin copies into Flourish. ``secret`` values are shown only on request."""

    label: str
    value: str
    secret: bool = False


def generated_values(integration: FlourishIntegration) -> list[GeneratedValue]:
    """What the admin pastes into Flourish, in the order Flourish's form asks for it (§5.1)."""
    if not integration.webhook_signing_key:
        return []
    return [
        GeneratedValue("Webhook URL", webhook_url(integration)),
        GeneratedValue("Signing key", integration.webhook_signing_key, secret=True),
        GeneratedValue("Custom header 1 name", INTEGRATION_HEADER),
        GeneratedValue("Custom header 1 value", str(integration.uuid)),
        GeneratedValue("Custom header 2 name", SECRET_HEADER),
        GeneratedValue("Custom header 2 value", integration.webhook_header_secret, secret=True),
    ]
