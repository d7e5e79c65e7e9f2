"""Webhook envelopes ``{"action", "resource_type", "data"}`` become typed events (§5.2)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from flourish_client import (
    InventorySummaryRow,
    Item,
    MalformedEvent,
    OutboundOrder,
    parse_event,
)


def _body(resource_type: str, data: object, action: str = "update") -> bytes:
    return json.dumps({"action": action, "resource_type": resource_type, "data": data}).encode()


ORDER_DATA = {
    "id": "00042711",
    "original_order_id": "CRM-10042",
    "order_status": "Shipped",
    "payment_status": "Awaiting Payment",
    "last_updated_timestamp": "2025-03-03T15:12:41Z",
    "origin_facility": {"id": "5c1991b318fc4c7c6792789e"},
    "order_lines": [],
}


@pytest.mark.parametrize("resource_type", ["order", "outbound_order"])
def test_it_parses_an_outbound_order_event_under_either_name(resource_type: str) -> None:
    event = parse_event(_body(resource_type, ORDER_DATA))

    assert event.resource_type == "order"
    assert event.action == "update"
    assert event.supported is True
    assert isinstance(event.data, OutboundOrder)
    assert event.data.original_order_id == "CRM-10042"
    assert event.resource_id == "00042711"
    assert event.last_updated_timestamp == dt.datetime(2025, 3, 3, 15, 12, 41, tzinfo=dt.UTC)


def test_it_parses_an_item_event() -> None:
    event = parse_event(
        _body("item", {"id": "160", "sku": "GRN-PR-05", "price": 6, "brand": "Green Ridge"})
    )

    assert isinstance(event.data, Item)
    assert event.data.brand == "Green Ridge"
    assert event.resource_id == "160"


def test_it_parses_an_inventory_summary_event_keyed_by_item_id() -> None:
    event = parse_event(
        _body(
            "inventory_summary",
            {
                "item_id": "160",
                "sku": "GRN-PR-05",
                "sellable_qty": 1040.5,
                "last_updated_timestamp": "2025-03-02T10:01:03.000Z",
            },
        )
    )

    assert isinstance(event.data, InventorySummaryRow)
    assert event.data.sellable_qty == Decimal("1040.5")
    assert event.resource_id == "160"
    assert event.last_updated_timestamp == dt.datetime(2025, 3, 2, 10, 1, 3, tzinfo=dt.UTC)


def test_it_parses_an_unknown_resource_type_as_unsupported() -> None:
    event = parse_event(_body("retail_order", {"order_id": "R-1", "last_updated_timestamp": ""}))

    assert event.supported is False
    assert event.resource_type == "retail_order"
    assert event.resource_id == "R-1"
    assert event.last_updated_timestamp is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"action": "create", "data": {}}', "resource_type is missing"),
        (b'{"action": "create", "resource_type": "item"}', "data is missing"),
        (b'{"resource_type": "item", "data": [1]}', "data is not an object"),
        (b'{"resource_type": "order", "data": {"total_price": "lots"}}', "order data is invalid"),
    ],
)
def test_it_refuses_a_malformed_body_with_a_short_reason(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        parse_event(body)


def test_it_treats_a_malformed_event_as_a_value_error() -> None:
    assert issubclass(MalformedEvent, ValueError)
