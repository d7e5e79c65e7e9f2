"""Back from Flourish: design.md §1.3 mapping, forward only, scoped to the integration's
organization."""

from __future__ import annotations

import datetime as dt

import pytest

from flourish_client import OutboundOrder
from ordo_integration.orders import services
from ordo_integration.orders.models import EventSource, OrderStatus, PaymentTerms
from sync.models import FlourishIntegration
from sync.orders import apply_flourish_order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def flourish_order(number, status="Created", payment="Awaiting Payment", at=T0, order_id="00042"):
    return OutboundOrder.from_wire(
        {
            "id": order_id,
            "original_order_id": number,
            "order_status": status,
            "payment_status": payment,
            "last_updated_timestamp": at.isoformat().replace("+00:00", "Z"),
        }
    )


@pytest.fixture
def flourish(organization):
    return FlourishIntegration.objects.create(organization=organization, api_key="k")


def awaiting(organization, terms=PaymentTerms.NET):
    order = OrderFactory(
        organization=organization,
        status=OrderStatus.AWAITING_DELIVERY,
        payment_terms=terms,
        flourish_order_id="00042",
    )
    return order


def test_status_only_moves_forward(organization):
    order = OrderFactory(organization=organization)

    assert services.advance_status(order, OrderStatus.AWAITING_DELIVERY, EventSource.PUSH)
    assert services.advance_status(order, OrderStatus.DELIVERED, EventSource.WEBHOOK)
    assert not services.advance_status(order, OrderStatus.AWAITING_DELIVERY, EventSource.WEBHOOK)
    assert not services.advance_status(order, OrderStatus.DELIVERED, EventSource.WEBHOOK)
    assert not services.advance_status(order, OrderStatus.CANCELLED, EventSource.WEBHOOK)

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert list(order.events.values_list("from_status", "to_status")) == [
        (OrderStatus.PENDING, OrderStatus.AWAITING_DELIVERY),
        (OrderStatus.AWAITING_DELIVERY, OrderStatus.DELIVERED),
    ]


def test_a_cancelled_order_stays_cancelled(organization):
    order = OrderFactory(organization=organization, status=OrderStatus.AWAITING_DELIVERY)

    assert services.advance_status(order, OrderStatus.CANCELLED, EventSource.WEBHOOK)
    assert not services.advance_status(order, OrderStatus.DELIVERED, EventSource.WEBHOOK)
    assert not services.advance_status(order, OrderStatus.PAID, EventSource.WEBHOOK)


def test_shipped_means_delivered_and_paid_for_cash_on_delivery(organization, flourish):
    order = awaiting(organization, PaymentTerms.CASH_ON_DELIVERY)

    apply_flourish_order(flourish, flourish_order(order.number, "Shipped"), EventSource.WEBHOOK)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert (order.flourish_order_status, order.flourish_payment_status) == (
        "Shipped",
        "Awaiting Payment",
    )
    assert list(order.events.values_list("to_status", flat=True)) == [
        OrderStatus.DELIVERED,
        OrderStatus.PAID,
    ]


def test_net_terms_wait_for_flourishs_paid(organization, flourish):
    order = awaiting(organization, PaymentTerms.NET)

    apply_flourish_order(flourish, flourish_order(order.number, "Completed"), EventSource.WEBHOOK)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED

    paid = flourish_order(order.number, "Completed", "Paid", at=T0 + dt.timedelta(minutes=1))
    apply_flourish_order(flourish, paid, EventSource.RECONCILIATION)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_cancelled_in_flourish_cancels(organization, flourish):
    order = awaiting(organization)

    apply_flourish_order(flourish, flourish_order(order.number, "Cancelled"), EventSource.WEBHOOK)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_a_stale_event_changes_nothing(organization, flourish):
    order = awaiting(organization)
    newer = flourish_order(order.number, "Allocated", at=T0 + dt.timedelta(minutes=5))
    apply_flourish_order(flourish, newer, EventSource.WEBHOOK)

    apply_flourish_order(flourish, flourish_order(order.number, "Cancelled"), EventSource.WEBHOOK)

    order.refresh_from_db()
    assert (order.status, order.flourish_order_status) == (
        OrderStatus.AWAITING_DELIVERY,
        "Allocated",
    )


def test_it_never_touches_another_organizations_order(organization, other_organization, flourish):
    theirs = OrderFactory(
        organization=other_organization,
        status=OrderStatus.AWAITING_DELIVERY,
        flourish_order_id="00042",
    )

    apply_flourish_order(flourish, flourish_order(theirs.number, "Cancelled"), EventSource.WEBHOOK)

    theirs.refresh_from_db()
    assert theirs.status == OrderStatus.AWAITING_DELIVERY
    assert theirs.flourish_order_status == ""


@pytest.mark.parametrize("status", ["Cancelled", "Shipped"])
def test_a_flourish_order_carrying_a_drafts_number_leaves_the_draft_alone(
    organization, flourish, status
):
    # Drafts are numbered on first save; a Flourish order typed with that number is not theirs.
    draft = OrderFactory(organization=organization)
    assert draft.confirmed_at is None and draft.number

    apply_flourish_order(
        flourish, flourish_order(draft.number, status, order_id="00099"), EventSource.WEBHOOK
    )

    draft.refresh_from_db()
    assert (draft.status, draft.flourish_order_id, draft.flourish_order_status) == (
        OrderStatus.PENDING,
        "",
        "",
    )
    assert not draft.events.exists()


def test_a_confirmed_order_whose_push_answer_was_lost_is_found_by_number(organization, flourish):
    order = OrderFactory(organization=organization, confirmed_at=T0)

    apply_flourish_order(
        flourish, flourish_order(order.number, "Allocated", order_id="00099"), EventSource.WEBHOOK
    )

    order.refresh_from_db()
    assert (order.status, order.flourish_order_id) == (OrderStatus.AWAITING_DELIVERY, "00099")
