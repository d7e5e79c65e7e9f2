"""A world for inventory tests: the demo Flourish sandbox over real HTTP, and the ``organization``
persona's Ordo side wired to it (two of the four Flourish brands, both demo licenses).

Test modules in ``tests/sync`` and ``tests/catalog`` build their ``world`` fixture with
``make_world`` (a generator: the sandbox stops when the fixture ends).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flourish_sandbox.scenarios import FACILITY_A, FACILITY_B
from flourish_sandbox.testing import RunningSandbox, running_sandbox
from ordo_integration.organizations.models import Brand, License, Organization
from sync.models import FlourishIntegration
from tests.factories import BrandFactory, LicenseFactory

OUR_BRANDS = ("Green Ridge", "Sunset Farms")
LICENSE_OF_FACILITY = {FACILITY_A: "C11-0000123-LIC", FACILITY_B: "C11-0000456-LIC"}


@dataclass
class World:
    sandbox: RunningSandbox
    organization: Organization
    integration: FlourishIntegration
    brands: dict[str, Brand]
    licenses: dict[str, License]  # by Flourish facility id

    @property
    def state(self) -> Any:
        return self.sandbox.state

    def flourish_ids_of(self, brand_names: tuple[str, ...] = OUR_BRANDS) -> set[str]:
        return {i for i, record in self.state.items.items() if record["brand"] in brand_names}

    def sellable_in_flourish(self, item_id: str, facility_id: str) -> Decimal | None:
        """The sandbox's own answer (its ``sellable_qty``), or None without stock there."""
        stock = self.state.stock.get(facility_id, {}).get(item_id)
        if stock is None:
            return None
        return Decimal(str(self.state.inventory_row(item_id, facility_id)["sellable_qty"]))


def make_world(organization: Organization, **sandbox_options: Any) -> Iterator[World]:
    with running_sandbox(api_key="test-key", seed="demo", **sandbox_options) as sandbox:
        brands: dict[str, Any] = {
            name: BrandFactory(organization=organization, name=name) for name in OUR_BRANDS
        }
        licenses: dict[str, Any] = {
            facility: LicenseFactory(organization=organization, license_number=number)
            for facility, number in LICENSE_OF_FACILITY.items()
        }
        integration = FlourishIntegration.objects.create(
            organization=organization,
            base_url=sandbox.url,
            api_username="ordo",
            api_key=sandbox.api_key,
        )
        yield World(sandbox, organization, integration, brands, licenses)
