"""Order workflow on the Ordo side: numbers, Confirm, and the forward-only status machine.

Nothing here knows Flourish. Confirm asks the receivers of ``signals.confirm_validation`` for the
checks it cannot make itself, and hands over to ``signals.order_confirmed`` (which ``sync``
answers by writing its outbox row) in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone

from ordo_integration.organizations.models import Organization

from .models import EventSource, Order, OrderEvent, OrderStatus
from .signals import confirm_validation, order_confirmed

NUMBER_PREFIX = "ORD-"
NUMBER_DIGITS = 6
_NUMBER_PATTERN = re.compile(rf"^{re.escape(NUMBER_PREFIX)}(\d+)$")

# The status machine (design.md §1.3): a rank per status; an order only moves to a higher rank.
# Cancelled is reachable only from the open statuses (Flourish refuses to cancel a shipped order,
# flourish-api.md §4.10) and is final.
_RANK = {
    OrderStatus.PENDING: 0,
    OrderStatus.AWAITING_DELIVERY: 1,
    OrderStatus.DELIVERED: 2,
    OrderStatus.PAID: 3,
}
_CANCELLABLE_FROM = {OrderStatus.PENDING, OrderStatus.AWAITING_DELIVERY}


def is_editable(order: Order) -> bool:
    """Pending and not yet handed to Flourish: once confirmed, the push may be in flight."""
    return order.status == OrderStatus.PENDING and order.confirmed_at is None


def can_move(from_status: str, to_status: str) -> bool:
    if from_status == to_status or from_status == OrderStatus.CANCELLED:
        return False
    if to_status == OrderStatus.CANCELLED:
        return from_status in _CANCELLABLE_FROM
    return _RANK[OrderStatus(to_status)] > _RANK[OrderStatus(from_status)]


def advance_status(
    order: Order, to_status: str, source: str, message: str = "", actor: Any = None
) -> bool:
    """Move the order forward to ``to_status`` and record it on the timeline.

    Returns False (and changes nothing) when the move would go backwards or sideways, so that a
    stale or repeated event is harmless. The row is locked so two sources (a webhook and the
    reconciliation) cannot both record the same change.
    """
    with transaction.atomic():
        current = Order.objects.select_for_update().only("status").get(pk=order.pk)
        from_status = current.status
        if not can_move(from_status, to_status):
            order.status = from_status
            return False
        Order.objects.filter(pk=order.pk).update(status=to_status, updated_at=timezone.now())
        OrderEvent.objects.create(
            order_id=order.pk,
            source=source,
            from_status=from_status,
            to_status=to_status,
            message=message,
            actor=actor,
        )
    order.status = to_status
    return True


def record_event(order: Order, source: str, message: str, actor: Any = None) -> OrderEvent:
    """A timeline line without a status change (a confirm, a push error...)."""
    return OrderEvent.objects.create(order_id=order.pk, source=source, message=message, actor=actor)


def assign_number(order: Order) -> str:
    """Give a blank order the next ``ORD-000123`` of its organization (no-op when it has one).

    Race-safe: the organization row is locked while the highest number is read, so two agents
    saving at once get consecutive numbers instead of a unique-constraint error.
    """
    if order.number:
        return order.number
    with transaction.atomic():
        Organization.objects.select_for_update().only("pk").get(pk=order.organization_id)
        numbers = (
            Order.objects.filter(
                organization_id=order.organization_id, number__regex=_NUMBER_PATTERN.pattern
            )
            .annotate(number_length=Length("number"))
            .order_by("-number_length", "-number")
            .values_list("number", flat=True)
        )
        highest = numbers.first()
        match = _NUMBER_PATTERN.match(highest or "")
        next_value = int(match.group(1)) + 1 if match else 1
        order.number = f"{NUMBER_PREFIX}{next_value:0{NUMBER_DIGITS}d}"
        if order.pk:
            Order.objects.filter(pk=order.pk).update(number=order.number)
    return order.number


def domain_errors(order: Order) -> list[str]:
    """What Ordo alone can tell is wrong with an order about to be confirmed."""
    errors: list[str] = []
    if order.status != OrderStatus.PENDING:
        errors.append(
            f"Only a Pending order can be confirmed; this one is {order.get_status_display()}."
        )
    if not order.customer.license_number.strip():
        errors.append(f"Customer {order.customer.name} has no license number.")
    lines = list(order.lines.select_related("item"))
    if not lines:
        errors.append("The order has no lines.")
    for line in lines:
        if line.quantity <= 0:
            errors.append(f"Line {line.item.sku}: the quantity must be more than 0.")
    return errors


def confirm_errors(order: Order) -> list[str]:
    """Domain errors first, then whatever the registered validators (the integration) report."""
    errors = domain_errors(order)
    for _receiver, response in confirm_validation.send(sender=Order, order=order):
        errors.extend(response or [])
    return errors


@dataclass
class ConfirmResult:
    confirmed: bool
    already_confirmed: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        if self.confirmed:
            return "confirmed; it is being sent to Flourish"
        if self.already_confirmed:
            return "was already confirmed; nothing was done"
        return "cannot be confirmed: " + " ".join(self.errors)


def confirm(order: Order, user: Any = None) -> ConfirmResult:
    """Validate, then mark the order confirmed and hand it to the integration, atomically.

    The order row is locked for the whole step, so a double click or two agents confirming at
    once produce one confirmation: the second one finds ``confirmed_at`` set and does nothing.
    """
    if not order_confirmed.has_listeners(Order):
        # Without the integration nobody would ever push the order; refuse rather than strand it.
        return ConfirmResult(False, errors=["The Flourish integration is not installed."])
    with transaction.atomic():
        locked = Order.objects.select_for_update().select_related("customer").get(pk=order.pk)
        if locked.confirmed_at is not None or locked.status != OrderStatus.PENDING:
            return ConfirmResult(False, already_confirmed=True)
        errors = confirm_errors(locked)
        if errors:
            return ConfirmResult(False, errors=errors)
        assign_number(locked)
        locked.confirmed_at = timezone.now()
        locked.save(update_fields=["number", "confirmed_at", "updated_at"])
        record_event(locked, EventSource.AGENT, "Confirmed; sending to Flourish.", actor=user)
        order_confirmed.send(sender=Order, order=locked, user=user)
    order.number = locked.number
    order.confirmed_at = locked.confirmed_at
    return ConfirmResult(True)


def reopen(order: Order, message: str, source: str = EventSource.PUSH) -> None:
    """Flourish refused the order for good (a 400): let the agent fix it and confirm again."""
    with transaction.atomic():
        Order.objects.filter(pk=order.pk, status=OrderStatus.PENDING).update(
            confirmed_at=None, updated_at=timezone.now()
        )
        record_event(order, source, message)
    order.confirmed_at = None
