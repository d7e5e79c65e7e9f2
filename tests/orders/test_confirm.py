"""Confirm: it says exactly what is wrong, or it hands the order to the integration once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordo_integration.orders import services
from ordo_integration.orders.models import Order, OrderStatus
from sync.models import FacilityLink, OrderPush, PushState
from tests.factories import LicenseFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def test_it_confirms_a_valid_order_and_writes_one_outbox_row_enqueued_after_commit(
    make_order, agent, django_capture_on_commit_callbacks
):
    order = make_order()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.confirm(order, agent.user)

    assert result.confirmed
    assert len(callbacks) == 1  # push_order.delay, only once the transaction commits
    order.refresh_from_db()
    assert order.confirmed_at is not None
    assert order.status == OrderStatus.PENDING  # Awaiting Delivery comes with the push result
    assert not services.is_editable(order)
    assert OrderPush.objects.get(order=order).state == PushState.QUEUED
    assert order.events.get().actor == agent.user


def test_a_second_confirm_is_a_no_op(make_order, agent, django_capture_on_commit_callbacks):
    order = make_order()
    services.confirm(order, agent.user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = services.confirm(order, agent.user)

    assert not again.confirmed and again.already_confirmed
    assert callbacks == []
    assert OrderPush.objects.filter(order=order).count() == 1
    assert order.events.count() == 1


def test_it_lists_every_problem_it_finds(organization, integration, agent, sandbox_item):
    unmatched = LicenseFactory(organization=organization, license_number="C11-0000999-LIC")
    order = OrderFactory(organization=organization, license=unmatched, customer__license_number="")
    inactive = sandbox_item("102")
    inactive.is_active = False
    inactive.save()
    unknown = sandbox_item("103")
    unknown.flourish_item_id = ""
    unknown.save()
    OrderLineFactory(order=order, item=inactive)
    OrderLineFactory(order=order, item=unknown, quantity=Decimal(0))

    result = services.confirm(order, agent.user)

    assert not result.confirmed
    assert result.errors == [
        f"Customer {order.customer.name} has no license number.",
        f"Line {unknown.sku}: the quantity must be more than 0.",
        "License C11-0000999-LIC is not matched to a Flourish facility — run Check connection.",
        f"Item {inactive.sku} ({inactive.name}) is inactive.",
        f"Item {unknown.sku} ({unknown.name}) is unknown in Flourish.",
    ]
    assert not OrderPush.objects.filter(order=order).exists()
    order.refresh_from_db()
    assert order.confirmed_at is None


def test_it_refuses_an_order_without_lines(organization, integration, license_b, agent):
    order = OrderFactory(organization=organization, license=license_b)

    result = services.confirm(order, agent.user)

    assert "The order has no lines." in result.errors


def test_it_matches_the_selling_license_to_a_flourish_facility_when_not_linked_yet(
    make_order, agent, license_b
):
    FacilityLink.objects.filter(license=license_b).delete()
    order = make_order(license=license_b)

    assert services.confirm(order, agent.user).confirmed

    link = FacilityLink.objects.get(license=license_b)
    assert (link.facility_id, link.sales_rep_required) == ("58b9b09d280e20ea24a126bb", False)


def test_it_checks_sellable_quantity_only_when_the_organization_asks(
    make_order, agent, integration, stocked
):
    order = make_order(quantity=Decimal(8))
    stocked(order.lines.get().item, Decimal(5))

    assert services.confirm_errors(order) == []

    integration.check_sellable_on_confirm = True
    integration.save()
    assert services.confirm_errors(order) == [
        f"Item {order.lines.get().item.sku}: 8 ordered but only 5 sellable at license "
        f"{order.license.license_number}."
    ]


def test_it_needs_an_agent_email_when_the_facility_requires_a_sales_rep(
    make_order, agent, license_a
):
    agent.user.email = ""
    agent.user.save()
    order = make_order(license=license_a)

    errors = services.confirm_errors(order)

    assert errors == [
        "Facility Green Ridge Distribution requires a sales rep: the order needs a sales agent "
        "with an email address."
    ]


def test_it_refuses_without_an_integration(organization, agent, license_b):
    order = OrderFactory(organization=organization, license=license_b)
    OrderLineFactory(order=order)

    assert "The Flourish integration of your organization is not set up." in (
        services.confirm(order, agent.user).errors
    )


def test_it_says_the_integration_is_disabled(make_order, agent, integration):
    integration.enabled = False
    integration.save()
    order = make_order()

    result = services.confirm(order, agent.user)

    assert result.errors == [
        "The Flourish integration of your organization is disabled: an Ordo Admin must enable it "
        "before orders can be confirmed."
    ]
    assert not OrderPush.objects.filter(order=order).exists()


def test_it_says_flourish_is_unreachable_instead_of_license_not_matched(
    make_order, agent, license_b, sandbox
):
    # Not linked yet, so Confirm asks Flourish for its facilities, and Flourish is down.
    FacilityLink.objects.filter(license=license_b).delete()
    sandbox.state.add_fault(kind="status", status=503, count=5, path_prefix="/facilities")
    order = make_order(license=license_b)

    result = services.confirm(order, agent.user)

    assert not result.confirmed
    (error,) = result.errors
    assert error.startswith("Flourish could not be reached to check the selling license; try again")
    assert "not matched" not in error


def test_confirming_again_after_a_refusal_starts_a_fresh_try_count(make_order, agent):
    order = make_order()
    assert services.confirm(order, agent.user).confirmed
    push = OrderPush.objects.get(order=order)
    OrderPush.objects.filter(pk=push.pk).update(state=PushState.REJECTED, attempts=3)
    services.reopen(order, "Flourish refused the order: no such SKU")

    assert services.confirm(order, agent.user).confirmed

    push.refresh_from_db()
    assert (push.state, push.attempts, push.last_error) == (PushState.QUEUED, 0, "")
    assert push.attempt_log.get().outcome == "queued again"


def test_it_numbers_new_orders_in_sequence_per_organization(organization, other_organization):
    first = OrderFactory.build(organization=organization, number="")
    first.customer.save()
    first.license.save()
    services.assign_number(first)
    first.save()
    second = OrderFactory.build(
        organization=organization, number="", customer=first.customer, license=first.license
    )
    services.assign_number(second)
    elsewhere = OrderFactory.build(organization=other_organization, number="")

    assert (first.number, second.number) == ("ORD-000001", "ORD-000002")
    assert services.assign_number(elsewhere) == "ORD-000001"
    assert Order.objects.filter(number="ORD-000001").count() == 1
