"""Quantities move with orders and adjustments (flourish-api.md §4.5; formula in state.py)."""

from __future__ import annotations

from typing import Any

from conftest import FACILITY_A, Api, order_body

from flourish_sandbox.testing import RunningSandbox


def _row(api: Api, item_id: str) -> dict[str, Any]:
    return dict(
        api.get("/inventory/summary", facility=FACILITY_A, params={"item_id": item_id}).json()[
            "data"
        ][0]
    )


def _quantities(api: Api, item_id: str) -> tuple[float, ...]:
    row = _row(api, item_id)
    return tuple(
        row[k]
        for k in ("qty", "non_available_qty", "available_qty", "on_order_qty", "sellable_qty")
    )


def test_it_seeds_a_negative_sellable_quantity(api: Api) -> None:
    assert _quantities(api, "105") == (25, 0, 25, 40, -15)


def test_it_moves_sellable_through_create_allocate_and_ship(
    api: Api, sandbox: RunningSandbox, destination_id: str
) -> None:
    sandbox.state.set_inventory("101", FACILITY_A, 100)
    body = order_body(
        destination={"id": destination_id},
        order_lines=[{"item_id": "101", "order_qty": 30, "unit_price": 1}],
    )
    order_id = api.post("/outbound-orders", body, facility=FACILITY_A).json()["data"]["id"]
    assert _quantities(api, "101") == (100, 0, 100, 30, 70)

    sandbox.state.allocate_order(order_id, {"101": 10})
    assert (
        api.get(f"/outbound-orders/{order_id}").json()["data"]["order_status"]
        == "Partially Allocated"
    )
    assert _quantities(api, "101") == (100, 10, 90, 30, 70)

    sandbox.state.allocate_order(order_id)
    assert _quantities(api, "101") == (100, 30, 70, 30, 70)

    sandbox.state.ship_order(order_id)
    assert _quantities(api, "101") == (70, 0, 70, 0, 70)


def test_it_releases_quantities_on_cancel(
    api: Api, sandbox: RunningSandbox, destination_id: str
) -> None:
    sandbox.state.set_inventory("101", FACILITY_A, 10)
    body = order_body(
        destination={"id": destination_id},
        order_lines=[{"sku": "GR-FL35-001", "order_qty": 25, "unit_price": 1}],
    )
    order_id = api.post("/outbound-orders", body, facility=FACILITY_A).json()["data"]["id"]
    assert _quantities(api, "101") == (10, 0, 10, 25, -15)

    sandbox.state.allocate_order(order_id)
    sandbox.state.cancel_order(order_id)

    assert _quantities(api, "101") == (10, 0, 10, 0, 10)


def test_it_bumps_last_updated_timestamp_on_every_change(api: Api, sandbox: RunningSandbox) -> None:
    stamps = []
    for qty in (1, 2, 3):
        sandbox.state.set_inventory("101", FACILITY_A, qty)
        stamps.append(_row(api, "101")["last_updated_timestamp"])

    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    changed = api.get(
        "/inventory/summary",
        facility=FACILITY_A,
        params={"last_updated_timestamp_start": stamps[-1]},
    ).json()
    assert [r["item_id"] for r in changed["data"]] == ["101"]
