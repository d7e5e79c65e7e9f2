"""The organization's Flourish integration: credentials, the generated webhook values, key
rotation and the connection check. Ordo Admins only (Sales Agents have no permission on it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.safestring import SafeString

from ordo_integration.organizations.scoping import OrganizationScopedAdmin, organization_of
from sync import setup
from sync.forms import FlourishIntegrationForm, masked
from sync.models import FlourishIntegration

EDITABLE_FIELDS = [
    "base_url",
    "api_username",
    "api_key",
    "enabled",
    "inventory_sync_interval_minutes",
    "check_sellable_on_confirm",
]


def webhook_values_html(integration: FlourishIntegration, *, reveal: bool = False) -> SafeString:
    """The values to paste into Flourish; secrets masked unless ``reveal`` (a POST asked)."""
    return render_to_string(
        "admin/sync/flourishintegration/webhook_values.html",
        {
            "integration": integration,
            "values": setup.generated_values(integration),
            "reveal": reveal,
        },
    )


def connection_report_html(integration: FlourishIntegration) -> SafeString:
    return render_to_string(
        "admin/sync/flourishintegration/connection_report.html",
        {"integration": integration, "report": integration.last_connection_report},
    )


@admin.register(FlourishIntegration)
class FlourishIntegrationAdmin(OrganizationScopedAdmin):
    form = FlourishIntegrationForm
    change_form_template = "admin/sync/flourishintegration/change_form.html"
    list_display = ["__str__", "base_url", "enabled", "signing_key", "last_connection_check_at"]
    list_filter = ["enabled"]
    list_select_related = ["organization"]
    readonly_fields = ["signing_key", "webhook_values", "connection_report"]
    actions = ["check_connection", "regenerate_signing_key"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields: list[str] = (
            ["organization"] if request.user.is_superuser else []
        ) + EDITABLE_FIELDS
        if obj is not None:
            fields += ["signing_key", "webhook_values", "connection_report"]
        return fields

    # One integration per organization: an Ordo Admin goes straight to theirs (or its add form).
    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        visible = self.has_view_or_change_permission(request)
        if request.method == "GET" and visible and not request.user.is_superuser:
            mine = self.get_queryset(request).first()
            if mine is not None:
                return redirect("admin:sync_flourishintegration_change", mine.pk)
            if self.has_add_permission(request):
                return redirect("admin:sync_flourishintegration_add")
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        if not super().has_add_permission(request):
            return False
        if request.user.is_superuser:
            return True
        organization = organization_of(request.user)
        return (
            organization is not None
            and not FlourishIntegration.objects.filter(organization=organization).exists()
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        generated = setup.ensure_webhook_secrets(obj)
        super().save_model(request, obj, form, change)
        if generated:
            self.message_user(
                request,
                "Webhook values generated. Click “Reveal webhook values” to copy them into "
                "Flourish (Manage Settings → Integrations → Webhook Endpoints).",
                messages.SUCCESS,
            )

    # -- read-only displays --------------------------------------------------------------------

    @admin.display(description="Signing key")
    def signing_key(self, obj: FlourishIntegration) -> str:
        return masked(obj.webhook_signing_key)

    @admin.display(description="Paste into Flourish")
    def webhook_values(self, obj: FlourishIntegration) -> SafeString:
        return webhook_values_html(obj)

    @admin.display(description="Last connection check")
    def connection_report(self, obj: FlourishIntegration) -> SafeString:
        return connection_report_html(obj)

    # -- actions (also posted by the buttons on the change page) -------------------------------

    @admin.action(description="Check connection", permissions=["change"])
    def check_connection(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for integration in queryset.select_related("organization"):
            report = setup.check_connection(integration)
            if not report["key_accepted"]:
                self.message_user(request, f"{integration}: {report['error']}", messages.ERROR)
                continue
            licenses = report["licenses"]
            brands = report["brands"]
            matched = sum(1 for row in licenses if row["matched"])
            counts = {
                kind: sum(1 for row in brands if row["match"] == kind)
                for kind in (
                    "exact",
                    "near",
                    "none",
                )
            }
            level = (
                messages.SUCCESS
                if matched == len(licenses) and counts["exact"] == len(brands)
                else messages.WARNING
            )
            self.message_user(
                request,
                f"{integration}: key accepted; {matched} of {len(licenses)} license(s) matched "
                f"a Flourish facility; brands: {counts['exact']} exact, {counts['near']} near "
                f"match, {counts['none']} not found.",
                level,
            )

    @admin.action(description="Regenerate signing key", permissions=["change"])
    def regenerate_signing_key(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = 0
        for integration in queryset:
            setup.regenerate_signing_key(integration)
            count += 1
        hours = int(setup.rotation_window().total_seconds() // 3600)
        self.message_user(
            request,
            f"New signing key generated for {count} integration(s). The previous key stays valid "
            f"for {hours} hours: reveal the new key, paste it into Flourish and click Save there.",
            messages.SUCCESS,
        )

    # -- the reveal page -----------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/webhook-values/",
                self.admin_site.admin_view(self.reveal_view),
                name="sync_flourishintegration_reveal",
            ),
            *super().get_urls(),
        ]

    def reveal_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The secrets in full, once per explicit POST, never cached: GET pages only mask them."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        integration = self.get_object(request, object_id)
        if integration is None:
            raise Http404("No such integration.")
        if not self.has_change_permission(request, integration):
            raise PermissionDenied
        response = TemplateResponse(
            request,
            "admin/sync/flourishintegration/reveal.html",
            {
                **self.admin_site.each_context(request),
                "title": "Webhook values for Flourish",
                "opts": self.opts,
                "original": integration,
                "webhook_values": webhook_values_html(integration, reveal=True),
                "change_url": reverse(
                    "admin:sync_flourishintegration_change", args=[integration.pk]
                ),
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context["reveal_url"] = reverse("admin:sync_flourishintegration_reveal", args=[obj.pk])
            context["changelist_url"] = reverse("admin:sync_flourishintegration_changelist")
        return super().render_change_form(request, context, add, change, form_url, obj)
