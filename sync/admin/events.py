"""The webhook event log: read-only, filterable, with the raw body and a Reprocess action."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ordo_integration.organizations.scoping import OrganizationScopedAdmin
from sync import webhooks
from sync.models import WebhookEvent

DETAIL_FIELDS = (
    "integration",
    "received_at",
    "verdict",
    "reason",
    "state",
    "error",
    "attempts",
    "processed_at",
    "resource_type",
    "action",
    "resource_id",
    "resource_last_updated",
    "headers_pretty",
    "body_sha256",
    "body_pretty",
)


@admin.register(WebhookEvent)
class WebhookEventAdmin(OrganizationScopedAdmin):
    # Rejected deliveries to an unknown integration have none: scoping through the integration
    # leaves them to superusers, which is right (they name no organization).
    organization_path = "integration__organization"
    list_display = [
        "received_at",
        "integration",
        "resource_type",
        "resource_id",
        "verdict",
        "reason",
        "state",
        "attempts",
    ]
    list_filter = ["verdict", "state", "resource_type", "integration"]
    list_select_related = ["integration__organization"]
    search_fields = ["resource_id", "body_sha256"]
    date_hierarchy = "received_at"
    fields = DETAIL_FIELDS
    readonly_fields = DETAIL_FIELDS
    actions = ["reprocess"]

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        if not request.user.is_superuser:
            # Only ever their own integration: no filter to offer.
            filters = [f for f in filters if (f[0] if isinstance(f, tuple) else f) != "integration"]
        return filters

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The log is evidence: nobody edits it. The "change" permission still gates Reprocess.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Headers")
    def headers_pretty(self, obj: WebhookEvent) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2, sort_keys=True))

    @admin.display(description="Raw body")
    def body_pretty(self, obj: WebhookEvent) -> SafeString:
        try:
            text = json.dumps(json.loads(obj.raw_body), indent=2)
        except ValueError:
            text = obj.raw_body
        return format_html('<pre class="webhook-body">{}</pre>', text)

    @admin.action(description="Reprocess selected events", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        queued = webhooks.reprocess(queryset)
        skipped = queryset.count() - queued
        self.message_user(
            request,
            f"{queued} event(s) queued for processing again."
            + (f" {skipped} not accepted, so not processed." if skipped else ""),
            messages.SUCCESS if queued else messages.WARNING,
        )

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
