"""Inventory sync runs: a read-only log with live progress, and the "Sync inventory" button's view.

The button lives on the Inventory & allocations screen (the catalog's Item changelist) and posts
to ``admin:sync_syncrun_start``, which this admin adds to its URLs.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from ordo_integration.organizations.scoping import (
    OrganizationScopedAdmin,
    ReadOnlyAdminMixin,
    organization_of,
)
from sync import inventory
from sync.models import SyncMode, SyncRun, SyncState, SyncTrigger

# While a run is running its pages reload themselves this often (the counters move).
REFRESH_SECONDS = 3

COUNTERS = ("seen", "created", "updated", "unchanged", "deactivated", "api_calls", "pages")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    # Runs are started by the Sync inventory button (which needs add_syncrun), never by a form.
    list_display = [
        "started_at",
        "mode",
        "trigger",
        "state",
        "progress",
        *COUNTERS,
        "skipped_total",
        "duration",
        "short_error",
    ]
    list_filter = ["state", "trigger", "mode", "organization"]
    list_select_related = ["organization"]
    date_hierarchy = "started_at"
    fields = (
        "organization",
        "trigger",
        "mode",
        "state",
        "started_at",
        "finished_at",
        "since",
        "progress",
        *COUNTERS,
        "skipped_by_reason",
        "error",
    )
    readonly_fields = fields

    @admin.display(description="skipped")
    def skipped_total(self, run: SyncRun) -> int:
        return sum(int(count) for count in (run.skipped or {}).values())

    @admin.display(description="skipped by reason")
    def skipped_by_reason(self, run: SyncRun) -> str:
        if not run.skipped:
            return "Nothing skipped."
        return "\n".join(f"{reason}: {count}" for reason, count in run.skipped.items())

    @admin.display(description="duration")
    def duration(self, run: SyncRun) -> str:
        end = run.finished_at or timezone.now()
        return f"{(end - run.started_at).total_seconds():.1f} s"

    @admin.display(description="error")
    def short_error(self, run: SyncRun) -> str:
        return run.error[:120]

    # -- live progress: the pages reload while something runs ---------------------------------

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        running = self.get_queryset(request).filter(state=SyncState.RUNNING).exists()
        extra_context = {**(extra_context or {}), "refresh_seconds": REFRESH_SECONDS * running}
        return super().changelist_view(request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        running = self.get_queryset(request).filter(pk=object_id, state=SyncState.RUNNING)
        extra_context = {
            **(extra_context or {}),
            "refresh_seconds": REFRESH_SECONDS * running.exists(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    # -- the "Sync inventory" button -----------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        start = path(
            "start/",
            self.admin_site.admin_view(require_POST(self.start_view)),
            name="sync_syncrun_start",
        )
        return [start, *super().get_urls()]

    def start_view(self, request: HttpRequest) -> HttpResponse:
        """Start a full run for the user's organization and return to the Inventory screen."""
        if not request.user.has_perm("sync.add_syncrun"):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:catalog_item_changelist"))
        organization = organization_of(request.user)
        if organization is None:
            self.message_user(
                request, "Only a member of an organization can sync its inventory.", messages.ERROR
            )
            return back
        try:
            run = inventory.start_sync(organization, SyncTrigger.BUTTON, SyncMode.FULL)
        except inventory.SyncNotConfigured as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return back
        if run is None:
            running = inventory.running_sync(organization)
            since = (
                date_format(timezone.localtime(running.started_at), "DATETIME_FORMAT")
                if running
                else "a moment ago"
            )
            self.message_user(
                request, f"A sync is already running since {since}.", messages.WARNING
            )
        else:
            self.message_user(
                request,
                "Sync started. Its progress shows under Sync runs; this page shows the "
                "new quantities once it is done.",
                messages.SUCCESS,
            )
        return back
