"""Setup checklist steps and Setup page sections contributed by the integration."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from ordo_integration.organizations.models import Organization
from ordo_integration.organizations.setup import SetupStep, register_provider, register_section

from .models import FlourishIntegration, SyncRun, SyncState, Verdict, WebhookEvent


def _admin_url(name: str) -> str | None:
    """An admin page's URL, or None while the app that registers it is not built yet."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _integration_of(organization: Organization) -> FlourishIntegration | None:
    return FlourishIntegration.objects.filter(organization=organization).first()


def integration_steps(organization: Organization) -> list[SetupStep]:
    """ "credentials", "webhook" and "inventory_sync", each done by what really happened."""
    integration = _integration_of(organization)
    url = (
        reverse("admin:sync_flourishintegration_change", args=[integration.pk])
        if integration
        else reverse("admin:sync_flourishintegration_add")
    )
    report = integration.last_connection_report if integration else {}
    if integration is None or not integration.api_key:
        credentials = SetupStep(
            "credentials", "Flourish credentials entered", False, "Enter the Flourish API key.", url
        )
    elif report.get("key_accepted"):
        credentials = SetupStep(
            "credentials",
            "Flourish credentials entered",
            True,
            "Flourish accepted the API key.",
            url,
        )
    else:
        credentials = SetupStep(
            "credentials",
            "Flourish credentials entered",
            False,
            report.get("error")
            or "Entered; click “Check connection” to confirm Flourish accepts it.",
            url,
        )
    first_event = (
        WebhookEvent.objects.filter(integration=integration, verdict=Verdict.ACCEPTED)
        .order_by("received_at")
        .first()
        if integration
        else None
    )
    webhook = SetupStep(
        "webhook",
        "First webhook received from Flourish",
        first_event is not None,
        f"First accepted at {first_event.received_at:%Y-%m-%d %H:%M} UTC."
        if first_event
        else "Paste the webhook values into Flourish; this turns done on the first accepted event.",
        _admin_url("admin:sync_webhookevent_changelist"),
    )
    synced = SyncRun.objects.filter(organization=organization, state=SyncState.SUCCEEDED).exists()
    inventory = SetupStep(
        "inventory_sync",
        "First inventory sync done",
        synced,
        "An inventory sync succeeded." if synced else "Run “Sync inventory” once.",
        _admin_url("admin:sync_syncrun_changelist"),
    )
    return [credentials, webhook, inventory]


def integration_section(request: HttpRequest, organization: Organization) -> str:
    """The compliance part of the Setup page: values to paste into Flourish (secrets masked)
    and the last mapping report. Nothing for users who may not see the integration."""
    if not request.user.has_perm("sync.view_flourishintegration"):
        return ""
    from .admin.integration import connection_report_html, webhook_values_html

    integration = _integration_of(organization)
    context: dict[str, object] = {"integration": integration}
    if integration is None:
        if request.user.has_perm("sync.add_flourishintegration"):
            context["add_url"] = reverse("admin:sync_flourishintegration_add")
    else:
        context["change_url"] = reverse(
            "admin:sync_flourishintegration_change", args=[integration.pk]
        )
        if request.user.has_perm("sync.change_flourishintegration"):
            context["reveal_url"] = reverse(
                "admin:sync_flourishintegration_reveal", args=[integration.pk]
            )
        context["webhook_values"] = webhook_values_html(integration)
        context["connection_report"] = connection_report_html(integration)
    return render_to_string("admin/sync/setup_section.html", context, request=request)


def register() -> None:
    """Hook the integration's steps and section into the Setup page."""
    register_provider(integration_steps)
    register_section(integration_section)
