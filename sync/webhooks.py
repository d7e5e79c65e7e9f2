"""Flourish webhooks: intake (authenticate, record, enqueue) and processing (idempotency, stale
check, dispatch to the inventory and order services).

Intake answers within one short transaction and never touches domain data: Flourish documents
no retry policy (flourish-api.md §5.4), so the receiver must answer 2xx fast and leave the work
to a Celery task that runs after commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import importlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from flourish_client import (
    SIGNATURE_HEADER,
    MalformedEvent,
    TransientError,
    parse_event,
    verify,
)
from flourish_client import WebhookEvent as FlourishEvent

from .models import AppliedVersion, FlourishIntegration, ProcessingState, Verdict, WebhookEvent
from .setup import INTEGRATION_HEADER, SECRET_HEADER

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024

# The resource types Flourish's own receiver handles (§5.2); "outbound_order" is accepted too
# because the UI calls the event "Outbound Order" and the wire name is only inferred (§8.2).
KNOWN_RESOURCE_TYPES = frozenset({"order", "outbound_order", "inventory_summary", "item"})

# Headers worth keeping on the event log. The secret header and the signature are recorded only
# as present/matched, never by value.
_RECORDED_HEADERS = ("Content-Type", "Content-Length", "User-Agent", INTEGRATION_HEADER)


def max_body_bytes() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


# ---------------------------------------------------------------------------------------------
# Intake
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the view answers: an HTTP status and a short JSON body."""

    status: int
    body: dict[str, Any]
    event: WebhookEvent


class _Rejection(Exception):
    def __init__(self, status: int, reason: str, keep_body: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        # Only a delivery that passed authentication has its body kept: anyone can post
        # anything to an endpoint URL, and storing unauthenticated bodies would let them fill
        # the disk. Its hash and size are always recorded.
        self.keep_body = keep_body


def receive(
    integration_uuid: uuid.UUID,
    headers: Mapping[str, str],
    read_body: Callable[[], bytes],
) -> Answer:
    """Check a delivery, record it as a ``WebhookEvent`` and, when accepted, enqueue processing.

    ``read_body`` is called only once the declared length is within the cap, so an oversized
    delivery is refused without reading it. Checks, in order (each failure is recorded):

    1. body size ≤ ``WEBHOOK_MAX_BODY_BYTES`` (declared and actual) → else 413;
    2. the integration exists (404) and is enabled (403);
    3. both custom headers match (403, §5.3);
    4. ``Auth-Signature`` is present and valid under the current key, or under the previous key
       until its rotation window ends (403: a missing signature is an authentication failure
       too, so every authentication problem answers 403 and every malformed body 400);
    5. the body is a JSON envelope with ``resource_type`` and ``data`` (400);
    6. the resource type is one we handle (400).
    """
    integration: FlourishIntegration | None = None
    body = b""
    recorded = _recorded_headers(headers)
    try:
        declared = _declared_length(headers)
        if declared is not None and declared > max_body_bytes():
            raise _Rejection(413, f"body larger than {max_body_bytes()} bytes")
        body = read_body()
        if len(body) > max_body_bytes():
            recorded["body_bytes"] = len(body)
            body = b""  # not worth keeping, and it could be anything
            raise _Rejection(413, f"body larger than {max_body_bytes()} bytes")
        integration = FlourishIntegration.objects.filter(uuid=integration_uuid).first()
        if integration is None:
            raise _Rejection(404, "unknown integration")
        if not integration.enabled:
            raise _Rejection(403, "integration disabled")
        _authenticate(integration, headers, body, recorded)
        try:
            event = parse_event(body)
        except MalformedEvent as exc:
            raise _Rejection(400, f"malformed event: {exc}", keep_body=True) from None
        if not event.supported:
            raise _Rejection(
                400, f"unknown resource type {event.resource_type!r}"[:200], keep_body=True
            )
    except _Rejection as rejection:
        return _reject(integration, integration_uuid, body, recorded, rejection)
    return _accept(integration, event, body, recorded)


def record_rate_limited(integration_uuid: uuid.UUID, headers: Mapping[str, str]) -> WebhookEvent:
    """Record a delivery refused by the per-integration rate limit (answered 429 by the view)."""
    integration = FlourishIntegration.objects.filter(uuid=integration_uuid).first()
    return _reject(
        integration,
        integration_uuid,
        b"",
        _recorded_headers(headers),
        _Rejection(429, "rate limited: too many deliveries for this integration"),
    ).event


def _declared_length(headers: Mapping[str, str]) -> int | None:
    try:
        return int(headers.get("Content-Length") or "")
    except ValueError:
        return None


def _recorded_headers(headers: Mapping[str, str]) -> dict[str, Any]:
    recorded: dict[str, Any] = {
        name: headers[name][:200] for name in _RECORDED_HEADERS if headers.get(name)
    }
    recorded[f"{SECRET_HEADER} present"] = bool(headers.get(SECRET_HEADER))
    recorded[f"{SIGNATURE_HEADER} present"] = bool(headers.get(SIGNATURE_HEADER))
    return recorded


def _authenticate(
    integration: FlourishIntegration,
    headers: Mapping[str, str],
    body: bytes,
    recorded: dict[str, Any],
) -> None:
    if headers.get(INTEGRATION_HEADER, "").strip() != str(integration.uuid):
        raise _Rejection(403, f"{INTEGRATION_HEADER} header missing or wrong")
    secret_ok = bool(integration.webhook_header_secret) and hmac.compare_digest(
        headers.get(SECRET_HEADER, "").strip().encode(),
        integration.webhook_header_secret.encode(),
    )
    recorded[f"{SECRET_HEADER} matched"] = secret_ok
    if not secret_ok:
        raise _Rejection(403, f"{SECRET_HEADER} header missing or wrong")
    signature = headers.get(SIGNATURE_HEADER)
    if not signature:
        raise _Rejection(403, f"{SIGNATURE_HEADER} header missing")
    matched = signing_key_matching(integration, body, signature)
    recorded[f"{SIGNATURE_HEADER} matched"] = matched or False
    if matched is None:
        raise _Rejection(403, f"{SIGNATURE_HEADER} does not match the signing key")


def signing_key_matching(
    integration: FlourishIntegration, body: bytes, signature: str
) -> str | None:
    """ "current" or "previous" (still inside its rotation window) when the signature verifies."""
    if verify(body, signature, integration.webhook_signing_key):
        return "current"
    until = integration.previous_signing_key_valid_until
    in_window = until is not None and timezone.now() < until
    if in_window and verify(body, signature, integration.previous_signing_key):
        return "previous"
    return None


def _body_text(body: bytes) -> str:
    # PostgreSQL text cannot hold NUL; the hash still identifies the exact bytes.
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _reject(
    integration: FlourishIntegration | None,
    integration_uuid: uuid.UUID,
    body: bytes,
    recorded: dict[str, Any],
    rejection: _Rejection,
) -> Answer:
    event = WebhookEvent.objects.create(
        integration=integration,
        raw_body=_body_text(body) if rejection.keep_body else "",
        headers={"body_bytes": len(body), **recorded, "url integration": str(integration_uuid)},
        body_sha256=hashlib.sha256(body).hexdigest(),
        verdict=Verdict.REJECTED,
        reason=rejection.reason[:300],
        state=ProcessingState.NOT_APPLICABLE,
    )
    # Only the reason and ids: never header values or the body, which may carry secrets.
    logger.warning(
        "Webhook for integration %s rejected (%s): %s",
        integration_uuid,
        rejection.status,
        rejection.reason,
    )
    return Answer(rejection.status, {"status": "rejected", "reason": rejection.reason}, event)


def _accept(
    integration: FlourishIntegration,
    parsed: FlourishEvent,
    body: bytes,
    recorded: dict[str, Any],
) -> Answer:
    body_sha256 = hashlib.sha256(body).hexdigest()
    fields: dict[str, Any] = {
        "integration": integration,
        "resource_type": parsed.resource_type,
        "action": parsed.action[:20],
        "resource_id": (parsed.resource_id or "")[:64],
        "resource_last_updated": parsed.last_updated_timestamp,
        "raw_body": _body_text(body),
        "headers": recorded,
        "body_sha256": body_sha256,
    }
    try:
        # No look-up first: the partial unique constraint webhook_accepted_once_per_body decides,
        # also between two identical deliveries arriving at once. The atomic block (a savepoint
        # when nested) keeps the connection usable after the IntegrityError.
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                **fields, verdict=Verdict.ACCEPTED, state=ProcessingState.PENDING
            )
    except IntegrityError:
        original = _accepted_with_body(integration, body_sha256)
    else:
        enqueue_processing(event.pk)
        return Answer(200, {"status": "accepted", "event": event.pk}, event)
    duplicate = WebhookEvent.objects.create(
        **fields,
        verdict=Verdict.DUPLICATE,
        reason=f"same body as event {original.pk}" if original else "same body as an event",
        state=ProcessingState.NOT_APPLICABLE,
    )
    return Answer(
        200,
        {"status": "duplicate", "event": duplicate.pk, "original": original and original.pk},
        duplicate,
    )


def _accepted_with_body(integration: FlourishIntegration, body_sha256: str) -> WebhookEvent | None:
    return WebhookEvent.objects.filter(
        integration=integration, body_sha256=body_sha256, verdict=Verdict.ACCEPTED
    ).first()


def enqueue_processing(event_id: int) -> None:
    """Queue processing once the event row is committed (the worker must be able to read it).

    Best effort: when the broker is unreachable the event is already stored as pending, Flourish
    still gets its 200, and ``requeue_stalled_events`` (beat) queues it once the broker is back.
    """
    from .tasks.webhooks import process_webhook_event

    def send() -> None:
        try:
            process_webhook_event.delay(event_id)
        except Exception:
            logger.warning(
                "Could not queue webhook event %s; it stays pending for the requeue task",
                event_id,
                exc_info=True,
            )

    transaction.on_commit(send)


# An accepted event still pending after this long was never queued (broker down at intake) or
# its message was lost: queue it again. Longer than a worker needs for a healthy backlog.
STALLED_AFTER = dt.timedelta(minutes=2)
MAX_PROCESSING_ATTEMPTS = 6


def requeue_stalled_events(now: dt.datetime | None = None) -> int:
    """Queue accepted events that are pending, or failed with attempts left, and idle for
    ``STALLED_AFTER``. Safe to overlap with a live retry: processing locks the event row and
    leaves an event in a final state alone."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    stalled = WebhookEvent.objects.filter(verdict=Verdict.ACCEPTED).filter(
        Q(state=ProcessingState.PENDING, received_at__lt=cutoff)
        & (Q(processed_at__isnull=True) | Q(processed_at__lt=cutoff))
        | Q(
            state=ProcessingState.FAILED,
            attempts__lt=MAX_PROCESSING_ATTEMPTS,
            processed_at__lt=cutoff,
        )
    )
    ids = list(stalled.values_list("pk", flat=True)[:1000])
    for event_id in ids:
        enqueue_processing(event_id)
    return len(ids)


# ---------------------------------------------------------------------------------------------
# Processing
# ---------------------------------------------------------------------------------------------

# resource type (as parse_event normalises it) → (module, function). Resolved lazily: the
# inventory and order services are written in their own issues; until one exists, events of its
# type are kept and marked unhandled so that a Reprocess later applies them.
HANDLERS: dict[str, tuple[str, str]] = {
    "order": ("sync.orders", "apply_flourish_order"),
    "item": ("sync.inventory", "apply_item"),
    "inventory_summary": ("sync.inventory", "apply_inventory_row"),
}

FINAL_STATES = frozenset(
    {
        ProcessingState.DONE,
        ProcessingState.SKIPPED_STALE,
        ProcessingState.UNHANDLED,
        ProcessingState.NOT_APPLICABLE,
    }
)


@dataclass(frozen=True)
class Processed:
    """The outcome of one processing attempt; ``retryable`` when a retry may succeed."""

    state: str
    retryable: bool = False


def handler_for(resource_type: str) -> Callable[..., None] | None:
    target = HANDLERS.get(resource_type)
    if target is None:
        return None
    module_name, function_name = target
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None
    handler = getattr(module, function_name, None)
    return handler if callable(handler) else None


def process_event(event_id: int) -> Processed | None:
    """Apply one accepted event to the integration's own organization, at most once.

    Safe to run twice (acks_late redelivers after a worker dies): the row lock serialises
    concurrent runs, and an event already in a final state is left alone. Returns None when the
    event no longer exists.
    """
    try:
        with transaction.atomic():
            event = (
                WebhookEvent.objects.select_for_update(of=("self",))
                .select_related("integration__organization")
                .filter(pk=event_id)
                .first()
            )
            if event is None:
                logger.info("Webhook event %s no longer exists; nothing to process", event_id)
                return None
            if event.verdict != Verdict.ACCEPTED or event.state in FINAL_STATES:
                return Processed(event.state)
            if event.integration is None:
                return _finish(event, ProcessingState.FAILED, "the integration was deleted")
            return _apply(event, event.integration)
    except Exception as exc:
        # The transaction rolled back whatever the handler did; record why, outside it.
        # Flourish unreachable, or our database blinked (connection lost, deadlock): worth a retry.
        retryable = isinstance(exc, TransientError | OperationalError | InterfaceError)
        logger.exception("Webhook event %s failed (retryable: %s)", event_id, retryable)
        WebhookEvent.objects.filter(pk=event_id).update(
            state=ProcessingState.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            attempts=F("attempts") + 1,
            processed_at=timezone.now(),
        )
        return Processed(ProcessingState.FAILED, retryable=retryable)


def _apply(event: WebhookEvent, integration: FlourishIntegration) -> Processed:
    parsed = parse_event(event.raw_body.encode("utf-8"))
    handler = handler_for(parsed.resource_type)
    if handler is None:
        return _finish(event, ProcessingState.UNHANDLED, f"no handler for {parsed.resource_type}")
    resource_id = parsed.resource_id
    updated = parsed.last_updated_timestamp
    if resource_id and updated is not None and _is_stale(integration, parsed, updated):
        return _finish(event, ProcessingState.SKIPPED_STALE)
    if parsed.resource_type == "order":
        handler(integration, parsed.data, "webhook")
    elif parsed.resource_type == "item" and parsed.action == "delete" and resource_id:
        # The record of a deleted item would bring it back if applied: it becomes inactive.
        from .inventory import deactivate_item

        deactivate_item(integration, resource_id)
    else:
        handler(integration, parsed.data)
    return _finish(event, ProcessingState.DONE)


def _is_stale(
    integration: FlourishIntegration, parsed: FlourishEvent, updated: dt.datetime
) -> bool:
    """Lock this resource's applied version; True when the event is older than it (§5.2, §5.4).

    The row is created first (ignoring a conflict) so that two events of the same resource,
    processed at once, queue on its lock instead of both seeing "nothing applied yet". An equal
    timestamp is applied again: the data is declarative, so re-applying it is harmless.
    """
    key = {
        "integration": integration,
        "resource_type": parsed.resource_type,
        "resource_id": (parsed.resource_id or "")[:128],
    }
    AppliedVersion.objects.bulk_create(
        [AppliedVersion(**key, last_updated=updated)], ignore_conflicts=True
    )
    applied = AppliedVersion.objects.select_for_update().get(**key)
    if updated < applied.last_updated:
        return True
    if updated > applied.last_updated:
        applied.last_updated = updated
        applied.save(update_fields=["last_updated"])
    return False


def _finish(event: WebhookEvent, state: str, error: str = "") -> Processed:
    event.state = state
    event.error = error
    event.attempts += 1
    event.processed_at = timezone.now()
    event.save(update_fields=["state", "error", "attempts", "processed_at"])
    return Processed(state)


def reprocess(events: QuerySet[WebhookEvent]) -> int:
    """Put accepted events back to pending and enqueue them; returns how many were queued."""
    ids = list(events.filter(verdict=Verdict.ACCEPTED).values_list("pk", flat=True))
    WebhookEvent.objects.filter(pk__in=ids).update(state=ProcessingState.PENDING, error="")
    for event_id in ids:
        enqueue_processing(event_id)
    return len(ids)
