"""Outbound order create/update rules (flourish-api.md §4.10, §7)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FACILITY_A, FACILITY_B, Api, order_body

from flourish_sandbox.testing import RunningSandbox

FULL_DESTINATION = {
    "name": "Brand New Dispensary",
    "type": "Dispensary",
    "address_line_1": "1 Elm St",
    "city": "Eureka",
    "state": "CA",
    "zip_code": "95501",
    "country": "United States",
    "license_number": "C10-0000999-LIC",
    "contact": {"first_name": "Lee", "last_name": "Park", "email": "lee@new.example"},
}


def test_it_creates_an_order_with_200_and_an_8_digit_id(api: Api, destination_id: str) -> None:
    response = api.post(
        "/outbound-orders", order_body(destination={"id": destination_id}), facility=FACILITY_A
    )

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Success" and body["status"] == 200
    order = body["data"]
    assert isinstance(order["id"], str) and len(order["id"]) == 8 and order["id"].isdigit()
    assert order["origin_facility_id"] == FACILITY_A
    assert "origin_facility" not in order
    assert order["order_status"] == "Created"
    assert order["payment_status"] == "Awaiting Payment"
    assert order["original_order_id"] == "CRM-1"
    assert order["sales_rep"]["id"] == 1 and order["sales_rep"]["email"] == "ana.ruiz@example.com"


def test_it_serves_the_get_record_with_nested_origin_facility(
    api: Api, new_order: dict[str, Any]
) -> None:
    order = api.get(f"/outbound-orders/{new_order['id']}").json()["data"]

    assert order["origin_facility"] == {
        "id": FACILITY_A,
        "facility_name": "Green Ridge Distribution",
    }
    assert "origin_facility_id" not in order
    assert order["invoice_date"] == "" and order["requested_delivery_date"] == ""
    assert order["shipped_timestamp"] is None
    assert order["created_timestamp"].endswith("Z") and "." not in order["created_timestamp"]
    assert order["last_updated_timestamp"].endswith("Z")
    assert order["order_timestamp"] == "2025-03-01T17:05:00.000Z"
    assert order["destination"]["license_number"] == "C10-0000201-LIC"
    line = order["order_lines"][0]
    assert set(line) >= {
        "sku",
        "item_id",
        "order_qty",
        "allocated_qty",
        "unit_price",
        "discount_price",
        "line_total_price",
    }
    assert line["item_id"] == "101" and line["sku"] == "GR-FL35-001"
    assert line["allocated_qty"] is None


def test_it_computes_line_and_order_totals(api: Api, destination_id: str) -> None:
    lines = [
        {"sku": "GR-FL35-001", "order_qty": 4, "unit_price": 22.5, "discount_price": 5},
        {"item_id": "102", "order_qty": 2.5, "unit_price": 4},
    ]
    order = api.post(
        "/outbound-orders",
        order_body(destination={"id": destination_id}, order_lines=lines),
        facility=FACILITY_A,
    ).json()["data"]

    assert [line["line_total_price"] for line in order["order_lines"]] == [85, 10]
    assert order["sub_total_price"] == 95
    assert order["total_price"] == 95


def test_it_refuses_a_destination_id_with_other_keys(api: Api, destination_id: str) -> None:
    body = order_body(destination={"id": destination_id, "name": "Green Door Dispensary"})

    response = api.post("/outbound-orders", body, facility=FACILITY_A)

    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert "destination" in response.json()["message"]


def test_it_refuses_an_unknown_destination_id(api: Api) -> None:
    response = api.post(
        "/outbound-orders",
        order_body(destination={"id": "ffffffffffffffffffff"}),
        facility=FACILITY_A,
    )

    assert response.status_code == 400


def test_it_refuses_a_destination_without_name_and_address(api: Api) -> None:
    response = api.post(
        "/outbound-orders", order_body(destination={"name": "Half Known"}), facility=FACILITY_A
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("destination could not be resolved")


def test_it_creates_a_destination_from_a_full_object_then_reuses_it_by_name(
    api: Api, sandbox: RunningSandbox
) -> None:
    before = len(sandbox.state.destinations)
    first = api.post(
        "/outbound-orders", order_body(destination=FULL_DESTINATION), facility=FACILITY_A
    ).json()["data"]
    second = api.post(
        "/outbound-orders", order_body(destination=FULL_DESTINATION), facility=FACILITY_A
    ).json()["data"]

    assert len(sandbox.state.destinations) == before + 1
    assert first["destination"]["id"] == second["destination"]["id"]
    assert first["destination"]["contact"]["email"] == "lee@new.example"
    found = api.get("/destinations", params={"license_number": "C10-0000999-LIC"}).json()["data"]
    assert [d["id"] for d in found] == [first["destination"]["id"]]


def test_it_matches_an_existing_destination_by_name(api: Api, destination_id: str) -> None:
    spec = {**FULL_DESTINATION, "name": "Green Door Dispensary"}

    order = api.post("/outbound-orders", order_body(destination=spec), facility=FACILITY_A).json()[
        "data"
    ]

    assert order["destination"]["id"] == destination_id


@pytest.mark.parametrize(
    ("lines", "message_part"),
    [
        ([{"sku": "NOPE-1", "order_qty": 1, "unit_price": 1}], "NOPE-1"),
        ([{"item_id": "999999", "order_qty": 1, "unit_price": 1}], "999999"),
        ([], "order_lines"),
        ([{"sku": "GR-FL35-001", "order_qty": 0, "unit_price": 1}], "order_qty"),
    ],
)
def test_it_refuses_bad_order_lines(
    api: Api, destination_id: str, lines: list[Any], message_part: str
) -> None:
    response = api.post(
        "/outbound-orders",
        order_body(destination={"id": destination_id}, order_lines=lines),
        facility=FACILITY_A,
    )

    assert response.status_code == 400
    assert message_part in response.json()["message"]


def test_it_requires_a_sales_rep_where_the_facility_says_so(api: Api, destination_id: str) -> None:
    body = order_body(destination={"id": destination_id})
    del body["sales_rep"]

    refused = api.post("/outbound-orders", body, facility=FACILITY_A)
    accepted = api.post("/outbound-orders", body, facility=FACILITY_B)

    assert refused.status_code == 400
    assert "sales_rep" in refused.json()["message"]
    assert accepted.status_code == 200
    assert accepted.json()["data"]["sales_rep"] is None


def test_it_matches_or_creates_sales_reps_by_email(
    api: Api, destination_id: str, sandbox: RunningSandbox
) -> None:
    known = order_body(
        destination={"id": destination_id}, sales_rep={"email": "Marcus.Lee@example.com"}
    )
    new = order_body(
        destination={"id": destination_id},
        sales_rep={"first_name": "Jo", "last_name": "Kim", "email": "jo@example.com"},
    )

    first = api.post("/outbound-orders", known, facility=FACILITY_A).json()["data"]
    second = api.post("/outbound-orders", new, facility=FACILITY_A).json()["data"]

    assert first["sales_rep"]["id"] == 2
    assert second["sales_rep"]["email"] == "jo@example.com"
    assert len(sandbox.state.sales_reps) == 3
    assert (
        api.post(
            "/outbound-orders",
            order_body(destination={"id": destination_id}, sales_rep={"id": 77}),
            facility=FACILITY_A,
        ).status_code
        == 400
    )


def test_it_creates_nothing_when_an_order_is_refused(api: Api, sandbox: RunningSandbox) -> None:
    before = (len(sandbox.state.destinations), len(sandbox.state.orders))
    bad_lines = [{"sku": "NOPE", "order_qty": 1, "unit_price": 1}]

    response = api.post(
        "/outbound-orders",
        order_body(destination=FULL_DESTINATION, order_lines=bad_lines),
        facility=FACILITY_A,
    )

    assert response.status_code == 400
    assert (len(sandbox.state.destinations), len(sandbox.state.orders)) == before


def test_it_updates_a_created_order_with_put(api: Api, new_order: dict[str, Any]) -> None:
    lines = [{"sku": "SF-BULK-002", "order_qty": 10, "unit_price": 4.5}]

    response = api.put(
        f"/outbound-orders/{new_order['id']}",
        {"order_lines": lines, "notes": [{"subject": "s", "note": "n"}]},
        facility=FACILITY_A,
    )

    assert response.status_code == 200
    order = response.json()["data"]
    assert order["id"] == new_order["id"]
    assert order["origin_facility_id"] == FACILITY_A
    assert [line["sku"] for line in order["order_lines"]] == ["SF-BULK-002"]
    assert order["total_price"] == 45
    assert order["last_updated_timestamp"] > new_order["last_updated_timestamp"]


def test_it_refuses_put_once_allocated(
    api: Api, sandbox: RunningSandbox, new_order: dict[str, Any]
) -> None:
    sandbox.state.allocate_order(new_order["id"])

    edit = api.put(f"/outbound-orders/{new_order['id']}", {"notes": []}, facility=FACILITY_A)
    cancel = api.put(
        f"/outbound-orders/{new_order['id']}", {"order_status": "Cancelled"}, facility=FACILITY_A
    )

    assert edit.status_code == 400
    assert cancel.status_code == 400


def test_it_cancels_through_put_without_a_sales_rep(api: Api, new_order: dict[str, Any]) -> None:
    body = {
        "original_order_id": "CRM-1",
        "destination": new_order["destination"] and {"id": new_order["destination"]["id"]},
        "order_status": "Cancelled",
    }

    response = api.put(f"/outbound-orders/{new_order['id']}", body, facility=FACILITY_A)

    assert response.status_code == 200
    assert response.json()["data"]["order_status"] == "Cancelled"


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (("ship_order",), "Order has already been shipped"),
        (("ship_order", "complete_order"), "Order has already been completed"),
        (("cancel_order",), "Order has already been cancelled"),
    ],
)
def test_it_refuses_cancelling_finished_orders_with_the_documented_messages(
    api: Api,
    sandbox: RunningSandbox,
    new_order: dict[str, Any],
    prepare: tuple[str, ...],
    message: str,
) -> None:
    for step in prepare:
        getattr(sandbox.state, step)(new_order["id"])

    response = api.put(
        f"/outbound-orders/{new_order['id']}", {"order_status": "Cancelled"}, facility=FACILITY_A
    )

    assert response.status_code == 400
    assert response.json() == {"message": message, "status": 400}


def test_it_refuses_other_status_changes_through_put(api: Api, new_order: dict[str, Any]) -> None:
    response = api.put(
        f"/outbound-orders/{new_order['id']}", {"order_status": "Shipped"}, facility=FACILITY_A
    )

    assert response.status_code == 400


def test_it_lists_orders_with_filters(
    api: Api, sandbox: RunningSandbox, new_order: dict[str, Any]
) -> None:
    sandbox.state.ship_order(new_order["id"])

    shipped = api.get("/outbound-orders", params={"order_status": "Shipped"}).json()
    scoped_b = api.get("/outbound-orders", facility=FACILITY_B).json()
    by_id = api.get(
        "/outbound-orders", params=[("order_id", new_order["id"]), ("order_id", "00001001")]
    ).json()
    since = api.get(
        "/outbound-orders",
        params={"last_updated_timestamp_start": new_order["last_updated_timestamp"]},
    ).json()

    assert [o["id"] for o in shipped["data"]] == [new_order["id"]]
    assert shipped["data"][0]["shipped_timestamp"].endswith("Z")
    assert scoped_b["meta"]["total"] == 0
    assert by_id["meta"]["total"] == 2
    assert [o["id"] for o in since["data"]] == [new_order["id"]]


def test_it_ignores_original_order_id_as_a_filter(api: Api, new_order: dict[str, Any]) -> None:
    body = api.get("/outbound-orders", params={"original_order_id": "does-not-exist"}).json()

    assert body["meta"]["total"] == 2
