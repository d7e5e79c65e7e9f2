"""Roles are groups: a Sales Agent sees but cannot change brands and licenses."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ordo_integration.organizations.models import Brand, Role
from tests.factories import BrandFactory, LicenseFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_it_lets_a_sales_agent_see_brands_and_licenses(agent):
    BrandFactory(organization=agent.organization, name="Green Ridge")
    LicenseFactory(organization=agent.organization, license_number="C11-0000001-LIC")

    brands = agent.client.get(reverse("admin:organizations_brand_changelist"))
    licenses = agent.client.get(reverse("admin:organizations_license_changelist"))

    assert brands.status_code == 200 and b"Green Ridge" in brands.content
    assert licenses.status_code == 200 and b"C11-0000001-LIC" in licenses.content


def test_it_refuses_a_sales_agent_adding_or_changing_brands(agent):
    brand = BrandFactory(organization=agent.organization, name="Green Ridge")

    add = agent.client.post(reverse("admin:organizations_brand_add"), {"name": "Mine"})
    change = agent.client.post(
        reverse("admin:organizations_brand_change", args=[brand.pk]), {"name": "Renamed"}
    )
    delete = agent.client.post(
        reverse("admin:organizations_brand_delete", args=[brand.pk]), {"post": "yes"}
    )

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert list(Brand.objects.values_list("name", flat=True)) == ["Green Ridge"]


def test_it_refuses_a_sales_agent_adding_licenses(agent):
    response = agent.client.get(reverse("admin:organizations_license_add"))

    assert response.status_code == 403


def test_it_puts_a_member_in_exactly_the_group_of_their_role(organization):
    membership = MembershipFactory(organization=organization, role=Role.SALES_AGENT)
    membership.role = Role.ORDO_ADMIN
    membership.save()

    groups = list(membership.user.groups.values_list("name", flat=True))
    assert groups == ["Ordo Admin"]
    assert membership.user.is_staff
    assert membership.user.has_perm("organizations.add_brand")
