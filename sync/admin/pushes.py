"""Order pushes: the outbox as an operations console (failed pushes, attempts, Retry)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ordo_integration.organizations.scoping import OrganizationScopedAdmin

# Importing the push service also connects its Confirm receivers (validation and outbox) in every
# process that loads the admin: web and worker alike.
from sync import orders as order_sync
from sync.models import OrderPush, PushAttempt, PushState


class PushAttemptInline(admin.TabularInline):
    model = PushAttempt
    extra = 0
    can_delete = False
    fields = [
        "started_at",
        "outcome",
        "response_code",
        "duration_ms",
        "message",
        "request_summary",
    ]
    readonly_fields = [
        "started_at",
        "outcome",
        "response_code",
        "duration_ms",
        "message",
        "request_summary",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OrderPush)
class OrderPushAdmin(OrganizationScopedAdmin):
    organization_path = "order__organization"
    list_display = ["order", "state", "attempts", "flourish_order_id", "last_error", "updated_at"]
    list_filter = ["state"]
    list_select_related = ["order"]
    search_fields = ["order__number", "flourish_order_id"]
    readonly_fields = [
        "order",
        "state",
        "attempts",
        "flourish_order_id",
        "last_error",
        "created_at",
        "updated_at",
    ]
    inlines = [PushAttemptInline]
    actions = ["retry_pushes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Retry selected failed pushes", permissions=["change"])
    def retry_pushes(self, request: HttpRequest, queryset: QuerySet[OrderPush]) -> None:
        retried = sum(1 for push in queryset if order_sync.retry_push(push))
        skipped = queryset.count() - retried
        self.message_user(request, f"{retried} push(es) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} push(es) skipped: only failed pushes can be retried "
                "(a rejected order is fixed by its agent and confirmed again).",
                messages.WARNING,
            )


__all__ = ["OrderPushAdmin", "PushState"]
