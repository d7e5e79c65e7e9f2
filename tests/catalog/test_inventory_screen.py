"""The Inventory & allocations screen (the Item changelist) as the personas use it.

Given items with stock at the organization's two licenses, the admin and the agent both see brand,
SKU, name, unit, price, sellable per license and last synced; a negative sellable quantity shows
as it is, flagged; filters narrow by brand, license and stock level; only the admin gets the
"Sync inventory" button; nobody sees another organization's items.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from tests.factories import BrandFactory, ItemFactory, LicenseFactory, StockFactory

URL = reverse("admin:catalog_item_changelist")


@pytest.fixture
def shelf(organization: Any) -> dict[str, Any]:
    ridge = BrandFactory(organization=organization, name="Green Ridge")
    sunset = BrandFactory(organization=organization, name="Sunset Farms")
    north = LicenseFactory(organization=organization, license_number="C11-0000123-LIC")
    south = LicenseFactory(organization=organization, license_number="C11-0000456-LIC")
    plenty = ItemFactory(organization=organization, brand=ridge, sku="GR-PLENTY", name="Plenty")
    oversold = ItemFactory(organization=organization, brand=ridge, sku="GR-OVER", name="Oversold")
    empty = ItemFactory(organization=organization, brand=sunset, sku="SF-EMPTY", name="Empty")
    StockFactory(item=plenty, license=north, sellable_qty=Decimal(120))
    StockFactory(item=plenty, license=south, sellable_qty=Decimal("7.5"))
    StockFactory(item=oversold, license=north, sellable_qty=Decimal(-15))
    StockFactory(item=empty, license=north, sellable_qty=Decimal(0))
    return {"ridge": ridge, "sunset": sunset, "north": north, "south": south}


def skus(response: Any) -> set[str]:
    return {item.sku for item in response.context["cl"].result_list}


def test_it_shows_sellable_per_license_with_negative_flagged(agent: Any, shelf: Any) -> None:
    response = agent.client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Inventory &amp; allocations" in html
    assert "Sellable · C11-0000123-LIC" in html and "Sellable · C11-0000456-LIC" in html
    north, south = shelf["north"].pk, shelf["south"].pk
    assert f'<td class="field-sellable_{north}">120</td>' in html
    assert f'<td class="field-sellable_{south}">7.5</td>' in html
    assert 'class="negative-sellable"' in html and "⚠ -15" in html
    assert skus(response) == {"GR-PLENTY", "GR-OVER", "SF-EMPTY"}


def test_it_filters_by_brand_license_and_stock_level(admin: Any, shelf: Any) -> None:
    south = shelf["south"].pk

    assert skus(admin.client.get(URL, {"brand": shelf["sunset"].pk})) == {"SF-EMPTY"}
    assert skus(admin.client.get(URL, {"license": south})) == {"GR-PLENTY"}
    assert skus(admin.client.get(URL, {"sellable": "in"})) == {"GR-PLENTY"}
    assert skus(admin.client.get(URL, {"sellable": "out"})) == {"GR-OVER", "SF-EMPTY"}
    assert skus(admin.client.get(URL, {"sellable": "negative"})) == {"GR-OVER"}
    assert skus(admin.client.get(URL, {"sellable": "negative", "license": south})) == set()


def test_it_gives_the_sync_button_to_admins_only(admin: Any, agent: Any, shelf: Any) -> None:
    start = reverse("admin:sync_syncrun_start")

    assert start in admin.client.get(URL).content.decode()
    assert start not in agent.client.get(URL).content.decode()


def test_it_shows_no_item_of_another_organization(stranger: Any, shelf: Any) -> None:
    response = stranger.client.get(URL)

    assert response.status_code == 200
    assert skus(response) == set()
    assert "Green Ridge" not in response.content.decode()


def test_it_lets_nobody_edit_or_delete_items_synced_from_flourish(admin: Any, shelf: Any) -> None:
    response = admin.client.get(URL)

    assert response.context["has_add_permission"] is False
    assert "action-checkbox" not in response.content.decode()
