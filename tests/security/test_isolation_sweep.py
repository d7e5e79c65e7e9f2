"""Organization isolation swept across every admin URL and action, with a stranger's login.

A whole organization's worth of data is created for "Green Ridge"; an Ordo Admin of another
organization then tries every registered admin's change, history and delete pages for each of
those objects, every changelist, and every action on those objects. Nothing may answer 200 with
the object, show it in a list, or change it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.urls import NoReverseMatch, reverse

from ordo_integration.orders.models import EventSource, OrderEvent
from ordo_integration.organizations.models import License
from sync.models import (
    FacilityLink,
    FlourishIntegration,
    OrderPush,
    PushAttempt,
    SyncMode,
    SyncRun,
    SyncTrigger,
    Verdict,
    WebhookEvent,
)
from tests.factories import OrderLineFactory, StockFactory

pytestmark = pytest.mark.django_db

MARKER = "ZZ-GREEN-RIDGE-SECRET"


@pytest.fixture
def victim_data(admin):
    organization = admin.organization
    stock = StockFactory(
        item__organization=organization,
        item__name=f"{MARKER} item",
        item__brand__name=f"{MARKER} brand",
    )
    line = OrderLineFactory(
        order__organization=organization,
        order__number=f"{MARKER}-1",
        order__customer__name=f"{MARKER} customer",
        item=stock.item,
        quantity=Decimal(3),
    )
    order = line.order
    integration = FlourishIntegration.objects.create(
        organization=organization, api_key="victim-api-key-123456"
    )
    push = OrderPush.objects.create(order=order, last_error=MARKER)
    return [
        organization,
        admin.user.membership,
        stock.item.brand,
        stock.license,
        stock.item,
        stock,
        order.customer,
        order,
        line,
        OrderEvent.objects.create(order=order, source=EventSource.AGENT, message=MARKER),
        integration,
        FacilityLink.objects.create(license=stock.license, facility_id="f" * 24),
        WebhookEvent.objects.create(
            integration=integration, body_sha256="0" * 64, verdict=Verdict.ACCEPTED, raw_body=MARKER
        ),
        SyncRun.objects.create(
            organization=organization, trigger=SyncTrigger.BUTTON, mode=SyncMode.FULL
        ),
        push,
        PushAttempt.objects.create(push=push, outcome="failed", message=MARKER),
    ]


def admin_url(name: str, obj: models.Model, *args: Any) -> str | None:
    opts = obj._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)
    except NoReverseMatch:
        return None


def test_it_shows_a_stranger_no_page_of_another_organizations_objects(victim_data, stranger):
    checked = 0
    for obj in victim_data:
        if type(obj) not in admin.site._registry:
            continue
        for view in ["change", "history", "delete"]:
            url = admin_url(view, obj, obj.pk)
            if url is None:
                continue
            response = stranger.client.get(url)
            checked += 1
            assert response.status_code != 200, f"{url} answered 200 to a stranger"
    assert checked >= 15


def test_it_lists_nothing_of_another_organization_to_a_stranger(victim_data, stranger):
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = stranger.client.get(url)
        assert MARKER.encode() not in response.content, url
        assert b"victim-api-key" not in response.content, url


def test_it_lets_no_stranger_action_touch_another_organizations_objects(victim_data, stranger):
    before = {
        type(obj): list(type(obj)._default_manager.order_by("pk").values()) for obj in victim_data
    }
    for obj in victim_data:
        model_admin = admin.site._registry.get(type(obj))
        if model_admin is None:
            continue
        url = admin_url("changelist", obj)
        request_factory_actions = model_admin.actions or []
        action_names = ["delete_selected"] + [
            a if isinstance(a, str) else a.__name__ for a in request_factory_actions
        ]
        for action in action_names:
            stranger.client.post(
                url, {"action": action, "_selected_action": [obj.pk], "post": "yes", "index": 0}
            )
    after = {
        type(obj): list(type(obj)._default_manager.order_by("pk").values()) for obj in victim_data
    }
    assert after == before


def test_it_offers_no_list_filter_choice_of_another_organization(victim_data, stranger):
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = stranger.client.get(url)
        for obj in victim_data:
            if isinstance(obj, License):
                assert obj.license_number.encode() not in response.content, url
