"""As an Ordo Admin, in a real browser, from an empty organization to synced inventory.

The admin adds a brand (with a logo) and a license, enters the Flourish credentials of a sandbox
started by the test, copies the generated webhook values off the Reveal page into the sandbox's
Webhook endpoints form (as they would into Flourish's Webhook Endpoint screen), checks the
connection, and syncs inventory with a real Celery worker doing the work.
"""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from flourish_sandbox.scenarios import FACILITY_A
from ordo_integration.organizations.models import Brand, License, Role
from sync.models import FacilityLink, FlourishIntegration, Verdict, WebhookEvent
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

from .conftest import log_in, reload_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

LICENSE_NUMBER = "C11-0000123-LIC"  # the demo sandbox's facility A (flourish_sandbox/scenarios.py)


@pytest.fixture
def ordo_admin(db):
    organization = OrganizationFactory(name="Green Ridge Holdings", slug="green-ridge")
    user = UserFactory(username="olivia")
    MembershipFactory(user=user, organization=organization, role=Role.ORDO_ADMIN)
    return user


@pytest.fixture
def logo(tmp_path):
    path = tmp_path / "logo.png"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def add_brand_and_license(page, live_server, logo) -> None:
    page.goto(f"{live_server.url}/admin/organizations/brand/add/")
    page.fill("#id_name", "Green Ridge")
    page.set_input_files("#id_logo", str(logo))
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    page.goto(f"{live_server.url}/admin/organizations/license/add/")
    page.fill("#id_license_number", LICENSE_NUMBER)
    page.fill("#id_legal_name", "Green Ridge LLC")
    page.fill("#id_address_line_1", "1 Warehouse Way")
    page.fill("#id_city", "Oakland")
    page.fill("#id_state", "CA")
    page.fill("#id_zip_code", "94607")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")


def revealed_values(page) -> dict[str, str]:
    """The Reveal page's table: label slug → value, as the admin would copy them."""
    page.click("button:has-text('Reveal webhook values')")
    page.wait_for_selector(".webhook-values")
    values = {}
    for row in page.locator(".webhook-values tr[data-value]").all():
        values[row.get_attribute("data-value")] = row.locator("td code").inner_text().strip()
    page.go_back()
    return values


def paste_into_sandbox(page, sandbox, values: dict[str, str]) -> None:
    """The sandbox control page's Webhook endpoints form stands in for Flourish's screen."""
    headers = {
        values["custom-header-1-name"]: values["custom-header-1-value"],
        values["custom-header-2-name"]: values["custom-header-2-value"],
    }
    page.goto(sandbox.url + "/")
    page.fill("#h_url", values["webhook-url"])
    page.fill("#h_key", values["signing-key"])
    page.fill("#h_headers", json.dumps(headers))
    page.fill("#h_events", "Outbound Order, Inventory, Item")
    page.click("#h_events + button")
    page.locator("#hooks").get_by_text(values["webhook-url"]).wait_for()


def sellable_cell(page, license, sku: str):
    row = page.locator("#result_list tbody tr", has=page.get_by_role("link", name=sku, exact=True))
    return row.locator(f"td.field-sellable_{license.pk}")


def test_it_takes_an_admin_from_an_empty_organization_to_synced_inventory(
    page, step, live_server, live_worker, sandbox, ordo_admin, logo, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    settings.PUBLIC_BASE_URL = live_server.url

    # Given an Ordo Admin with a brand (and its logo) and a license, entered in the admin
    log_in(page, live_server, "olivia", PASSWORD)
    add_brand_and_license(page, live_server, logo)
    brand = Brand.objects.get()
    assert brand.name == "Green Ridge" and brand.logo.name.startswith("brand-logos/")
    page.goto(f"{live_server.url}/admin/organizations/brand/")
    assert page.locator(f"img[src='{brand.logo.url}']").count() == 1
    step("brand and license added")
    license = License.objects.get(organization=ordo_admin.membership.organization)

    # When they enter the sandbox's credentials on the Flourish integration page
    page.goto(f"{live_server.url}/admin/sync/flourishintegration/")
    page.fill("#id_base_url", sandbox.url)
    page.fill("#id_api_key", sandbox.api_key)
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    step("credentials saved")
    integration = FlourishIntegration.objects.get()
    assert integration.api_key == sandbox.api_key
    # the page shows the secrets masked; the Reveal page shows them in full
    assert integration.webhook_signing_key not in page.content()
    values = revealed_values(page)
    assert values["webhook-url"].startswith(live_server.url + "/webhooks/flourish/")
    assert values["signing-key"] == integration.webhook_signing_key

    # and paste them into the sandbox, as they would into Flourish
    paste_into_sandbox(page, sandbox, values)
    step("webhook values pasted into the sandbox")
    (endpoint,) = sandbox.state.webhook_endpoints()
    assert endpoint["url"] == values["webhook-url"]

    # Then Check connection matches the license to a facility and finds the brand
    page.goto(f"{live_server.url}/admin/sync/flourishintegration/{integration.pk}/change/")
    page.click("button:has-text('Check connection')")
    step("connection checked")
    message = page.locator(".messagelist li").first.inner_text()
    assert "key accepted; 1 of 1 license(s) matched" in message
    assert "brands: 1 exact" in message
    page.goto(f"{live_server.url}/admin/sync/flourishintegration/{integration.pk}/change/")
    license_row = page.locator(".connection-licenses tbody tr", has_text=LICENSE_NUMBER)
    assert license_row.get_attribute("data-matched") == "true"
    brand_row = page.locator(".connection-brands tbody tr", has_text="Green Ridge")
    assert brand_row.get_attribute("data-match") == "exact"
    assert FacilityLink.objects.get(license=license).facility_id == FACILITY_A

    # When they press Sync inventory on Inventory & allocations
    page.goto(f"{live_server.url}/admin/catalog/item/")
    assert page.locator("#result_list").count() == 0  # nothing synced yet
    page.click("#sync-inventory")
    page.wait_for_selector(".messagelist .success")
    step("sync started")

    # Then, once the worker is done, the brand's items show with their sellable quantities,
    # negative ones included (GR-VC1-005 has 40 on order and 25 on hand in the demo scenario)
    expected = {
        record["sku"]: sandbox.state.inventory_row(item_id, FACILITY_A)["sellable_qty"]
        for item_id, record in sandbox.state.items.items()
        if record["brand"] == "Green Ridge"
    }
    reload_until(
        page,
        lambda: page.locator("#result_list tbody tr").count() == len(expected),
        what="the synced items on Inventory & allocations",
    )
    step("items synced")
    for sku in ["GR-FL35-001", "GR-VC1-005"]:
        assert sellable_cell(page, license, sku).inner_text().strip().endswith(f"{expected[sku]:g}")
    assert float(expected["GR-VC1-005"]) == -15
    assert sellable_cell(page, license, "GR-VC1-005").locator(".negative-sellable").count() == 1

    # And the pasted webhook values work: a stock change in Flourish reaches the screen
    item_id = next(i for i, r in sandbox.state.items.items() if r["sku"] == "GR-FL35-001")
    sandbox.state.set_inventory(item_id, FACILITY_A, qty=777, non_available_qty=0)
    reload_until(
        page,
        lambda: sellable_cell(page, license, "GR-FL35-001").inner_text().strip() == "777",
        what="the webhook's new quantity",
    )
    assert WebhookEvent.objects.filter(verdict=Verdict.ACCEPTED).exists()
