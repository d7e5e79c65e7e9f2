"""The Setup page shows each setup step with its state."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db


def step_state(content: bytes, key: str) -> str:
    match = re.search(rb'data-step="' + key.encode() + rb'" data-done="(\w+)"', content)
    assert match, f"step {key} not on the page"
    return match.group(1).decode()


def test_it_shows_every_step_not_done_for_a_new_organization(admin):
    page = admin.client.get(reverse("admin:organization_my_setup"))

    assert page.status_code == 200
    for key in ["brands", "licenses", "credentials", "webhook", "inventory_sync"]:
        assert step_state(page.content, key) == "false"


def test_it_marks_brands_done_once_one_is_added(admin):
    BrandFactory(organization=admin.organization)

    page = admin.client.get(reverse("admin:organization_my_setup"))

    assert step_state(page.content, "brands") == "true"
    assert step_state(page.content, "licenses") == "false"


def test_it_links_the_setup_page_from_the_admin_home(agent):
    home = agent.client.get(reverse("admin:index"))

    assert reverse("admin:organization_my_setup").encode() in home.content
