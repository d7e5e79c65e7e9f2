"""Brand names and license numbers are unique within an organization, with clear form errors."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from ordo_integration.organizations.models import Brand, License
from tests.factories import BrandFactory, LicenseFactory

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = png_bytes()

LICENSE_FORM = {
    "license_number": "C11-0000123-LIC",
    "legal_name": "Green Ridge LLC",
    "address_line_1": "1 Way",
    "city": "Oakland",
    "state": "CA",
    "zip_code": "94607",
    "country": "United States",
}


@pytest.mark.parametrize("duplicate", ["Green Ridge", "GREEN RIDGE", "green ridge"])
def test_it_refuses_a_duplicate_brand_name_in_any_case(admin, duplicate):
    BrandFactory(organization=admin.organization, name="Green Ridge")

    response = admin.client.post(reverse("admin:organizations_brand_add"), {"name": duplicate})

    assert response.status_code == 200
    assert b"already has a brand with this name" in response.content
    assert Brand.objects.filter(organization=admin.organization).count() == 1


def test_it_allows_the_same_brand_name_in_another_organization(admin, stranger):
    BrandFactory(organization=stranger.organization, name="Green Ridge")

    response = admin.client.post(reverse("admin:organizations_brand_add"), {"name": "Green Ridge"})

    assert response.status_code == 302
    assert Brand.objects.filter(name="Green Ridge").count() == 2


def test_it_refuses_a_duplicate_license_number(admin):
    LicenseFactory(organization=admin.organization, license_number="C11-0000123-LIC")

    response = admin.client.post(reverse("admin:organizations_license_add"), LICENSE_FORM)

    assert response.status_code == 200
    assert b"already has this license number" in response.content
    assert License.objects.count() == 1


def test_it_accepts_a_license_without_address_line_2(admin):
    response = admin.client.post(reverse("admin:organizations_license_add"), LICENSE_FORM)

    assert response.status_code == 302
    assert License.objects.get().address_line_2 == ""


def test_it_refuses_a_state_that_is_not_a_two_letter_code(admin):
    response = admin.client.post(
        reverse("admin:organizations_license_add"), {**LICENSE_FORM, "state": "California"}
    )

    assert response.status_code == 200
    assert License.objects.count() == 0


def test_it_stores_an_uploaded_brand_logo(admin, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    response = admin.client.post(
        reverse("admin:organizations_brand_add"),
        {"name": "Blue Harbor", "logo": SimpleUploadedFile("logo.png", PNG, "image/png")},
    )

    assert response.status_code == 302
    brand = Brand.objects.get(name="Blue Harbor")
    assert brand.logo.name.startswith("brand-logos/")
    assert (tmp_path / brand.logo.name).read_bytes() == PNG
    listing = admin.client.get(reverse("admin:organizations_brand_changelist"))
    assert brand.logo.url.encode() in listing.content


def test_it_refuses_a_logo_that_is_not_an_image(admin, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    response = admin.client.post(
        reverse("admin:organizations_brand_add"),
        {"name": "Blue Harbor", "logo": SimpleUploadedFile("logo.png", b"not a png", "image/png")},
    )

    assert response.status_code == 200
    assert not Brand.objects.exists()
