"""As a Sales Agent, in a real browser: an order from Pending to Delivered and Paid.

The organization is already set up (brand, license linked to the sandbox's facility, credentials,
webhook values pasted into the sandbox, inventory synced) through the same services the admin's
buttons call; the admin story clicks through that part. The agent builds an order in the admin and
confirms it; a real Celery worker pushes it to the sandbox; the warehouse ships it (and, for Net
terms, records the payment) on the sandbox's control page; Flourish's signed webhooks bring the
new status back, and the agent sees it after a reload.
"""

from __future__ import annotations

import pytest

from flourish_sandbox.scenarios import FACILITY_A
from ordo_integration.catalog.models import Item
from ordo_integration.orders.admin import READ_ONLY_BANNER
from ordo_integration.orders.models import Order, OrderStatus, PaymentTerms
from ordo_integration.organizations.models import Role
from sync import inventory, setup
from sync.models import FacilityLink, FlourishIntegration, SyncState
from tests.factories import (
    PASSWORD,
    BrandFactory,
    CustomerFactory,
    LicenseFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

from .conftest import log_in, reload_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

SKU = "GR-FL35-001"  # a Green Ridge item in stock at facility A in the demo scenario


@pytest.fixture
def wired_organization(db, sandbox, live_server, settings):
    """An organization set up as the admin story leaves it, inventory synced."""
    settings.PUBLIC_BASE_URL = live_server.url
    organization = OrganizationFactory(name="Green Ridge Holdings", slug="green-ridge")
    BrandFactory(organization=organization, name="Green Ridge")
    license = LicenseFactory(organization=organization, license_number="C11-0000123-LIC")
    integration = FlourishIntegration(
        organization=organization, base_url=sandbox.url, api_key=sandbox.api_key
    )
    setup.ensure_webhook_secrets(integration)
    integration.save()
    sandbox.state.add_webhook_endpoint(
        setup.webhook_url(integration),
        signing_key=integration.webhook_signing_key,
        headers=setup.webhook_headers(integration),
        events=["Outbound Order", "Inventory", "Item"],
    )
    assert setup.check_connection(integration)["key_accepted"]
    assert FacilityLink.objects.get(license=license).facility_id == FACILITY_A
    run = inventory.start_sync(organization, enqueue=False)
    assert inventory.run_sync(run.pk).state == SyncState.SUCCEEDED
    CustomerFactory(
        organization=organization, name="Green Door Dispensary", license_number="C10-0000201-LIC"
    )
    return organization


@pytest.fixture
def sales_agent(wired_organization):
    # Ana Ruiz is a sales rep the sandbox knows; facility A requires one on outbound orders.
    user = UserFactory(username="ana", email="ana.ruiz@example.com")
    MembershipFactory(user=user, organization=wired_organization, role=Role.SALES_AGENT)
    return user


def create_order(page, live_server, terms: PaymentTerms) -> Order:
    """Fill the order form as an agent would: customer, selling license, terms and one line."""
    item = Item.objects.get(sku=SKU)
    license = FacilityLink.objects.get(facility_id=FACILITY_A).license
    page.goto(f"{live_server.url}/admin/orders/order/add/")
    page.select_option("#id_customer", label="Green Door Dispensary")
    page.select_option("#id_license", label=str(license))
    page.select_option("#id_payment_terms", terms.value)
    if terms == PaymentTerms.NET:
        page.fill("#id_net_days", "30")
    page.select_option("#id_lines-0-item", label=str(item))
    page.fill("#id_lines-0-quantity", "3")
    page.fill("#id_lines-0-unit_price", "25.00")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    return Order.objects.get()


def shown_status(page) -> str:
    return page.locator(".field-status .readonly").inner_text().strip()


def on_sandbox_page(page, sandbox, order: Order, action: str) -> None:
    """Click ``action`` (allocate, ship, mark-paid, ...) on the order's row of the control page."""
    page.goto(sandbox.url + "/")
    row = page.locator("#orders tr", has_text=order.number)
    row.get_by_role("button", name=action, exact=True).click()
    page.locator("#msg", has_text="200").wait_for()


@pytest.mark.parametrize("terms", [PaymentTerms.CASH_ON_DELIVERY, PaymentTerms.NET])
def test_it_takes_an_order_from_confirm_to_paid(
    page, step, live_server, live_worker, sandbox, sales_agent, terms
):
    # Given a Sales Agent with a Pending order for a customer Flourish knows
    log_in(page, live_server, "ana", PASSWORD)
    order = create_order(page, live_server, terms)
    step("order saved")
    assert shown_status(page) == "Pending"
    order_url = page.url

    # When they press Confirm
    page.click("button.order-confirm")
    page.wait_for_selector(".messagelist li")
    step("confirmed")

    # Then, once the worker has pushed it, the order is Awaiting Delivery and read-only
    reload_until(page, lambda: shown_status(page) == "Awaiting Delivery", what="Awaiting Delivery")
    step("awaiting delivery")
    assert READ_ONLY_BANNER in page.locator(".order-read-only-banner").inner_text()
    assert page.locator("button.order-confirm").count() == 0
    assert page.locator("#id_customer").count() == 0  # no editable fields left
    order.refresh_from_db()
    (created,) = [
        o for o in sandbox.state.orders.values() if o["original_order_id"] == order.number
    ]
    assert order.flourish_order_id == created["id"]

    # When the warehouse ships it on the sandbox's control page
    on_sandbox_page(page, sandbox, order, "ship")
    step("shipped on the sandbox page")
    assert sandbox.state.orders[created["id"]]["order_status"] == "Shipped"

    # Then the agent sees it Delivered, and Paid at once for Cash on Delivery
    page.goto(order_url)
    shipped = OrderStatus.PAID if terms == PaymentTerms.CASH_ON_DELIVERY else OrderStatus.DELIVERED
    reload_until(page, lambda: shown_status(page) == shipped.label, what=shipped.label)
    step(shipped.label)

    if terms == PaymentTerms.NET:
        # When the warehouse records the payment, then the order is Paid
        on_sandbox_page(page, sandbox, order, "mark-paid")
        page.goto(order_url)
        reload_until(page, lambda: shown_status(page) == "Paid", what="Paid")
        step("paid")

    # and the timeline tells the story, Flourish's part coming in by webhook
    steps = [
        (row.get_attribute("data-source"), row.locator("td").nth(2).inner_text().strip())
        for row in page.locator(".order-timeline tr.order-event").all()
    ]
    assert steps == [
        ("agent", ""),  # Confirm clicked
        ("push", "Awaiting Delivery"),
        ("webhook", "Delivered"),
        ("webhook", "Paid"),
    ]
