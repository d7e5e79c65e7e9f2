"""An agent or admin of organization A cannot list, open, change or attach anything of B,
each through the real admin views."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ordo_integration.organizations.models import Brand, License
from tests.factories import BrandFactory, LicenseFactory

pytestmark = pytest.mark.django_db


def test_it_lists_only_the_users_own_brands(admin, stranger):
    BrandFactory(organization=admin.organization, name="Green Ridge")
    BrandFactory(organization=stranger.organization, name="Secret Stranger Brand")

    page = admin.client.get(reverse("admin:organizations_brand_changelist"))

    assert page.status_code == 200
    assert b"Green Ridge" in page.content
    assert b"Secret Stranger Brand" not in page.content


@pytest.mark.parametrize("persona", ["admin", "agent"])
def test_it_does_not_open_another_organizations_brand_or_license(persona, request, stranger):
    user = request.getfixturevalue(persona)
    brand = BrandFactory(organization=stranger.organization)
    license_ = LicenseFactory(organization=stranger.organization)

    for url in [
        reverse("admin:organizations_brand_change", args=[brand.pk]),
        reverse("admin:organizations_license_change", args=[license_.pk]),
        reverse("admin:organizations_brand_delete", args=[brand.pk]),
        reverse("admin:organizations_organization_change", args=[stranger.organization.pk]),
        reverse("admin:organization_setup", args=[stranger.organization.slug]),
    ]:
        response = user.client.get(url)
        assert response.status_code in (302, 403, 404), url


def test_it_does_not_change_another_organizations_brand_by_direct_post(admin, stranger):
    brand = BrandFactory(organization=stranger.organization, name="Theirs")

    admin.client.post(
        reverse("admin:organizations_brand_change", args=[brand.pk]), {"name": "Hijacked"}
    )

    brand.refresh_from_db()
    assert brand.name == "Theirs"


def test_it_attaches_a_new_brand_to_the_users_organization_whatever_is_posted(admin, stranger):
    response = admin.client.post(
        reverse("admin:organizations_brand_add"),
        {"name": "Sunset Farms", "organization": stranger.organization.pk},
    )

    assert response.status_code == 302
    brand = Brand.objects.get(name="Sunset Farms")
    assert brand.organization == admin.organization


def test_it_offers_no_organization_choice_to_non_superusers(admin, stranger):
    page = admin.client.get(reverse("admin:organizations_brand_add"))

    assert page.status_code == 200
    assert b'name="organization"' not in page.content
    assert stranger.organization.name.encode() not in page.content


def test_it_lets_a_superuser_choose_the_organization(superuser, organization, client):
    client.force_login(superuser)

    page = client.get(reverse("admin:organizations_brand_add"))

    assert b'name="organization"' in page.content


def test_it_attaches_a_new_license_to_the_users_organization(admin, stranger):
    response = admin.client.post(
        reverse("admin:organizations_license_add"),
        {
            "license_number": "C11-0000999-LIC",
            "legal_name": "Green Ridge LLC",
            "address_line_1": "1 Way",
            "city": "Oakland",
            "state": "CA",
            "zip_code": "94607",
            "country": "United States",
            "organization": stranger.organization.pk,
        },
    )

    assert response.status_code == 302, response.content
    assert License.objects.get(license_number="C11-0000999-LIC").organization == admin.organization
