"""Orders between Ordo and Flourish: Confirm's checks, the push outbox, and the way back.

- ``validate_for_confirm`` and ``write_outbox`` answer the domain's Confirm signals
  (``ordo_integration.orders.signals``).
- ``push_order`` turns one ``OrderPush`` into exactly one Flourish outbound order
  (flourish-api.md §4.10), whatever fails; ``sync.tasks.push_order`` calls it.
- ``requeue_stalled_pushes`` queues again the pushes whose task was lost (broker down when
  Confirm enqueued it, a message dropped...); ``sync.tasks.requeue_stalled_pushes`` (beat) calls it.
- ``apply_flourish_order`` maps a Flourish order back onto its Ordo order (design.md §1.3);
  the webhook processor and ``reconcile_orders`` call it.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from flourish_client import (
    AuthError,
    DestinationRequest,
    FlourishClient,
    FlourishError,
    NotFound,
    OrderLineRequest,
    OutboundOrder,
    OutboundOrderRequest,
    TransientError,
    ValidationError,
)
from flourish_client import OrderStatus as FlourishStatus
from flourish_client import PaymentStatus as FlourishPayment
from flourish_client.client import READ_TIMEOUT_SECONDS, SalesRepRequest
from flourish_client.errors import ProtocolError
from ordo_integration.catalog.models import Stock
from ordo_integration.orders import services as order_services
from ordo_integration.orders.models import (
    EventSource,
    Order,
    OrderStatus,
    PaymentTerms,
)
from ordo_integration.orders.signals import confirm_validation, order_confirmed
from ordo_integration.organizations.models import License

from .client import client_for
from .models import FacilityLink, FlourishIntegration, OrderPush, PushAttempt, PushState
from .setup import link_unlinked_licenses

logger = logging.getLogger(__name__)

# Retries of transient failures (conventions §4): capped exponential backoff with equal jitter,
# growing with every try since the push was queued (a failure before the POST counts too).
# Tests shorten the base through the ORDER_PUSH_BACKOFF_BASE_SECONDS setting.
PUSH_BACKOFF_BASE_SECONDS = 2.0
PUSH_BACKOFF_CAP_SECONDS = 300.0
# After an ambiguous create Flourish may still be creating the order: a lookup made before it is
# done finds nothing, and the POST that follows makes a duplicate. Wait twice the read timeout
# before looking (ORDER_PUSH_AMBIGUOUS_SETTLE_SECONDS; §4.10 has no idempotency key).
AMBIGUOUS_SETTLE_SECONDS = 2.0 * READ_TIMEOUT_SECONDS
# design.md §7: "Flourish down for minutes ... resumes by itself". Retries go on for an hour
# since the push was queued (ORDER_PUSH_GIVE_UP_AFTER_SECONDS); then an admin presses Retry.
PUSH_GIVE_UP_AFTER_SECONDS = 3600.0
# A queued push untouched for this long has lost its task (broker down at enqueue, a message
# dropped). Longer than the longest retry countdown (the backoff cap) plus a run's own exchange
# with Flourish (a few reads of up to READ_TIMEOUT_SECONDS each), so that a push merely waiting
# for its countdown is not sent twice (ORDER_PUSH_STALL_SECONDS).
PUSH_STALL_SECONDS = 900.0
# Our clock and Flourish's differ a little; search and reconcile a bit further back than needed.
CLOCK_MARGIN = dt.timedelta(minutes=5)
RECONCILE_MARGIN = dt.timedelta(minutes=2)
RECONCILE_FIRST_LOOKBACK = dt.timedelta(days=1)


class Outcome(enum.StrEnum):
    """PushAttempt.outcome values."""

    IN_FLIGHT = "in flight"  # written before sending; left behind only by a crashed run
    CREATED = "created"
    ADOPTED = "adopted"  # an earlier ambiguous attempt had created it after all
    AMBIGUOUS = "ambiguous"  # timeout, connection loss or 5xx: Flourish may have created it
    RETRYABLE = "retryable"  # failed before the POST, or refused before processing (429)
    REJECTED = "rejected"
    FAILED = "failed"
    REQUEUED = "queued again"  # not a try: Confirm again or the admin's Retry re-armed the push


UNCERTAIN_OUTCOMES = (Outcome.IN_FLIGHT, Outcome.AMBIGUOUS)


def backoff_base_seconds() -> float:
    return float(getattr(settings, "ORDER_PUSH_BACKOFF_BASE_SECONDS", PUSH_BACKOFF_BASE_SECONDS))


def push_read_timeout_seconds(default: float) -> float:
    return float(getattr(settings, "ORDER_PUSH_READ_TIMEOUT_SECONDS", default))


def ambiguous_settle_seconds() -> float:
    return float(getattr(settings, "ORDER_PUSH_AMBIGUOUS_SETTLE_SECONDS", AMBIGUOUS_SETTLE_SECONDS))


def give_up_after_seconds() -> float:
    return float(getattr(settings, "ORDER_PUSH_GIVE_UP_AFTER_SECONDS", PUSH_GIVE_UP_AFTER_SECONDS))


def stall_seconds() -> float:
    return float(getattr(settings, "ORDER_PUSH_STALL_SECONDS", PUSH_STALL_SECONDS))


def backoff_seconds(attempt: int, retry_after_seconds: float | None = None) -> float:
    """Capped exponential (base * 2^(attempt-1)) with equal jitter; never below Retry-After,
    never above the cap (the stall threshold of ``requeue_stalled_pushes`` relies on it)."""
    exponent = min(max(0, attempt - 1), 32)  # 2**32 * base is far past the cap already
    ceiling = min(PUSH_BACKOFF_CAP_SECONDS, backoff_base_seconds() * 2**exponent)
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret
    return min(PUSH_BACKOFF_CAP_SECONDS, max(delay, retry_after_seconds or 0.0))


# -------------------------------------------------------------------------------------------------
# Confirm: checks only the integration can make, and the outbox row
# -------------------------------------------------------------------------------------------------


def integration_of(order: Order) -> FlourishIntegration | None:
    return FlourishIntegration.objects.filter(organization_id=order.organization_id).first()


def facility_link_for(
    license: License, integration: FlourishIntegration, client: FlourishClient | None = None
) -> FacilityLink | None:
    """The license's Flourish facility; resolved from ``list_facilities`` when not linked yet
    (the setup's Check connection normally makes the link, §2.3).

    None means Flourish answered and no facility carries the license number. A TransientError
    (Flourish down for a moment) is raised, not taken for "not matched": the caller retries
    instead of refusing the order.
    """
    link = FacilityLink.objects.filter(license=license).first()
    if link is not None:
        return link
    try:
        return link_unlinked_licenses(integration, [license], client).get(license.pk)
    except TransientError:
        raise
    except (FlourishError, ValueError) as exc:
        logger.warning("could not resolve the facility of license %s: %s", license.pk, exc)
    return None


@receiver(confirm_validation, dispatch_uid="sync.orders.validate_for_confirm")
def validate_for_confirm(sender: Any, order: Order, **kwargs: Any) -> list[str]:
    integration = integration_of(order)
    if integration is None or not integration.api_key:
        return ["The Flourish integration of your organization is not set up."]
    if not integration.enabled:
        return [
            "The Flourish integration of your organization is disabled: an Ordo Admin must "
            "enable it before orders can be confirmed."
        ]
    errors: list[str] = []
    try:
        link = facility_link_for(order.license, integration)
    except TransientError as exc:
        return [f"Flourish could not be reached to check the selling license; try again: {exc}"]
    if link is None:
        errors.append(
            f"License {order.license.license_number} is not matched to a Flourish facility "
            "— run Check connection."
        )
    elif link.sales_rep_required and not (order.sales_agent and order.sales_agent.email):
        errors.append(
            f"Facility {link.facility_name or link.facility_id} requires a sales rep: "
            "the order needs a sales agent with an email address."
        )
    lines = list(order.lines.select_related("item"))
    sellable: dict[int, Decimal] = {}
    if integration.check_sellable_on_confirm:
        sellable = dict(
            Stock.objects.filter(
                license=order.license, item__in=[line.item_id for line in lines]
            ).values_list("item_id", "sellable_qty")
        )
    for line in lines:
        item = line.item
        if not item.is_active:
            errors.append(f"Item {item.sku} ({item.name}) is inactive.")
        elif not item.flourish_item_id:
            errors.append(f"Item {item.sku} ({item.name}) is unknown in Flourish.")
        if integration.check_sellable_on_confirm:
            available = sellable.get(item.pk, Decimal(0))
            if line.quantity > available:
                errors.append(
                    f"Item {item.sku}: {line.quantity.normalize()} ordered but only "
                    f"{available.normalize()} sellable at license {order.license.license_number}."
                )
    return errors


@receiver(order_confirmed, dispatch_uid="sync.orders.write_outbox")
def write_outbox(sender: Any, order: Order, **kwargs: Any) -> OrderPush:
    """Write (or re-arm) the outbox row in Confirm's transaction; enqueue after commit.

    A row already queued or succeeded is left alone (a second Confirm is a no-op). A rejected
    row comes back here when the agent confirms again after fixing the order: re-armed with a
    fresh try count and give-up horizon.
    """
    push, created = OrderPush.objects.select_for_update().get_or_create(order=order)
    if not created and push.state in (PushState.REJECTED, PushState.FAILED):
        _rearm(push, "Confirmed again.")
    if push.state == PushState.QUEUED:
        enqueue_push(push.pk)
    return push


def _rearm(push: OrderPush, message: str) -> None:
    """Back to the queue. The "queued again" line in the attempt log starts a new count of tries
    and a new give-up horizon (``_tries_since_queued``, ``queued_since``) without a new column."""
    push.state = PushState.QUEUED
    push.last_error = ""
    push.attempts = 0
    push.save(update_fields=["state", "last_error", "attempts", "updated_at"])
    PushAttempt.objects.create(push=push, outcome=Outcome.REQUEUED, message=message)


def enqueue_push(push_id: int) -> None:
    # After commit: a worker must never look for a row that is not visible yet.
    transaction.on_commit(lambda: delay_push(push_id))


def delay_push(push_id: int) -> bool:
    """Send the push task, best effort. With the broker down, Confirm still answers and the row
    stays queued: ``requeue_stalled_pushes`` sends it once the broker is back."""
    from .tasks.orders import push_order as push_task

    try:
        push_task.delay(push_id)
    except Exception as exc:  # kombu/redis connection errors have no common base worth naming
        logger.warning(
            "could not queue order push %s (will be queued again later): %s", push_id, exc
        )
        return False
    return True


def requeue_stalled_pushes(now: dt.datetime | None = None) -> int:
    """Queue again every push left queued with no task behind it; returns how many were sent.

    A push waiting for its retry countdown was touched (``updated_at``) by its last run, less than
    ``stall_seconds()`` ago, so it is left alone; a duplicate run would be harmless anyway (the
    push row is locked with skip_locked, and its state checked, in ``push_order``). Pushes of a
    disabled integration wait here until it is enabled again.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=stall_seconds())
    stalled = OrderPush.objects.filter(
        state=PushState.QUEUED,
        updated_at__lt=cutoff,
        order__organization__flourish_integration__enabled=True,
    ).values_list("pk", flat=True)
    requeued = 0
    for push_id in stalled:
        if not delay_push(push_id):
            break  # the broker is still down: the next beat tick tries again
        # Touched, so that the next tick does not send it again while it waits in the queue.
        OrderPush.objects.filter(pk=push_id, state=PushState.QUEUED).update(updated_at=now)
        requeued += 1
    if requeued:
        logger.info("queued %s stalled order push(es) again", requeued)
    return requeued


# -------------------------------------------------------------------------------------------------
# The push
# -------------------------------------------------------------------------------------------------


class PushResult(enum.StrEnum):
    MISSING = "missing"
    BUSY = "busy"
    DISABLED = "integration disabled"
    NOTHING_TO_DO = "nothing to do"
    SUCCEEDED = "succeeded"
    REJECTED = "rejected"
    FAILED = "failed"
    RETRY = "retry"


@dataclass
class PushReport:
    result: PushResult
    retry_in_seconds: float = 0.0
    message: str = ""


def push_order(push_id: int) -> PushReport:
    """Make the push's order exist exactly once in Flourish. Safe to run twice, or at once.

    1. An "in flight" attempt is committed before anything is sent, so that a run killed
       mid-request leaves a trace the next run treats as ambiguous.
    2. The push row is then locked (skip_locked) for the whole exchange with Flourish: a second
       run of the same push finds it locked and stops; a run killed mid-request releases the lock
       with its database connection, and acks_late redelivers the task.
    3. Under the lock: after any uncertain earlier attempt, wait until Flourish has settled
       (``ambiguous_settle_seconds``), then look for the order by ``original_order_id`` first
       and adopt it instead of sending again (§4.10 has no filter on that field, so the client
       scans orders created since the push).
    4. Failures before the POST are retryable, after it ambiguous (unless Flourish refused for
       good); retries back off up to PUSH_BACKOFF_CAP_SECONDS and stop, FAILED, once the push
       has been queued for ``give_up_after_seconds``.

    An unexpected exception rolls the run back: the push stays queued, with an "in flight"
    attempt, for the task's next delivery or ``requeue_stalled_pushes``.
    """
    if not OrderPush.objects.filter(pk=push_id, state=PushState.QUEUED).exists():
        if not OrderPush.objects.filter(pk=push_id).exists():
            logger.info("order push %s no longer exists", push_id)
            return PushReport(PushResult.MISSING)
        return PushReport(PushResult.NOTHING_TO_DO)
    marker = PushAttempt.objects.create(push_id=push_id, outcome=Outcome.IN_FLIGHT)
    # An exception (our bug, the database) leaves the marker "in flight": the next run will look
    # before sending, and the error reaches Celery's log.
    with transaction.atomic():
        push = (
            OrderPush.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "order",
                "order__customer",
                "order__license",
                "order__sales_agent",
                "order__organization",
            )
            .filter(pk=push_id)
            .first()
        )
        if push is None:
            marker.delete()
            return PushReport(PushResult.BUSY)
        if push.state != PushState.QUEUED:
            marker.delete()
            return PushReport(PushResult.NOTHING_TO_DO)
        return _push_locked(push, marker)


def _push_locked(push: OrderPush, marker: PushAttempt) -> PushReport:
    order = push.order
    integration = integration_of(order)
    if integration is None or not integration.api_key:
        return _finish(push, marker, PushState.FAILED, Outcome.FAILED, "No Flourish integration.")
    if not integration.enabled:
        # Not a try: nothing is sent and the push stays queued. updated_at is left as it was, so
        # requeue_stalled_pushes sends it within a minute of the integration being enabled.
        marker.delete()
        message = (
            "The Flourish integration is disabled: the order will be sent once an Ordo Admin "
            "enables it again."
        )
        OrderPush.objects.filter(pk=push.pk).update(last_error=message)
        return PushReport(PushResult.DISABLED, message=message)
    uncertain = _last_uncertain_attempt(push, marker)
    if uncertain is not None:
        settle_left = _settle_left_seconds(uncertain)
        if settle_left > 0:
            # Too early to trust a lookup (AMBIGUOUS_SETTLE_SECONDS): come back, send nothing.
            marker.delete()
            return PushReport(
                PushResult.RETRY,
                retry_in_seconds=settle_left,
                message="Waiting for Flourish to settle after an uncertain attempt.",
            )
    started = time.monotonic()
    client = client_for(integration)
    # A read timeout on the create is an ambiguous outcome (Flourish may have created the order);
    # the setting lets tests provoke one without waiting the client's default 30 s.
    client.timeout = (client.timeout[0], push_read_timeout_seconds(client.timeout[1]))
    summary = ""
    sent = False
    try:
        link = facility_link_for(order.license, integration, client)
        if link is None:
            raise ValidationError(
                f"License {order.license.license_number} is not matched to a Flourish facility."
            )
        if uncertain is not None:
            found = client.find_outbound_order_by_original_id(
                order.number,
                created_since=push.created_at - CLOCK_MARGIN,
                facility_id=link.facility_id,
            )
            if found is not None:
                _adopt(push, found)
                return _finish(
                    push,
                    marker,
                    PushState.SUCCEEDED,
                    Outcome.ADOPTED,
                    f"Found Flourish order {found.id} from an earlier attempt; not sent again.",
                    started=started,
                    response_code=200,
                )
        request = build_payload(order, link, client)
        summary = summarise(request, link)
        push.attempts += 1
        # From here on Flourish may have the order, whatever goes wrong (§4.10: no idempotency
        # key), so any failure but a definite refusal is ambiguous.
        sent = True
        created = client.create_outbound_order(request, facility_id=link.facility_id)
        if not created.id:
            raise ProtocolError("Flourish answered the create without an order id", 200)
    except ValidationError as exc:
        message = f"Flourish refused the order: {exc.message}"
        report = _finish(
            push,
            marker,
            PushState.REJECTED,
            Outcome.REJECTED,
            message,
            started=started,
            response_code=exc.status_code,
            summary=summary,
        )
        order_services.reopen(order, message)
        return report
    except (FlourishError, ValueError) as exc:
        if not sent and isinstance(exc, ValueError):
            raise  # our own bug building the request: the marker stays, the push stays queued
        outcome = _outcome_of(exc, sent)
        status_code = getattr(exc, "status_code", None)
        if outcome == Outcome.FAILED:
            # Permanent but not about the order itself (credentials, protocol): an admin fixes
            # the cause and presses Retry.
            message = str(exc)
            order_services.record_event(order, EventSource.PUSH, f"Push failed: {message}")
            return _finish(
                push,
                marker,
                PushState.FAILED,
                outcome,
                message,
                started=started,
                response_code=status_code,
                summary=summary,
            )
        return _retry_later(push, marker, exc, outcome, started=started, summary=summary)
    finally:
        client.close()
    _adopt(push, created)
    return _finish(
        push,
        marker,
        PushState.SUCCEEDED,
        Outcome.CREATED,
        f"Created Flourish order {created.id}.",
        started=started,
        response_code=200,
        summary=summary,
    )


def _outcome_of(exc: Exception, sent: bool) -> Outcome:
    """How a failure counts (conventions §4, flourish-api.md §3.5, §3.6)."""
    if isinstance(exc, AuthError | NotFound):
        return Outcome.FAILED  # refused outright: nothing was created, retrying will not help
    if isinstance(exc, TransientError) and exc.status_code == 429:
        return Outcome.RETRYABLE  # refused before processing: nothing was created
    if sent:
        return Outcome.AMBIGUOUS  # timeout, 5xx, an answer we cannot read: maybe created
    return Outcome.RETRYABLE if isinstance(exc, TransientError) else Outcome.FAILED


def _retry_later(
    push: OrderPush,
    marker: PushAttempt,
    exc: Exception,
    outcome: Outcome,
    *,
    started: float,
    summary: str,
) -> PushReport:
    status_code = getattr(exc, "status_code", None)
    since = queued_since(push)
    if timezone.now() - since >= dt.timedelta(seconds=give_up_after_seconds()):
        minutes = int((timezone.now() - since).total_seconds() // 60)
        message = f"Gave up after {minutes} min of retries: {exc}"
        order_services.record_event(push.order, EventSource.PUSH, message)
        return _finish(
            push,
            marker,
            PushState.FAILED,
            outcome,
            message,
            started=started,
            response_code=status_code,
            summary=summary,
        )
    _finish(
        push,
        marker,
        PushState.QUEUED,
        outcome,
        str(exc),
        started=started,
        response_code=status_code,
        summary=summary,
    )
    delay = backoff_seconds(_tries_since_queued(push), getattr(exc, "retry_after_seconds", None))
    if outcome == Outcome.AMBIGUOUS:
        delay = max(delay, ambiguous_settle_seconds())
    return PushReport(PushResult.RETRY, retry_in_seconds=delay, message=str(exc))


def _attempts_since_queued(push: OrderPush) -> Any:
    rearmed = push.attempt_log.filter(outcome=Outcome.REQUEUED).order_by("-pk").first()
    attempts = push.attempt_log.all()
    return attempts.filter(pk__gt=rearmed.pk) if rearmed is not None else attempts


def _tries_since_queued(push: OrderPush) -> int:
    """Every run that talked to Flourish since the push was (re)queued, this one included."""
    return int(_attempts_since_queued(push).count())


def queued_since(push: OrderPush) -> dt.datetime:
    """When the push was queued: created with Confirm, or re-armed since (a "queued again" line)."""
    rearmed = push.attempt_log.filter(outcome=Outcome.REQUEUED).order_by("-pk").first()
    return rearmed.started_at if rearmed is not None else push.created_at


def _last_uncertain_attempt(push: OrderPush, marker: PushAttempt) -> PushAttempt | None:
    """The latest attempt that may have created the order: ambiguous, left in flight by a run
    that died, or (rows written before ambiguity was recorded) failed after building a body."""
    return (
        push.attempt_log.exclude(pk=marker.pk)
        .filter(
            Q(outcome__in=UNCERTAIN_OUTCOMES) | Q(outcome=Outcome.FAILED, request_summary__gt="")
        )
        .order_by("-pk")
        .first()
    )


def _settle_left_seconds(attempt: PushAttempt) -> float:
    ended = attempt.started_at + dt.timedelta(milliseconds=attempt.duration_ms)
    settled = ended + dt.timedelta(seconds=ambiguous_settle_seconds())
    return max(0.0, (settled - timezone.now()).total_seconds())


def _adopt(push: OrderPush, flourish_order: OutboundOrder) -> None:
    push.flourish_order_id = flourish_order.id
    order = push.order
    Order.objects.filter(pk=order.pk).update(flourish_order_id=flourish_order.id)
    order.flourish_order_id = flourish_order.id
    order_services.advance_status(
        order,
        OrderStatus.AWAITING_DELIVERY,
        EventSource.PUSH,
        f"Flourish order {flourish_order.id} created.",
    )
    _apply_mapped(order, flourish_order, EventSource.PUSH)


def _finish(
    push: OrderPush,
    marker: PushAttempt,
    state: str,
    outcome: str,
    message: str,
    *,
    started: float | None = None,
    response_code: int | None = None,
    summary: str = "",
) -> PushReport:
    marker.outcome = outcome
    marker.message = message
    marker.response_code = response_code
    marker.request_summary = summary
    if started is not None:
        marker.duration_ms = int((time.monotonic() - started) * 1000)
    marker.save()
    push.state = state
    push.last_error = "" if state == PushState.SUCCEEDED else message
    push.save(update_fields=["state", "last_error", "attempts", "flourish_order_id", "updated_at"])
    result = {
        PushState.SUCCEEDED: PushResult.SUCCEEDED,
        PushState.REJECTED: PushResult.REJECTED,
        PushState.FAILED: PushResult.FAILED,
    }.get(PushState(state), PushResult.RETRY)
    return PushReport(result, message=message)


def build_payload(order: Order, link: FacilityLink, client: FlourishClient) -> OutboundOrderRequest:
    """The create body of flourish-api.md §4.10, lines by SKU like the official client."""
    customer = order.customer
    destination = next(iter(client.list_destinations(license_number=customer.license_number)), None)
    if destination is not None and destination.license_number == customer.license_number:
        destination_request = DestinationRequest.by_id(destination.id)
    else:
        first, _, last = customer.contact_name.partition(" ")
        # A full object: Flourish searches by name and creates the destination if missing (§4.7).
        destination_request = DestinationRequest(
            name=customer.name,
            license_number=customer.license_number,
            license_type=customer.license_type or None,
            address_line_1=customer.address_line_1 or None,
            address_line_2=customer.address_line_2 or None,
            city=customer.city or None,
            state=customer.state or None,
            zip_code=customer.zip_code or None,
            country=customer.country or None,
            company_email=customer.email or None,
            company_phone_number=customer.phone or None,
            contact={
                "first_name": first,
                "last_name": last,
                "email": customer.email,
                "phone_number": customer.phone,
            },
        )
    notes: list[dict[str, Any]] = []
    text = order.notes.strip()
    if order.requested_delivery_date:
        text = f"{text}\nRequested delivery: {order.requested_delivery_date.isoformat()}".strip()
    if text:
        notes.append({"subject": "From Ordo", "note": text, "internal_only": False})
    lines = tuple(
        OrderLineRequest(
            sku=line.item.sku,
            order_qty=line.quantity,
            unit_price=line.unit_price,
            discount_price=line.discount,
        )
        for line in order.lines.select_related("item")
    )
    rep_id, rep_by_email = _sales_rep(order, link, client)
    return OutboundOrderRequest(
        original_order_id=order.number,
        destination=destination_request,
        lines=lines,
        order_timestamp=order.confirmed_at or timezone.now(),
        sales_rep_id=rep_id,
        sales_rep=rep_by_email,
        notes=tuple(notes),
    )


def _sales_rep(
    order: Order, link: FacilityLink, client: FlourishClient
) -> tuple[str | None, SalesRepRequest | None]:
    """``{id}`` of the rep with the agent's email when the facility needs one (§4.8); else an
    email object, which Flourish matches by email or creates."""
    agent = order.sales_agent
    if not link.sales_rep_required or agent is None or not agent.email:
        return None, None
    email = agent.email.strip().lower()
    for rep in client.list_sales_reps(facility_id=link.facility_id):
        if (rep.email or "").strip().lower() == email:
            return rep.sales_rep_id, None
    return None, SalesRepRequest(
        email=agent.email, first_name=agent.first_name, last_name=agent.last_name
    )


def summarise(request: OutboundOrderRequest, link: FacilityLink) -> str:
    """What was sent, for the attempt log: no keys, no personal contact details."""
    destination = request.destination
    dest = (
        f"destination id {destination.id}"
        if destination.id is not None
        else f"new destination {destination.name}"
    )
    lines = ", ".join(f"{line.sku} x {_plain(line.order_qty)}" for line in request.lines)
    return (
        f"POST /v1/outbound-orders FacilityID {link.facility_id}: original_order_id "
        f"{request.original_order_id}, {dest}, lines {lines}"
    )


def _plain(quantity: Decimal) -> str:
    return f"{Decimal(quantity).normalize():f}"


def retry_push(push: OrderPush) -> bool:
    """The admin's Retry: a failed push (retries exhausted, or credentials refused) goes back to
    the queue with a fresh attempt budget. A rejected order is fixed and confirmed again by its
    agent instead, since Flourish will refuse the same body again."""
    with transaction.atomic():
        locked = OrderPush.objects.select_for_update().filter(pk=push.pk).first()
        if locked is None or locked.state != PushState.FAILED:
            return False
        # An earlier attempt may have created the order (ambiguous, or failed after sending):
        # push_order looks for it before sending again, since the attempt log is kept.
        _rearm(locked, "Retried by an admin.")
        enqueue_push(locked.pk)
    return True


# -------------------------------------------------------------------------------------------------
# Back from Flourish
# -------------------------------------------------------------------------------------------------

DELIVERED_STATUSES = {FlourishStatus.SHIPPED.value, FlourishStatus.COMPLETED.value}


def find_order(integration: FlourishIntegration, flourish_order: OutboundOrder) -> Order | None:
    """By Flourish id, else by our number in ``original_order_id`` among confirmed orders only;
    always within the integration's own organization.

    A draft gets its number on first save, long before Confirm: a Flourish order that happens to
    carry that number (typed by hand in Flourish, or from another system) is not its order.
    """
    orders = Order.objects.filter(organization_id=integration.organization_id)
    found = (
        orders.filter(flourish_order_id=flourish_order.id).first() if flourish_order.id else None
    )
    if found is None and flourish_order.original_order_id:
        found = orders.filter(
            number=flourish_order.original_order_id, confirmed_at__isnull=False
        ).first()
    return found


def apply_flourish_order(
    integration: FlourishIntegration, order: OutboundOrder, source: str
) -> None:
    """Apply a Flourish outbound order (webhook or reconciliation) to its Ordo order.

    Unknown orders (made in Flourish directly) are ignored. Status only moves forward
    (``advance_status``), so duplicate, reordered or stale events change nothing.
    """
    ordo_order = find_order(integration, order)
    if ordo_order is None:
        logger.debug("Flourish order %s is not an Ordo order; ignored", order.id)
        return
    if ordo_order.confirmed_at is None and not ordo_order.flourish_order_id:
        # Never sent (a draft, or reopened after a refusal): nothing in Flourish is its order.
        logger.info("Flourish order %s matches unconfirmed order %s; ignored", order.id, ordo_order)
        return
    if not ordo_order.flourish_order_id and order.id:
        # A push whose answer never arrived: the order exists in Flourish all the same.
        Order.objects.filter(pk=ordo_order.pk, flourish_order_id="").update(
            flourish_order_id=order.id
        )
        ordo_order.flourish_order_id = order.id
    if ordo_order.status == OrderStatus.PENDING and ordo_order.confirmed_at is not None:
        order_services.advance_status(
            ordo_order,
            OrderStatus.AWAITING_DELIVERY,
            source,
            f"Flourish order {order.id} exists ({order.order_status}).",
        )
    _apply_mapped(ordo_order, order, source)


def _apply_mapped(ordo_order: Order, order: OutboundOrder, source: str) -> None:
    with transaction.atomic():
        current = Order.objects.select_for_update().get(pk=ordo_order.pk)
        last_seen = current.flourish_last_updated
        stale = (
            last_seen is not None
            and order.last_updated_timestamp is not None
            and order.last_updated_timestamp < last_seen
        )
        if stale:
            return
        Order.objects.filter(pk=current.pk).update(
            flourish_order_status=order.order_status,
            flourish_payment_status=order.payment_status or "",
            flourish_last_updated=order.last_updated_timestamp or last_seen,
        )
    ordo_order.flourish_order_status = order.order_status
    ordo_order.flourish_payment_status = order.payment_status or ""
    label = f"Flourish: {order.order_status}, payment {order.payment_status or '—'}."
    for target in target_statuses(ordo_order.payment_terms, order):
        order_services.advance_status(ordo_order, target, source, label)


def target_statuses(payment_terms: str, order: OutboundOrder) -> Iterable[str]:
    """design.md §1.3, in the order the moves must be made."""
    if order.order_status == FlourishStatus.CANCELLED:
        yield OrderStatus.CANCELLED
        return
    if order.order_status in DELIVERED_STATUSES:
        yield OrderStatus.DELIVERED
        if payment_terms == PaymentTerms.CASH_ON_DELIVERY:
            # Cash on delivery: shipped means paid (flourish-api.md §4.10 payment_status note).
            yield OrderStatus.PAID
    if order.payment_status == FlourishPayment.PAID:
        yield OrderStatus.PAID


# -------------------------------------------------------------------------------------------------
# Reconciliation
# -------------------------------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    integrations: int = 0
    orders_seen: int = 0
    errors: int = 0


def reconcile_integration(integration: FlourishIntegration) -> int:
    """Apply every outbound order changed since the last check; returns how many were seen.

    ``last_reconciled_at`` becomes this run's start only when the run finished, so a failed run
    is simply repeated from the same point next time.
    """
    started_at = timezone.now()
    since = (
        integration.last_reconciled_at - RECONCILE_MARGIN
        if integration.last_reconciled_at
        else started_at - RECONCILE_FIRST_LOOKBACK
    )
    seen = 0
    with client_for(integration) as client:
        for flourish_order in client.list_outbound_orders(last_updated_since=since):
            seen += 1
            apply_flourish_order(integration, flourish_order, source=EventSource.RECONCILIATION)
    FlourishIntegration.objects.filter(pk=integration.pk).update(last_reconciled_at=started_at)
    integration.last_reconciled_at = started_at
    return seen


def reconcile_orders() -> ReconcileReport:
    report = ReconcileReport()
    for integration in FlourishIntegration.objects.filter(enabled=True).order_by("pk"):
        if not integration.api_key:
            continue
        report.integrations += 1
        try:
            report.orders_seen += reconcile_integration(integration)
        except (FlourishError, ValueError) as exc:
            report.errors += 1
            logger.warning("reconciliation of integration %s failed: %s", integration.pk, exc)
    return report
