"""System checks for a dangerous setup, with stable ids (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def encryption_keys_configured(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.FIELD_ENCRYPTION_KEYS:
        return []
    return [
        checks.Error(
            "FIELD_ENCRYPTION_KEYS is empty: Flourish API keys and webhook signing keys would be "
            "encrypted with SECRET_KEY.",
            hint="Set FIELD_ENCRYPTION_KEYS to one or more long random strings, newest first.",
            id="ordo.E001",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def public_url_is_https(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.PUBLIC_BASE_URL.startswith("https://"):
        return []
    return [
        checks.Warning(
            f"PUBLIC_BASE_URL ({settings.PUBLIC_BASE_URL}) is not https: Flourish would send "
            "webhooks, and admins would log in, in clear text.",
            hint="Set PUBLIC_BASE_URL to the https address Flourish reaches this portal at.",
            id="ordo.W002",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def debug_off_in_public(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.DEBUG and settings.PUBLIC_BASE_URL.startswith("https://"):
        return [
            checks.Error(
                "DEBUG is on while the portal has a public https address: error pages would "
                "show settings and request data to anyone.",
                id="ordo.E003",
            )
        ]
    return []
