"""The order pages as agents use them: build, Confirm, then read-only; never another
organization's orders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from ordo_integration.orders.models import Order, OrderLine, OrderStatus
from sync.models import OrderPush, PushState
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:orders_order_changelist"


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def line_formset(prefix="lines", rows=(), initial=0):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def test_an_agent_creates_an_order_numbered_and_owned_by_them(
    agent, known_customer, license_b, sandbox_item
):
    item = sandbox_item("101")
    page = agent.client.get(reverse("admin:orders_order_add"))
    assert page.context["adminform"].form.initial["sales_agent"] == str(agent.user.pk)

    response = agent.client.post(
        reverse("admin:orders_order_add"),
        {
            "number": "",
            "customer": known_customer.pk,
            "license": license_b.pk,
            "sales_agent": agent.user.pk,
            "payment_terms": "cod",
            "notes": "",
            **line_formset(
                rows=[{"item": item.pk, "quantity": "4", "unit_price": "25", "discount": "0"}]
            ),
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    order = Order.objects.get()
    assert (order.organization, order.number, order.sales_agent) == (
        agent.organization,
        "ORD-000001",
        agent.user,
    )
    assert order.total == Decimal(100)


def test_the_confirm_button_confirms_and_says_so(
    agent, make_order, django_capture_on_commit_callbacks
):
    order = make_order()
    page = agent.client.get(change_url(order))
    assert b'class="button default order-confirm"' in page.content

    with django_capture_on_commit_callbacks(execute=False):
        response = agent.client.post(
            reverse("admin:orders_order_confirm", args=[order.pk]), follow=True
        )

    assert f"Order {order.number} confirmed" in response.content.decode()
    assert OrderPush.objects.get(order=order).state == PushState.QUEUED


def test_the_confirm_button_shows_what_is_wrong(agent, organization, integration, license_b):
    order = OrderFactory(organization=organization, license=license_b)

    response = agent.client.post(
        reverse("admin:orders_order_confirm", args=[order.pk]), follow=True
    )

    assert "cannot be confirmed: The order has no lines." in response.content.decode()
    assert not OrderPush.objects.exists()


def test_the_confirm_action_reports_counts(
    agent, make_order, organization, django_capture_on_commit_callbacks
):
    good = make_order()
    empty = OrderFactory(organization=organization, license=good.license)

    with django_capture_on_commit_callbacks(execute=False):
        response = agent.client.post(
            reverse(CHANGELIST),
            {"action": "confirm_orders", "_selected_action": [good.pk, empty.pk]},
            follow=True,
        )

    assert "1 order(s) confirmed, 1 refused." in response.content.decode()
    assert list(OrderPush.objects.values_list("order", flat=True)) == [good.pk]


def test_an_agent_neither_sees_nor_confirms_another_organizations_orders(
    agent, stranger, make_order
):
    theirs = OrderFactory(organization=stranger.organization)
    OrderLineFactory(order=theirs)

    listing = agent.client.get(reverse(CHANGELIST))
    assert theirs.number not in listing.content.decode()
    assert agent.client.get(change_url(theirs)).status_code == 302  # "does not exist" redirect
    assert (
        agent.client.post(reverse("admin:orders_order_confirm", args=[theirs.pk])).status_code
        == 404
    )
    agent.client.post(
        reverse(CHANGELIST), {"action": "confirm_orders", "_selected_action": [theirs.pk]}
    )
    theirs.refresh_from_db()
    assert theirs.confirmed_at is None


def test_an_awaiting_delivery_order_cannot_be_changed_through_the_admin(agent, make_order):
    order = make_order()
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.AWAITING_DELIVERY)
    line = order.lines.get()

    page = agent.client.get(change_url(order))
    assert page.status_code == 200
    assert b"changes are made in Flourish" in page.content
    assert b"order-confirm" not in page.content

    direct = agent.client.post(
        change_url(order),
        {
            "customer": order.customer.pk,
            "license": order.license.pk,
            "payment_terms": "net",
            "notes": "sneaky",
            **line_formset(
                rows=[
                    {
                        "id": line.pk,
                        "order": order.pk,
                        "item": line.item.pk,
                        "quantity": "99",
                        "unit_price": "1",
                        "discount": "0",
                    }
                ],
                initial=1,
            ),
        },
    )
    assert direct.status_code == 403
    delete = agent.client.post(
        reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    agent.client.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"},
    )
    confirm = agent.client.post(reverse("admin:orders_order_confirm", args=[order.pk]), follow=True)
    assert "was already confirmed" in confirm.content.decode()

    order.refresh_from_db()
    assert (order.notes, order.payment_terms) == ("", "cod")
    assert OrderLine.objects.get(pk=line.pk).quantity == line.quantity


def test_the_timeline_shows_each_change_with_its_source(agent, make_order):
    from ordo_integration.orders import services
    from ordo_integration.orders.models import EventSource

    order = make_order()
    services.advance_status(
        order, OrderStatus.AWAITING_DELIVERY, EventSource.PUSH, "Flourish order 00007 created."
    )

    page = agent.client.get(change_url(order)).content.decode()

    assert "Push result" in page and "Flourish order 00007 created." in page
    assert "Awaiting Delivery" in page


def test_failed_pushes_are_listed_and_an_admin_retries_them(
    admin, make_order, agent, django_capture_on_commit_callbacks
):
    failed = OrderPush.objects.create(order=make_order(), state=PushState.FAILED, last_error="boom")
    OrderPush.objects.create(order=make_order(), state=PushState.SUCCEEDED)
    changelist = reverse("admin:sync_orderpush_changelist")

    listing = admin.client.get(changelist, {"state__exact": "failed"})
    assert list(listing.context["cl"].result_list) == [failed]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin.client.post(
            changelist,
            {"action": "retry_pushes", "_selected_action": [failed.pk]},
            follow=True,
        )

    assert "1 push(es) queued again." in response.content.decode()
    assert len(callbacks) == 1
    failed.refresh_from_db()
    assert failed.state == PushState.QUEUED


def order_form(order, **changes):
    line = order.lines.get()
    data = {
        "customer": order.customer.pk,
        "license": order.license.pk,
        "sales_agent": order.sales_agent.pk if order.sales_agent else "",
        "payment_terms": order.payment_terms,
        "notes": order.notes,
        **line_formset(
            rows=[
                {
                    "id": line.pk,
                    "order": order.pk,
                    "item": line.item.pk,
                    "quantity": str(line.quantity),
                    "unit_price": str(line.unit_price),
                    "discount": str(line.discount),
                }
            ],
            initial=1,
        ),
    }
    data.update(changes)
    return data


def test_a_save_racing_a_confirm_changes_nothing_and_says_so(
    agent, make_order, monkeypatch, django_capture_on_commit_callbacks
):
    from ordo_integration.orders import services
    from ordo_integration.orders.admin import OrderAdmin

    order = make_order()
    line = order.lines.get()
    original_save_form = OrderAdmin.save_form

    def confirmed_meanwhile(self, request, form, change):
        # The page passed its permission check with the order still Pending; a colleague's
        # Confirm lands just before the save.
        assert services.confirm(Order.objects.get(pk=order.pk), agent.user).confirmed
        return original_save_form(self, request, form, change)

    monkeypatch.setattr(OrderAdmin, "save_form", confirmed_meanwhile)

    with django_capture_on_commit_callbacks(execute=False):
        response = agent.client.post(
            change_url(order),
            order_form(order, notes="changed", **{"lines-0-quantity": "99"}),
            follow=True,
        )

    assert "was confirmed while you were editing it: your changes were not saved" in (
        response.content.decode()
    )
    order.refresh_from_db()
    assert order.confirmed_at is not None  # not overwritten by the form's stale copy
    assert order.notes == ""
    assert OrderLine.objects.get(pk=line.pk).quantity == line.quantity
    assert OrderPush.objects.get(order=order).state == PushState.QUEUED


def test_a_pending_order_save_never_writes_the_integrations_fields(agent, make_order, monkeypatch):
    from ordo_integration.orders.admin import OrderAdmin

    order = make_order()
    original_save_form = OrderAdmin.save_form

    def flourish_moved_meanwhile(self, request, form, change):
        # Written by the integration after the form's instance was read from the database.
        Order.objects.filter(pk=order.pk).update(flourish_order_status="Created")
        return original_save_form(self, request, form, change)

    monkeypatch.setattr(OrderAdmin, "save_form", flourish_moved_meanwhile)

    response = agent.client.post(change_url(order), order_form(order, notes="later"))

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.notes, order.flourish_order_status) == ("later", "Created")


def test_an_order_keeps_a_line_whose_item_became_inactive(agent, make_order, sandbox_item):
    order = make_order()
    line = order.lines.get()
    line.item.is_active = False
    line.item.save()
    elsewhere = sandbox_item("102")
    elsewhere.is_active = False
    elsewhere.save()

    page = agent.client.get(change_url(order))
    choices = page.context["inline_admin_formsets"][0].formset.forms[0].fields["item"].queryset
    assert line.item in choices and elsewhere not in choices

    response = agent.client.post(change_url(order), order_form(order, notes="call first"))

    assert response.status_code == 302, response.context["errors"]
    order.refresh_from_db()
    assert order.notes == "call first"
    from ordo_integration.orders import services

    assert f"Item {line.item.sku} ({line.item.name}) is inactive." in services.confirm_errors(order)


def test_a_superuser_adds_an_order_for_an_organization(
    superuser, client, organization, known_customer, license_b, sandbox_item
):
    item = sandbox_item("101")
    client.force_login(superuser)

    response = client.post(
        reverse("admin:orders_order_add"),
        {
            "organization": organization.pk,
            "number": "",
            "customer": known_customer.pk,
            "license": license_b.pk,
            "payment_terms": "cod",
            "notes": "",
            **line_formset(
                rows=[{"item": item.pk, "quantity": "1", "unit_price": "25", "discount": "0"}]
            ),
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    order = Order.objects.get()
    assert (order.organization, order.number) == (organization, "ORD-000001")
