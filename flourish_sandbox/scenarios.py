"""Named starting states for the sandbox.

``demo`` (the default):

- Facilities (``GET /external/api/v1/facilities``):

  ===========================  ==========================  =================  ==============
  id                           facility_name               license_number     rep required
  ===========================  ==========================  =================  ==============
  ``5c1991b318fc4c7c6792789e``  Green Ridge Distribution   ``C11-0000123-LIC``  True
  ``58b9b09d280e20ea24a126bb``  Sunset Valley Manufacturing ``C11-0000456-LIC``  False
  ===========================  ==========================  =================  ==============

- Brands: 1 Green Ridge, 2 Sunset Farms, 3 Blue Harbor, 4 Canyon Gold (active) and
  5 Old Mill (inactive, no items).
- 50 items, ids ``"101"`` to ``"150"``, SKUs like ``GR-FL35-001`` (brand code, product code,
  number), spread over the four active brands. Item ``"110"`` is inactive and ``"120"`` is not
  sellable. Stock at the first facility for every item (every 10th item, ``"109"``, ``"119"``, ...
  has qty 0) and at the second facility for two items out of three.
- One open order ``00001001`` (original_order_id ``DEMO-1``) at the first facility orders 40 of
  item ``"105"`` (``GR-VC1-005``) with only 25 on hand: that row's ``sellable_qty`` is ``-15``.
- Destinations: Green Door Dispensary ``C10-0000201-LIC``, Harbor Lights Cannabis Co
  ``C10-0000202-LIC``, Mesa Verde Wellness ``C10-0000203-LIC``.
- Sales reps: 1 Ana Ruiz ``ana.ruiz@example.com`` (default facility: the first one),
  2 Marcus Lee ``marcus.lee@example.com`` (no default facility).

``bare``: the same facilities, brands, destinations and reps, but no items, stock or orders.

``items=N`` (``--items N``) adds N generated items (ids after the scenario's), over every active
brand, with stock at every facility, deterministic for a given scenario name and N.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from flourish_sandbox.state import ITEM_TEMPLATE, UOM_DESCRIPTIONS, UOM_IDS, format_us

if TYPE_CHECKING:
    from flourish_sandbox.state import SandboxState

SCENARIOS = ("demo", "bare")
# Seeded records look as if created during 2025; new changes use the real clock.
SEED_BASE_US = 1_735_689_600_000_000  # 2025-01-01T00:00:00Z

FACILITY_A = "5c1991b318fc4c7c6792789e"
FACILITY_B = "58b9b09d280e20ea24a126bb"

BRANDS = [
    (1, "Green Ridge", "GR", True),
    (2, "Sunset Farms", "SF", True),
    (3, "Blue Harbor", "BH", True),
    (4, "Canyon Gold", "CG", True),
    (5, "Old Mill", "OM", False),
]
# (category, class, uom, name, price, unit weight g, code)
PRODUCTS = [
    ("Flower", "Buds", "ea", "Flower 3.5g", 25.0, 3.5, "FL35"),
    ("Flower", "Buds", "g", "Bulk Flower", 4.5, None, "BULK"),
    ("Pre-Rolls", "ShakeTrim", "ea", "Pre-Roll 1g", 8.0, 1.0, "PR1"),
    ("Pre-Rolls", "ShakeTrim", "ea", "Pre-Roll 0.5g 10pk", 35.0, 5.0, "PR10"),
    ("Vape", "Concentrate", "ea", "Vape Cart 1g", 30.0, 1.0, "VC1"),
    ("Concentrate (each)", "Concentrate", "ea", "Live Resin 1g", 28.0, 1.0, "LR1"),
    ("Edibles", "InfusedEdible", "ea", "Gummies 100mg", 15.0, None, "GUM"),
    ("Topicals", "InfusedNonEdible", "ea", "Balm 500mg", 22.0, None, "BALM"),
]
STRAINS = [
    ("7f9afbd8", "Blue Dream", "Hybrid"),
    ("a1c3e5f7", "OG Kush", "Indica"),
    ("b2d4f6a8", "Sour Diesel", "Sativa"),
    ("c3e5a7b9", "Gelato", "Hybrid"),
    ("d4f6b8c0", "Harlequin", "CBD"),
    ("e5a7c9d1", "Wedding Cake", "Indica"),
]


def load_scenario(state: SandboxState, name: str, items: int = 0) -> None:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    _facilities(state)
    for brand_id, brand_name, _code, active in BRANDS:
        state.add_brand(brand_id, brand_name, active)
    _destinations(state)
    state.add_sales_rep(
        {
            "first_name": "Ana",
            "last_name": "Ruiz",
            "email": "ana.ruiz@example.com",
            "phone_number": "5105550101",
            "facility_id": FACILITY_A,
        },
        us=SEED_BASE_US + 3_000_000,
    )
    state.add_sales_rep(
        {
            "first_name": "Marcus",
            "last_name": "Lee",
            "email": "marcus.lee@example.com",
            "phone_number": "9165550102",
        },
        us=SEED_BASE_US + 3_000_001,
    )
    if name == "demo":
        _demo_items(state)
    if items > 0:
        generate_items(state, items, random.Random(f"{name}:{items}"))
    if name == "demo":
        state.create_order(
            FACILITY_A,
            {
                "original_order_id": "DEMO-1",
                "order_timestamp": "2025-02-01T16:00:00.000Z",
                "destination": {"id": next(iter(state.destinations))},
                "sales_rep": {"id": 1},
                "order_lines": [{"sku": "GR-VC1-005", "order_qty": 40, "unit_price": 30}],
            },
        )


def _facility(
    facility_id: str,
    name: str,
    alias: str,
    facility_type: str,
    license_number: str,
    rep_required: bool,
    address: tuple[str, str, str],
    us: int,
) -> dict[str, Any]:
    line_1, city, zip_code = address
    return {
        "id": facility_id,
        "facility_name": name,
        "alias": alias,
        "facility_type": facility_type,
        "company_email": f"ops@{alias.lower().replace(' ', '')}.example",
        "company_phone_number": "5105550100",
        "address_line_1": line_1,
        "address_line_2": None,
        "city": city,
        "state": "CA",
        "zip_code": zip_code,
        "timezone": "America/Los_Angeles",
        "country": "United States",
        "billing": {
            "address_line_1": line_1,
            "address_line_2": None,
            "city": city,
            "state": "CA",
            "zip_code": zip_code,
            "country": "United States",
        },
        "local_license_number": None,
        "license_number": license_number,
        "license_type": "Adult-Use",
        "external_id": None,
        "website": None,
        "notes": None,
        "active": True,
        "contacts": None,
        "total_open_balance": "0.00",
        "number_open_invoices": "0",
        "synced_from_compliance": 0,
        "sales_rep_required_for_outbound": rep_required,
        "created_timestamp": format_us(us, seconds=True),
        "last_updated_timestamp": format_us(us, seconds=True),
    }


def _facilities(state: SandboxState) -> None:
    state.add_facility(
        _facility(
            FACILITY_A,
            "Green Ridge Distribution",
            "GRD HQ",
            "Distributor",
            "C11-0000123-LIC",
            True,
            ("1200 Harbor Way", "Oakland", "94607"),
            SEED_BASE_US,
        )
    )
    state.add_facility(
        _facility(
            FACILITY_B,
            "Sunset Valley Manufacturing",
            "Sunset Valley",
            "Manufacturer",
            "C11-0000456-LIC",
            False,
            ("88 Orchard Rd", "Sacramento", "95814"),
            SEED_BASE_US + 1,
        )
    )


def _destinations(state: SandboxState) -> None:
    rows = [
        (
            "Green Door Dispensary",
            "Green Door LLC",
            "C10-0000201-LIC",
            "12 Main St",
            "Oakland",
            "94612",
        ),
        (
            "Harbor Lights Cannabis Co",
            "Harbor Lights Inc",
            "C10-0000202-LIC",
            "400 Bay St",
            "San Francisco",
            "94133",
        ),
        (
            "Mesa Verde Wellness",
            "Mesa Verde Collective",
            "C10-0000203-LIC",
            "9 Mesa Ave",
            "Fresno",
            "93721",
        ),
    ]
    for offset, (name, alias, license_number, line_1, city, zip_code) in enumerate(rows):
        state.add_destination(
            {
                "type": "Dispensary",
                "name": name,
                "alias": alias,
                "company_email": f"buyer{offset + 1}@dispensary.example",
                "address_line_1": line_1,
                "city": city,
                "state": "CA",
                "zip_code": zip_code,
                "license_number": license_number,
                "license_type": "Recreational",
                "external_id": None,
            },
            us=SEED_BASE_US + 2_000_000 + offset,
        )


def _item(
    state: SandboxState, number: int, brand: tuple[int, str, str, bool], product_index: int
) -> dict[str, Any]:
    category, item_class, uom, name, price, weight, code = PRODUCTS[product_index % len(PRODUCTS)]
    strain_id, strain_name, strain_type = STRAINS[number % len(STRAINS)]
    item_id = str(state._next_item_id)
    us = SEED_BASE_US + 10_000_000 + int(item_id) * 1_000_000
    stamp = format_us(us, seconds=True)
    record = dict(ITEM_TEMPLATE)
    record.update(
        id=item_id,
        item_name=f"{brand[1]} {strain_name} {name}",
        retail_display_name=f"{strain_name} {name}",
        sku=f"{brand[2]}-{code}-{number:03d}",
        brand=brand[1],
        price=price,
        cost=round(price * 0.4, 2),
        uom=uom,
        uom_description=UOM_DESCRIPTIONS[uom],
        standard_qty_uom_id=UOM_IDS[uom],
        item_class=item_class,
        item_category=category,
        item_description=f"{name} of {strain_name} by {brand[1]}.",
        strain_required=True,
        strain_id=strain_id,
        strain_name=strain_name,
        strain_type_name=strain_type,
        unit_weight=weight,
        weight_uom="g" if weight else None,
        weight_uom_id=UOM_IDS["g"] if weight else None,
        weight_uom_description="Gram" if weight else None,
        ecommerce_item_name=f"{strain_name} {name}",
        ecommerce_category_name=category,
        created_timestamp=stamp,
        last_updated_timestamp=format_us(us),
    )
    state._put_item(record, us)
    return record


def _demo_items(state: SandboxState) -> None:
    active_brands = [b for b in BRANDS if b[3]]
    state._next_item_id = 101
    for number in range(1, 51):
        record = _item(state, number, active_brands[(number - 1) % 4], number - 1)
        item_id = record["id"]
        if item_id == "110":
            record["active"] = False
            record["ecommerce_active"] = False
        if item_id == "120":
            record["sellable"] = False
        us = state._item_us[item_id]
        qty_a = 0.0 if number % 10 == 9 else float(20 + (number * 37) % 480)
        if item_id == "105":
            qty_a = 25.0
        if record["uom"] == "g":
            qty_a = qty_a * 10 + 0.5
        locked = 5.0 if number % 7 == 0 and qty_a > 5 else 0.0
        state._new_stock(item_id, FACILITY_A, qty_a, locked, us)
        if number % 3 != 0:
            state._new_stock(item_id, FACILITY_B, float(10 + (number * 53) % 300), 0.0, us + 1)


def generate_items(state: SandboxState, count: int, rng: random.Random) -> None:
    """Append ``count`` generated items with stock at every facility (fast: ~1 s per 100k)."""
    active_brands = [b for b in BRANDS if b[3]]
    facilities = list(state.facilities)
    base_number = len(state.items) + 1
    template = dict(ITEM_TEMPLATE)
    stamp_us = SEED_BASE_US + 20_000_000_000
    created = format_us(stamp_us, seconds=True)
    updated = format_us(stamp_us)
    next_id = max(state._next_item_id, 1000)
    items = state.items
    item_us = state._item_us
    sku_index = state._sku_index
    item_ids = state._item_ids
    randint = rng.randint
    for offset in range(count):
        number = base_number + offset
        item_id = str(next_id + offset)
        brand = active_brands[randint(0, len(active_brands) - 1)]
        category, item_class, uom, name, price, weight, code = PRODUCTS[randint(0, 7)]
        strain_id, strain_name, strain_type = STRAINS[randint(0, 5)]
        sku = f"{brand[2]}-{code}-{number:06d}"
        record = template.copy()
        record["id"] = item_id
        record["item_name"] = f"{brand[1]} {strain_name} {name} #{number}"
        record["retail_display_name"] = f"{strain_name} {name}"
        record["sku"] = sku
        record["brand"] = brand[1]
        record["price"] = round(price * (0.8 + randint(0, 40) / 100), 2)
        record["cost"] = round(price * 0.4, 2)
        record["uom"] = uom
        record["uom_description"] = UOM_DESCRIPTIONS[uom]
        record["standard_qty_uom_id"] = UOM_IDS[uom]
        record["item_class"] = item_class
        record["item_category"] = category
        record["strain_id"] = strain_id
        record["strain_name"] = strain_name
        record["strain_type_name"] = strain_type
        record["unit_weight"] = weight
        record["created_timestamp"] = created
        record["last_updated_timestamp"] = updated
        items[item_id] = record
        item_us[item_id] = stamp_us
        sku_index[sku] = item_id
        item_ids.append(int(item_id))
        for facility_id in facilities:
            qty = 0.0 if randint(0, 11) == 0 else float(randint(1, 500))
            state._new_stock(item_id, facility_id, qty, 0.0, stamp_us)
    state._next_item_id = next_id + count
    state._items_version += 1
    state._item_query_cache.clear()
    state.clock.observe(stamp_us)
