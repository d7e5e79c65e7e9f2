"""The API's envelope, paging, auth and record shapes (flourish-api.md §2-§4)."""

from __future__ import annotations

import base64

import requests
from conftest import FACILITY_A, FACILITY_B, Api

from flourish_sandbox.testing import RunningSandbox, running_sandbox


def test_it_wraps_single_records_in_the_success_envelope(api: Api) -> None:
    body = api.get(f"/facilities/{FACILITY_A}").json()

    assert body["message"] == "Success"
    assert body["status"] == 200
    assert body["data"]["id"] == FACILITY_A
    assert body["data"]["license_number"] == "C11-0000123-LIC"
    assert body["data"]["sales_rep_required_for_outbound"] is True


def test_it_lists_the_seeded_facilities_with_license_numbers(api: Api) -> None:
    body = api.get("/facilities").json()

    assert body["meta"] == {"total": 2, "offset": 0, "limit": 50, "count": 2, "next": ""}
    licenses = {f["id"]: f["license_number"] for f in body["data"]}
    assert licenses == {FACILITY_A: "C11-0000123-LIC", FACILITY_B: "C11-0000456-LIC"}
    assert {f["sales_rep_required_for_outbound"] for f in body["data"]} == {True, False}


def test_it_pages_with_offset_limit_and_an_absolute_next_url(
    api: Api, sandbox: RunningSandbox
) -> None:
    first = api.get("/items", params={"limit": 20, "brand_name": "Green Ridge"}).json()
    assert first["meta"]["total"] == 13
    assert first["meta"]["count"] == 13
    assert first["meta"]["next"] == ""

    page = api.get("/items", params={"limit": 20}).json()
    assert page["meta"] == {
        "total": 50,
        "offset": 0,
        "limit": 20,
        "count": 20,
        "next": sandbox.api_url + "/items?offset=20&limit=20",
    }
    seen = [item["id"] for item in page["data"]]
    while page["meta"]["next"]:
        page = requests.get(
            page["meta"]["next"], headers={"x-api-key": sandbox.api_key}, timeout=5
        ).json()
        seen += [item["id"] for item in page["data"]]
    assert page["meta"] == {"total": 50, "offset": 40, "limit": 20, "count": 10, "next": ""}
    assert len(seen) == len(set(seen)) == 50


def test_it_keeps_filters_in_the_next_url(api: Api) -> None:
    body = api.get(
        "/items",
        params=[("brand_name", "Green Ridge"), ("brand_name", "Blue Harbor"), ("limit", 5)],
    ).json()

    assert body["meta"]["total"] == 25
    assert "brand_name=Green+Ridge&brand_name=Blue+Harbor&offset=5&limit=5" in body["meta"]["next"]
    assert {item["brand"] for item in body["data"]} <= {"Green Ridge", "Blue Harbor"}


def test_it_clamps_limit_to_50_and_defaults_to_50(api: Api) -> None:
    with running_sandbox(items=120) as big:
        big_api = Api(big)
        clamped = big_api.get("/items", params={"limit": 500}).json()
        default = big_api.get("/items").json()

    assert clamped["meta"]["limit"] == 50
    assert clamped["meta"]["count"] == 50
    assert default["meta"]["limit"] == 50
    assert default["meta"]["total"] == 170


def test_it_tolerates_one_trailing_slash(api: Api) -> None:
    assert api.get("/facilities/").status_code == 200


def test_it_answers_401_for_a_wrong_or_missing_key(sandbox: RunningSandbox) -> None:
    wrong = requests.get(sandbox.api_url + "/items", headers={"x-api-key": "nope"}, timeout=5)
    missing = requests.get(sandbox.api_url + "/items", timeout=5)

    assert wrong.status_code == 401
    assert wrong.json() == {"message": "Unauthorized", "status": 401}
    assert missing.status_code == 401


def test_it_accepts_legacy_basic_auth() -> None:
    with running_sandbox(api_key="k1", username="gen-user") as sandbox:
        good = base64.b64encode(b"gen-user:k1").decode()
        bad = base64.b64encode(b"someone-else:k1").decode()
        ok = requests.get(
            sandbox.api_url + "/items", headers={"Authorization": f"Basic {good}"}, timeout=5
        )
        refused = requests.get(
            sandbox.api_url + "/items", headers={"Authorization": f"Basic {bad}"}, timeout=5
        )

    assert ok.status_code == 200
    assert refused.status_code == 401


def test_it_requires_the_facility_header_where_flourish_does(api: Api) -> None:
    for path in ("/inventory/summary", "/sales-reps"):
        response = api.get(path)
        assert response.status_code == 400, path
        assert response.json() == {"message": "FacilityID header is required", "status": 400}
    assert api.post("/outbound-orders", {}).status_code == 400
    assert api.put("/outbound-orders/00001001", {}).status_code == 400


def test_it_answers_404_for_unknown_ids(api: Api) -> None:
    for path in (
        "/items/999999",
        "/facilities/000000000000000000000000",
        "/destinations/nope",
        "/outbound-orders/99999999",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["status"] == 404


def test_it_serves_items_with_flourish_field_names_and_types(api: Api) -> None:
    item = api.get("/items/101").json()["data"]

    assert item["id"] == "101"
    assert isinstance(item["sku"], str) and item["sku"] == "GR-FL35-001"
    assert item["brand"] == "Green Ridge"
    for flag in (
        "active",
        "sellable",
        "external",
        "ecommerce_active",
        "strain_required",
        "is_tax_exempt",
    ):
        assert isinstance(item[flag], bool), flag
    assert isinstance(item["price"], (int, float)) and not isinstance(item["price"], bool)
    assert item["uom"] == "ea" and item["uom_description"] == "Each"
    assert isinstance(item["standard_qty_uom_id"], int)
    assert item["last_updated_timestamp"].endswith("Z")
    assert item["created_timestamp"].endswith("Z") and "." not in item["created_timestamp"]
    for name in (
        "item_name",
        "retail_display_name",
        "inventory_type",
        "item_class",
        "item_category",
    ):
        assert isinstance(item[name], str), name


def test_it_filters_items_by_repeatable_ids_skus_and_flags(api: Api) -> None:
    by_id = api.get("/items", params=[("item_id", "102"), ("item_id", "101")]).json()
    by_sku = api.get("/items", params={"sku": "GR-FL35-001"}).json()
    inactive = api.get("/items", params={"active": "false"}).json()
    not_sellable = api.get("/items", params={"sellable": "false"}).json()

    assert [i["id"] for i in by_id["data"]] == ["101", "102"]
    assert [i["id"] for i in by_sku["data"]] == ["101"]
    assert [i["id"] for i in inactive["data"]] == ["110"]
    assert [i["id"] for i in not_sellable["data"]] == ["120"]


def test_it_filters_items_by_last_updated_timestamp(api: Api, sandbox: RunningSandbox) -> None:
    before = api.get("/items/150").json()["data"]["last_updated_timestamp"]
    sandbox.state.update_item("103", price=99)

    changed = api.get("/items", params={"last_updated_timestamp_start": before}).json()

    assert [i["id"] for i in changed["data"]] == ["103", "150"]
    assert changed["data"][0]["price"] == 99


def test_it_lists_brands_with_integer_active_flags(api: Api) -> None:
    active = api.get("/brands").json()["data"]
    inactive = api.get("/brands", params={"active": "false"}).json()["data"]

    assert [b["brand_name"] for b in active] == [
        "Green Ridge",
        "Sunset Farms",
        "Blue Harbor",
        "Canyon Gold",
    ]
    assert all(b["active"] == 1 and type(b["active"]) is int for b in active)
    assert all(type(b["brand_id"]) is int for b in active)
    assert inactive == [{"brand_id": 5, "brand_name": "Old Mill", "active": 0}]


def test_it_serves_inventory_summary_rows_per_item_and_facility(api: Api) -> None:
    body = api.get(
        "/inventory/summary", facility=FACILITY_A, params=[("item_id", "101"), ("item_id", "105")]
    ).json()

    assert body["meta"]["total"] == 2
    row = body["data"][0]
    assert row["item_id"] == "101" and row["sku"] == "GR-FL35-001" and row["brand"] == "Green Ridge"
    for name in ("qty", "available_qty", "non_available_qty", "sellable_qty", "on_order_qty"):
        assert isinstance(row[name], (int, float)) and not isinstance(row[name], bool), name
    assert row["available_qty"] == row["qty"] - row["non_available_qty"]
    for name in ("item_variation_id", "variation_name", "lot_number"):
        assert row[name] is None
    assert row["last_updated_timestamp"].endswith("Z")


def test_it_filters_inventory_summary_by_sku(api: Api) -> None:
    body = api.get("/inventory/summary", facility=FACILITY_A, params={"sku": "GR-VC1-005"}).json()

    assert [r["item_id"] for r in body["data"]] == ["105"]


def test_it_scopes_inventory_summary_to_the_facility(api: Api) -> None:
    a = api.get("/inventory/summary", facility=FACILITY_A).json()["meta"]["total"]
    b = api.get("/inventory/summary", facility=FACILITY_B).json()["meta"]["total"]

    assert (a, b) == (50, 34)


def test_it_finds_destinations_by_license_number_and_search(api: Api) -> None:
    found = api.get("/destinations", params={"license_number": "C10-0000202-LIC"}).json()["data"]
    searched = api.get("/destinations", params={"search": "mesa"}).json()["data"]

    assert [d["name"] for d in found] == ["Harbor Lights Cannabis Co"]
    assert [d["license_number"] for d in searched] == ["C10-0000203-LIC"]
    assert found[0]["total_open_balance"] == "0.00"
    assert found[0]["state"] == "CA" and found[0]["country"] == "United States"
    assert api.get(f"/destinations/{found[0]['id']}").json()["data"]["name"] == found[0]["name"]


def test_it_creates_a_destination(api: Api) -> None:
    created = api.post(
        "/destinations",
        {"name": "New Leaf", "type": "Dispensary", "license_number": "C10-9", "state": "CA"},
    ).json()

    assert created["status"] == 200
    assert (
        api.get("/destinations", params={"license_number": "C10-9"}).json()["data"][0]["id"]
        == created["data"]["id"]
    )
    assert api.post("/destinations", {"type": "Dispensary"}).status_code == 400


def test_it_lists_sales_reps_available_to_the_facility(api: Api) -> None:
    reps_a = api.get("/sales-reps", facility=FACILITY_A).json()["data"]
    reps_b = api.get("/sales-reps", facility=FACILITY_B).json()["data"]

    assert {r["email"] for r in reps_a} == {"ana.ruiz@example.com", "marcus.lee@example.com"}
    assert {r["email"] for r in reps_b} == {"marcus.lee@example.com"}
    assert all(type(r["sales_rep_id"]) is int for r in reps_a)
