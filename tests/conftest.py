"""Personas shared by every test: an Ordo Admin and a Sales Agent of one organization, and a
stranger (an Ordo Admin of another organization), each with a logged-in admin client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from ordo_integration.organizations.models import Organization, Role

from .factories import MembershipFactory, OrganizationFactory, UserFactory

pytest_plugins = ["tests.live"]


@dataclass
class Persona:
    user: Any
    organization: Organization
    client: Client


def _persona(organization: Organization, username: str, role: str) -> Persona:
    user: Any = UserFactory(username=username)
    MembershipFactory(user=user, organization=organization, role=role)
    client = Client()
    client.force_login(user)
    return Persona(user=user, organization=organization, client=client)


@pytest.fixture
def organization(db: None) -> Any:
    return OrganizationFactory(name="Green Ridge Holdings", slug="green-ridge")


@pytest.fixture
def other_organization(db: None) -> Any:
    return OrganizationFactory(name="Stranger Things Cannabis", slug="stranger")


@pytest.fixture
def admin(organization: Organization) -> Persona:
    return _persona(organization, "olivia.admin", Role.ORDO_ADMIN)


@pytest.fixture
def agent(organization: Organization) -> Persona:
    return _persona(organization, "sam.agent", Role.SALES_AGENT)


@pytest.fixture
def stranger(other_organization: Organization) -> Persona:
    return _persona(other_organization, "stan.stranger", Role.ORDO_ADMIN)


@pytest.fixture
def superuser(db: None) -> Any:
    return UserFactory(username="root", is_superuser=True, is_staff=True)
