"""As an Ordo Admin, in a real browser: log in, add a brand with a logo and a license."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ordo_integration.organizations.models import Brand, License, Role
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ordo_admin(db):
    organization = OrganizationFactory(name="Green Ridge Holdings", slug="green-ridge")
    user = UserFactory(username="olivia")
    MembershipFactory(user=user, organization=organization, role=Role.ORDO_ADMIN)
    return user


def test_it_lets_an_admin_add_a_brand_with_a_logo_and_a_license(
    page, live_server, ordo_admin, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    logo = tmp_path / "logo.png"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    logo.write_bytes(buffer.getvalue())

    log_in(page, live_server, "olivia", PASSWORD)
    page.goto(f"{live_server.url}/admin/organizations/brand/add/")
    page.fill("#id_name", "Green Ridge")
    page.set_input_files("#id_logo", str(logo))
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    page.goto(f"{live_server.url}/admin/organizations/license/add/")
    page.fill("#id_license_number", "C11-0000123-LIC")
    page.fill("#id_legal_name", "Green Ridge LLC")
    page.fill("#id_address_line_1", "1 Warehouse Way")
    page.fill("#id_city", "Oakland")
    page.fill("#id_state", "CA")
    page.fill("#id_zip_code", "94607")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    brand = Brand.objects.get()
    assert brand.name == "Green Ridge" and brand.logo.name.startswith("brand-logos/")
    assert License.objects.get().organization == ordo_admin.membership.organization
    page.goto(f"{live_server.url}/admin/organizations/brand/")
    assert page.locator(f"img[src='{brand.logo.url}']").count() == 1
