"""Webhooks as Flourish sends them: envelope, Auth-Signature over the raw body, custom headers."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import requests
from conftest import FACILITY_A, Api, Receiver, order_body

from flourish_sandbox.testing import RunningSandbox

KEY = "whsec-test"


def _subscribe(sandbox: RunningSandbox, receiver: Receiver, *events: str) -> None:
    sandbox.state.add_webhook_endpoint(
        receiver.url,
        signing_key=KEY,
        headers={"X-Shared-Secret": "s3cret"},
        events=list(events) or None,
    )


def test_it_signs_the_exact_body_and_sends_custom_headers(
    sandbox: RunningSandbox, receiver: Receiver
) -> None:
    _subscribe(sandbox, receiver, "Inventory")

    sandbox.state.set_inventory("101", FACILITY_A, 42)
    assert sandbox.state.wait_for_deliveries(5)

    [message] = receiver.requests
    expected = hmac.new(KEY.encode(), message.body, hashlib.sha256).hexdigest()
    assert message.headers["Auth-Signature"] == expected
    assert message.headers["X-Shared-Secret"] == "s3cret"
    assert message.headers["Content-Type"] == "application/json"
    assert message.path == "/flourish/webhook"
    payload = message.json
    assert payload["action"] == "update"
    assert payload["resource_type"] == "inventory_summary"
    assert payload["data"]["sku"] == "GR-FL35-001" and payload["data"]["qty"] == 42
    assert "sellable_qty" in payload["data"]


def test_it_sends_full_order_records_on_create_and_status_changes(
    sandbox: RunningSandbox, receiver: Receiver, api: Api, new_order: dict[str, Any]
) -> None:
    _subscribe(sandbox, receiver, "Outbound Order")

    sandbox.state.allocate_order(new_order["id"])
    sandbox.state.ship_order(new_order["id"])
    sandbox.state.wait_for_deliveries(5)

    payloads = [r.json for r in receiver.requests]
    assert {p["resource_type"] for p in payloads} == {"order"}
    assert [p["data"]["order_status"] for p in payloads] == ["Allocated", "Shipped"]
    assert payloads[-1]["data"] == api.get(f"/outbound-orders/{new_order['id']}").json()["data"]


def test_it_sends_create_for_new_orders_and_item_events(
    sandbox: RunningSandbox, receiver: Receiver, api: Api, destination_id: str
) -> None:
    _subscribe(sandbox, receiver, "Outbound Order", "Item")
    api.post(
        "/outbound-orders", order_body(destination={"id": destination_id}), facility=FACILITY_A
    )
    sandbox.state.update_item("101", price=1)
    sandbox.state.wait_for_deliveries(5)

    kinds = [(r.json["action"], r.json["resource_type"]) for r in receiver.requests]
    assert kinds == [("create", "order"), ("update", "item")]
    assert receiver.requests[1].json["data"]["price"] == 1


def test_it_retries_non_2xx_answers_and_logs_every_attempt(
    sandbox: RunningSandbox, receiver: Receiver
) -> None:
    _subscribe(sandbox, receiver, "Item")
    receiver.statuses = [500, 503]

    sandbox.state.update_item("101", price=2)
    sandbox.state.wait_for_deliveries(5)

    assert len(receiver.requests) == 3
    log = sandbox.state.deliveries()
    assert [(d["status_code"], d["attempt"], d["outcome"]) for d in log] == [
        (500, 1, "retrying"),
        (503, 2, "retrying"),
        (200, 3, "delivered"),
    ]
    assert log[0]["resource_type"] == "item" and log[0]["resource_id"] == "101"


def test_it_logs_connection_errors(sandbox: RunningSandbox) -> None:
    sandbox.state.add_webhook_endpoint("http://127.0.0.1:9/nowhere", events=["Item"])

    sandbox.state.update_item("101", price=3)
    sandbox.state.wait_for_deliveries(5)

    log = sandbox.state.deliveries()
    assert [d["outcome"] for d in log] == ["retrying", "retrying", "failed"]
    assert all(d["error"] for d in log)


def test_it_can_deliver_twice(sandbox: RunningSandbox, receiver: Receiver) -> None:
    _subscribe(sandbox, receiver, "Item")
    sandbox.state.set_webhook_fault("duplicate", 1)

    sandbox.state.update_item("101", price=4)
    sandbox.state.update_item("101", price=5)
    sandbox.state.wait_for_deliveries(5)

    assert [r.json["data"]["price"] for r in receiver.requests] == [4, 4, 5]
    assert receiver.requests[0].body == receiver.requests[1].body


def test_it_can_drop_a_delivery_and_log_it(sandbox: RunningSandbox, receiver: Receiver) -> None:
    _subscribe(sandbox, receiver, "Item")
    requests.post(sandbox.url + "/sandbox/faults", json={"webhook": {"mode": "drop"}}, timeout=5)

    sandbox.state.update_item("101", price=6)
    sandbox.state.update_item("101", price=7)
    sandbox.state.wait_for_deliveries(5)

    assert [r.json["data"]["price"] for r in receiver.requests] == [7]
    log = requests.get(sandbox.url + "/sandbox/deliveries", timeout=5).json()["data"]
    assert log[0]["outcome"] == "dropped" and log[0]["status_code"] is None


def test_it_can_deliver_out_of_order(sandbox: RunningSandbox, receiver: Receiver) -> None:
    _subscribe(sandbox, receiver, "Item")
    sandbox.state.set_webhook_fault("reorder", 1)

    sandbox.state.update_item("101", price=8)
    sandbox.state.update_item("101", price=9)
    sandbox.state.wait_for_deliveries(5)

    prices = [r.json["data"]["price"] for r in receiver.requests]
    stamps = [r.json["data"]["last_updated_timestamp"] for r in receiver.requests]
    assert prices == [9, 8]
    assert stamps[0] > stamps[1]
