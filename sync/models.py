"""The integration's own records: settings and secrets, facility links, the webhook event log,
inventory sync runs, and the order push outbox with its attempts."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from ordo_integration.orders.models import Order
from ordo_integration.organizations.models import License, Organization

from .crypto import EncryptedTextField


class FlourishIntegration(models.Model):
    """One organization's link to its Flourish account."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="flourish_integration"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    base_url = models.URLField(
        "Flourish base URL",
        default="https://app.flourishsoftware.com",
        help_text="https://app.flourishsoftware.com unless Flourish told you otherwise.",
    )
    api_username = models.CharField("API username", max_length=200, blank=True)
    api_key = EncryptedTextField("API key", blank=True)
    enabled = models.BooleanField(default=True)
    inventory_sync_interval_minutes = models.PositiveIntegerField(default=15)
    check_sellable_on_confirm = models.BooleanField(
        "check sellable quantity on Confirm",
        default=False,
        help_text="Refuse to confirm an order line above the item's sellable quantity.",
    )

    # Generated once by the portal, shown to the admin to paste into Flourish (§5.1, §5.3).
    webhook_signing_key = EncryptedTextField(blank=True)
    previous_signing_key = EncryptedTextField(blank=True)
    previous_signing_key_valid_until = models.DateTimeField(null=True, blank=True)
    webhook_header_secret = EncryptedTextField(blank=True)

    last_connection_check_at = models.DateTimeField(null=True, blank=True)
    last_connection_report = models.JSONField(default=dict, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Flourish integration"

    def __str__(self) -> str:
        return f"Flourish integration of {self.organization}"


class FacilityLink(models.Model):
    """The Flourish facility whose ``license_number`` matches one of our licenses (§2.3)."""

    license = models.OneToOneField(License, on_delete=models.CASCADE, related_name="facility_link")
    facility_id = models.CharField("Flourish facility id", max_length=64)
    facility_name = models.CharField(max_length=200, blank=True)
    sales_rep_required = models.BooleanField(default=False)
    checked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.license.license_number} → {self.facility_id}"


class Verdict(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    DUPLICATE = "duplicate", "Duplicate"


class ProcessingState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    SKIPPED_STALE = "skipped_stale", "Skipped (stale)"
    UNHANDLED = "unhandled", "Unhandled"
    FAILED = "failed", "Failed"
    NOT_APPLICABLE = "n/a", "Not processed"


class WebhookEvent(models.Model):
    """Every delivery to the webhook endpoint, accepted or not."""

    integration = models.ForeignKey(
        FlourishIntegration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_events",
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resource_type = models.CharField(max_length=40, blank=True)
    action = models.CharField(max_length=20, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    resource_last_updated = models.DateTimeField(null=True, blank=True)
    raw_body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body_sha256 = models.CharField(max_length=64, db_index=True)
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    reason = models.CharField(max_length=300, blank=True)
    state = models.CharField(
        max_length=20, choices=ProcessingState.choices, default=ProcessingState.NOT_APPLICABLE
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # The same body accepted twice for one integration would be processed twice.
            models.UniqueConstraint(
                fields=["integration", "body_sha256"],
                condition=Q(verdict="accepted"),
                name="webhook_accepted_once_per_body",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type or '?'} {self.resource_id} ({self.verdict})"


class AppliedVersion(models.Model):
    """The newest ``last_updated_timestamp`` applied per resource: older events are stale."""

    integration = models.ForeignKey(FlourishIntegration, on_delete=models.CASCADE)
    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=128)
    last_updated = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "resource_type", "resource_id"],
                name="applied_version_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_id} @ {self.last_updated}"


class SyncTrigger(models.TextChoices):
    BUTTON = "button", "Sync inventory button"
    SCHEDULE = "schedule", "Schedule"
    COMMAND = "command", "Management command"
    WEBHOOK = "webhook", "Webhook"


class SyncMode(models.TextChoices):
    FULL = "full", "Full"
    DELTA = "delta", "Delta"


class SyncState(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class SyncRun(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sync_runs"
    )
    trigger = models.CharField(max_length=20, choices=SyncTrigger.choices)
    mode = models.CharField(max_length=10, choices=SyncMode.choices)
    state = models.CharField(max_length=20, choices=SyncState.choices, default=SyncState.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField(null=True, blank=True, help_text="Delta runs: changes since.")
    api_calls = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True, help_text="Skipped items by reason.")
    progress = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            # The lock: one running sync per organization, enforced by the database.
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(state="running"),
                name="one_running_sync_per_organization",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} sync of {self.organization} ({self.state})"


class PushState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUCCEEDED = "succeeded", "Succeeded"
    REJECTED = "rejected", "Rejected by Flourish"
    FAILED = "failed", "Failed (retries exhausted)"


class OrderPush(models.Model):
    """The outbox row written with Confirm: the order must become one Flourish outbound order."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="push")
    state = models.CharField(
        max_length=20, choices=PushState.choices, default=PushState.QUEUED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    flourish_order_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "order push"
        verbose_name_plural = "order pushes"

    def __str__(self) -> str:
        return f"Push of {self.order} ({self.state})"


class PushAttempt(models.Model):
    push = models.ForeignKey(OrderPush, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(default=0)
    request_summary = models.TextField(blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=40)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.push}: {self.outcome}"
