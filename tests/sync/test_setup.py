"""Setting up the integration in the admin: values to paste into Flourish, key rotation, the
connection check against Flourish (the sandbox over HTTP), the Setup page, and who may see it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from flourish_sandbox.testing import running_sandbox
from ordo_integration.organizations.setup import steps_for
from sync.models import FacilityLink, FlourishIntegration, SyncRun, SyncState, WebhookEvent
from sync.setup import facility_links, webhook_url
from tests.factories import BrandFactory, LicenseFactory

from .conftest import event_body, make_integration, signed_post

pytestmark = pytest.mark.django_db

GREEN_RIDGE_FACILITY = "5c1991b318fc4c7c6792789e"  # sandbox demo, license C11-0000123-LIC


def change_url(integration: FlourishIntegration) -> str:
    return reverse("admin:sync_flourishintegration_change", args=[integration.pk])


def changelist_action(client: Client, action: str, integration: FlourishIntegration) -> Any:
    return client.post(
        reverse("admin:sync_flourishintegration_changelist"),
        {"action": action, "_selected_action": [integration.pk], "index": 0},
        follow=True,
    )


def step(organization: Any, key: str) -> Any:
    return next(s for s in steps_for(organization) if s.key == key)


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with running_sandbox(api_key="test-key", seed="demo", items=0) as sb:
        yield sb


@pytest.fixture
def on_sandbox(organization: Any, sandbox: Any) -> FlourishIntegration:
    return make_integration(organization, base_url=sandbox.url, api_key=sandbox.api_key)


# -- generated values ------------------------------------------------------------------------


def test_it_generates_the_webhook_values_on_the_first_save(admin: Any) -> None:
    response = admin.client.post(
        reverse("admin:sync_flourishintegration_add"),
        {
            "base_url": "https://app.flourishsoftware.com",
            "api_username": "ordo",
            "api_key": "first-key-123456",
            "enabled": "on",
            "inventory_sync_interval_minutes": "15",
        },
        follow=True,
    )

    integration = FlourishIntegration.objects.get(organization=admin.organization)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == change_url(integration)
    assert len(integration.webhook_signing_key) >= 43
    assert len(integration.webhook_header_secret) >= 43
    assert "Webhook values generated" in html
    assert webhook_url(integration) in html
    assert f"/webhooks/flourish/{integration.uuid}/" in webhook_url(integration)


def test_it_never_changes_the_generated_values_on_later_saves(
    integration: FlourishIntegration, admin: Any
) -> None:
    key, secret = integration.webhook_signing_key, integration.webhook_header_secret

    admin.client.post(
        change_url(integration),
        {
            "base_url": "https://app.flourishsoftware.com",
            "api_username": "someone-else",
            "api_key": "",
            "enabled": "on",
            "inventory_sync_interval_minutes": "15",
        },
    )

    integration.refresh_from_db()
    assert integration.api_username == "someone-else"
    assert (integration.webhook_signing_key, integration.webhook_header_secret) == (key, secret)


def test_it_shows_the_values_to_paste_with_copy_buttons(
    integration: FlourishIntegration, admin: Any
) -> None:
    html = admin.client.get(change_url(integration)).content.decode()

    assert f'data-copy="{webhook_url(integration)}"' in html
    assert 'data-copy="X-Ordo-Integration"' in html
    assert f'data-copy="{integration.uuid}"' in html
    assert 'data-copy="X-Ordo-Webhook-Secret"' in html
    assert "Outbound Order" in html and "Inventory" in html
    assert "Reveal webhook values" in html


def test_it_reveals_the_secrets_with_copy_buttons_only_on_a_post(
    integration: FlourishIntegration, admin: Any
) -> None:
    url = reverse("admin:sync_flourishintegration_reveal", args=[integration.pk])

    refused = admin.client.get(url)
    revealed = admin.client.post(url)

    assert refused.status_code == 405
    html = revealed.content.decode()
    assert revealed.status_code == 200
    assert "no-store" in revealed["Cache-Control"]
    assert f'data-copy="{integration.webhook_signing_key}"' in html
    assert f'data-copy="{integration.webhook_header_secret}"' in html


def test_it_reveals_nothing_of_another_organization(
    integration: FlourishIntegration, stranger: Any
) -> None:
    url = reverse("admin:sync_flourishintegration_reveal", args=[integration.pk])

    response = stranger.client.post(url)

    assert response.status_code == 404
    assert integration.webhook_signing_key not in response.content.decode()


def test_it_regenerates_the_key_and_keeps_the_previous_one_valid(
    integration: FlourishIntegration, admin: Any
) -> None:
    old_key = integration.webhook_signing_key

    response = changelist_action(admin.client, "regenerate_signing_key", integration)

    integration.refresh_from_db()
    assert "New signing key generated for 1 integration(s)" in response.content.decode()
    assert integration.webhook_signing_key != old_key
    assert integration.previous_signing_key == old_key
    assert integration.previous_signing_key_valid_until is not None
    window = integration.previous_signing_key_valid_until - timezone.now()
    assert dt.timedelta(hours=23) < window <= dt.timedelta(hours=24)
    body = event_body("item", {"id": "1", "sku": "S", "item_name": "x"})
    assert signed_post(Client(), integration, body, key=old_key).status_code == 200


# -- check connection (the sandbox over HTTP) -----------------------------------------------


def test_it_checks_the_connection_and_maps_licenses_and_brands(
    on_sandbox: FlourishIntegration, admin: Any
) -> None:
    organization = admin.organization
    matched: Any = LicenseFactory(organization=organization, license_number="C11-0000123-LIC")
    unmatched: Any = LicenseFactory(organization=organization, license_number="C11-9999999-LIC")
    FacilityLink.objects.create(license=unmatched, facility_id="gone")  # stale from before
    BrandFactory(organization=organization, name="Sunset Farms")
    BrandFactory(organization=organization, name="green  ridge")
    BrandFactory(organization=organization, name="Moonlight")

    response = changelist_action(admin.client, "check_connection", on_sandbox)

    html = response.content.decode()
    assert "key accepted; 1 of 2 license(s) matched" in html
    assert "brands: 1 exact, 1 near match, 1 not found" in html
    links = facility_links(organization)
    assert list(links) == [matched.pk]
    assert links[matched.pk].facility_id == GREEN_RIDGE_FACILITY
    assert links[matched.pk].facility_name == "Green Ridge Distribution"
    assert links[matched.pk].sales_rep_required is True
    report = FlourishIntegration.objects.get(pk=on_sandbox.pk).last_connection_report
    brands = {row["brand"]: (row["match"], row["flourish_name"]) for row in report["brands"]}
    assert brands == {
        "Sunset Farms": ("exact", "Sunset Farms"),
        "green  ridge": ("near", "Green Ridge"),
        "Moonlight": ("none", ""),
    }
    assert "Flourish spells it &#x27;Green Ridge&#x27;" in html
    assert "No Flourish facility has this license number." in html


def test_it_says_when_flourish_refuses_the_key(organization: Any, sandbox: Any, admin: Any) -> None:
    integration = make_integration(organization, base_url=sandbox.url, api_key="wrong-key")

    response = changelist_action(admin.client, "check_connection", integration)

    integration.refresh_from_db()
    assert "Flourish refused the API key" in response.content.decode()
    assert integration.last_connection_report["key_accepted"] is False
    assert step(organization, "credentials").done is False


def test_it_shows_the_mapping_report_on_the_setup_page(
    on_sandbox: FlourishIntegration, admin: Any
) -> None:
    LicenseFactory(organization=admin.organization, license_number="C11-0000123-LIC")
    BrandFactory(organization=admin.organization, name="green ridge ")
    changelist_action(admin.client, "check_connection", on_sandbox)

    html = admin.client.get(reverse("admin:organization_my_setup")).content.decode()

    assert "API key accepted." in html
    assert "Matches Flourish facility Green Ridge Distribution" in html
    assert "Flourish spells it &#x27;Green Ridge&#x27;" in html
    assert f'data-copy="{webhook_url(on_sandbox)}"' in html
    assert re.search(r'data-step="credentials" data-done="true"', html)


# -- Setup steps -----------------------------------------------------------------------------


def test_it_marks_the_webhook_step_done_on_the_first_accepted_event(
    integration: FlourishIntegration,
) -> None:
    body = event_body("item", {"id": "1", "sku": "S", "item_name": "x"})
    signed_post(Client(), integration, body, key="wrong")
    assert step(integration.organization, "webhook").done is False

    signed_post(Client(), integration, body)

    assert WebhookEvent.objects.count() == 2
    assert step(integration.organization, "webhook").done is True


def test_it_marks_the_inventory_step_done_only_after_a_successful_sync(
    integration: FlourishIntegration,
) -> None:
    organization = integration.organization
    SyncRun.objects.create(
        organization=organization, trigger="button", mode="full", state=SyncState.FAILED
    )
    assert step(organization, "inventory_sync").done is False

    SyncRun.objects.create(
        organization=organization, trigger="button", mode="full", state=SyncState.SUCCEEDED
    )

    assert step(organization, "inventory_sync").done is True


# -- who may see it --------------------------------------------------------------------------


def test_it_forbids_sales_agents_the_integration_entirely(
    integration: FlourishIntegration, agent: Any
) -> None:
    for url in (
        reverse("admin:sync_flourishintegration_changelist"),
        reverse("admin:sync_flourishintegration_add"),
        change_url(integration),
    ):
        assert agent.client.get(url).status_code == 403, url
    reveal = reverse("admin:sync_flourishintegration_reveal", args=[integration.pk])
    assert agent.client.post(reveal).status_code == 403
    setup = agent.client.get(reverse("admin:organization_my_setup")).content.decode()
    assert "Flourish connection" not in setup


def test_it_leads_an_ordo_admin_straight_to_their_integration(
    integration: FlourishIntegration, admin: Any, other_integration: FlourishIntegration
) -> None:
    response = admin.client.get(reverse("admin:sync_flourishintegration_changelist"))

    assert response.status_code == 302
    assert response["Location"] == change_url(integration)
    assert admin.client.get(change_url(other_integration)).status_code == 302  # not found
    assert admin.client.get(reverse("admin:sync_flourishintegration_add")).status_code == 403


def test_it_leads_an_ordo_admin_without_one_to_the_add_form(admin: Any) -> None:
    response = admin.client.get(reverse("admin:sync_flourishintegration_changelist"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:sync_flourishintegration_add")
