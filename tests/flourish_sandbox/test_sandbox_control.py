"""The warehouse control API under /sandbox/ and the control page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from conftest import FACILITY_A, Api

from flourish_sandbox.testing import RunningSandbox, running_sandbox


def _control(
    sandbox: RunningSandbox, method: str, path: str, body: Any = None
) -> requests.Response:
    return requests.request(method, sandbox.url + "/sandbox" + path, json=body, timeout=5)


def test_it_serves_the_control_page(sandbox: RunningSandbox) -> None:
    page = requests.get(sandbox.url + "/", timeout=5)

    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "/sandbox/orders" in page.text


def test_it_walks_an_order_through_the_warehouse(
    sandbox: RunningSandbox, api: Api, new_order: dict[str, Any]
) -> None:
    order_id = new_order["id"]
    allocated = _control(sandbox, "POST", f"/orders/{order_id}/allocate", {}).json()["data"]
    shipped = _control(sandbox, "POST", f"/orders/{order_id}/ship").json()["data"]
    paid = _control(sandbox, "POST", f"/orders/{order_id}/mark-paid").json()["data"]
    completed = _control(sandbox, "POST", f"/orders/{order_id}/complete").json()["data"]

    assert allocated["order_status"] == "Allocated"
    assert allocated["order_lines"][0]["allocated_qty"] == 4
    assert shipped["order_status"] == "Shipped" and shipped["shipped_timestamp"]
    assert paid["payment_status"] == "Paid" and paid["total_paid"] == paid["total_price"] == 90
    assert completed["order_status"] == "Completed"
    assert api.get(f"/outbound-orders/{order_id}").json()["data"]["order_status"] == "Completed"


def test_it_cancels_an_allocated_order_from_the_warehouse_screen(
    sandbox: RunningSandbox, new_order: dict[str, Any]
) -> None:
    _control(sandbox, "POST", f"/orders/{new_order['id']}/allocate")

    response = _control(sandbox, "POST", f"/orders/{new_order['id']}/cancel")
    again = _control(sandbox, "POST", f"/orders/{new_order['id']}/cancel")

    assert response.json()["data"]["order_status"] == "Cancelled"
    assert again.status_code == 400
    assert again.json()["message"] == "Order has already been cancelled"


def test_it_creates_edits_and_deletes_items(sandbox: RunningSandbox, api: Api) -> None:
    created = _control(
        sandbox,
        "POST",
        "/items",
        {"sku": "NEW-1", "item_name": "New Thing", "brand": "Blue Harbor", "price": 9.5},
    ).json()["data"]
    item_id = created["id"]
    assert api.get(f"/items/{item_id}").json()["data"]["sku"] == "NEW-1"

    edited = _control(
        sandbox,
        "PATCH",
        f"/items/{item_id}",
        {"active": False, "brand": "Canyon Gold", "price": 11},
    ).json()["data"]
    assert (edited["active"], edited["brand"], edited["price"]) == (False, "Canyon Gold", 11)
    assert (
        api.get("/items", params={"brand_name": "Canyon Gold", "active": "false"}).json()["data"][
            0
        ]["id"]
        == item_id
    )

    assert _control(sandbox, "DELETE", f"/items/{item_id}").status_code == 200
    assert api.get(f"/items/{item_id}").status_code == 404
    assert _control(sandbox, "POST", "/items", {"item_name": "no sku"}).status_code == 400


def test_it_adjusts_inventory(sandbox: RunningSandbox, api: Api) -> None:
    response = _control(
        sandbox,
        "POST",
        "/inventory",
        {"item_id": "101", "facility_id": FACILITY_A, "qty": 7, "non_available_qty": 2},
    )

    assert response.json()["data"]["available_qty"] == 5
    row = api.get("/inventory/summary", facility=FACILITY_A, params={"item_id": "101"}).json()[
        "data"
    ][0]
    assert (row["qty"], row["non_available_qty"], row["sellable_qty"]) == (7, 2, 5)


def test_it_configures_webhook_endpoints(sandbox: RunningSandbox) -> None:
    created = _control(
        sandbox,
        "POST",
        "/webhooks",
        {
            "url": "http://127.0.0.1:9/hook",
            "signing_key": "k",
            "headers": {"X-A": "1"},
            "events": ["Inventory"],
        },
    ).json()["data"]

    listed = _control(sandbox, "GET", "/webhooks").json()["data"]
    assert listed == [created]
    assert created["events"] == ["Inventory"] and created["has_signing_key"] is True
    assert (
        _control(sandbox, "POST", "/webhooks", {"url": "x", "events": ["Nope"]}).status_code == 400
    )
    assert _control(sandbox, "DELETE", f"/webhooks/{created['id']}").status_code == 200
    assert _control(sandbox, "GET", "/webhooks").json()["data"] == []


def test_it_resets_to_the_seed(sandbox: RunningSandbox, new_order: dict[str, Any]) -> None:
    response = _control(sandbox, "POST", "/reset", {})

    assert response.json()["data"]["counts"]["orders"] == 1
    assert new_order["id"] not in sandbox.state.orders


def test_it_saves_and_reloads_a_state_file(tmp_path: Path, destination_id: str) -> None:
    path = tmp_path / "state.json"
    with running_sandbox(state_file=path) as first:
        first.state.set_inventory("101", FACILITY_A, 3)
        first.state.update_item("102", price=1.25)
        order = first.state.create_order(
            FACILITY_A,
            {
                "destination": {"id": destination_id},
                "sales_rep": {"id": 1},
                "order_lines": [{"sku": "GR-FL35-001", "order_qty": 2}],
            },
        )
        assert _control(first, "POST", "/save", {}).json()["data"]["path"] == str(path)

    with running_sandbox(state_file=path) as second:
        api = Api(second)
        assert api.get("/items/102").json()["data"]["price"] == 1.25
        row = api.get("/inventory/summary", facility=FACILITY_A, params={"item_id": "101"}).json()[
            "data"
        ][0]
        assert (row["qty"], row["on_order_qty"]) == (3, 2)
        assert (
            api.get(f"/outbound-orders/{order['id']}").json()["data"]["order_lines"][0]["order_qty"]
            == 2
        )


def test_it_replaces_an_endpoint_configured_again_for_the_same_url(
    sandbox: RunningSandbox,
) -> None:
    first = {"url": "http://127.0.0.1:9/hook", "signing_key": "old", "events": ["Inventory"]}
    _control(sandbox, "POST", "/webhooks", first)

    again = {**first, "signing_key": "new", "events": ["Outbound Order"]}
    _control(sandbox, "POST", "/webhooks", again)

    listed = _control(sandbox, "GET", "/webhooks").json()["data"]
    assert [(e["url"], e["events"]) for e in listed] == [(first["url"], ["Outbound Order"])]
