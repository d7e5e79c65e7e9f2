"""The client's HTTP behaviour against a scripted local server (conftest.ScriptedFlourish)."""

from __future__ import annotations

import base64
import datetime as dt
import socket
from decimal import Decimal

import pytest

from flourish_client import (
    AuthError,
    DestinationRequest,
    FlourishClient,
    NotFound,
    OrderLineRequest,
    OutboundOrderRequest,
    ProtocolError,
    TransientError,
    ValidationError,
)

from .conftest import Scripted, ScriptedFlourish, envelope

FACILITY = "58b9b09d280e20ea24a126bb"


def _client(flourish: ScriptedFlourish, **options: object) -> FlourishClient:
    return FlourishClient(flourish.url, "test-key", **options)  # type: ignore[arg-type]


def _items(start: int, count: int) -> list[dict[str, object]]:
    return [
        {"id": str(n), "sku": f"SKU-{n}", "item_name": f"Item {n}"}
        for n in range(start, start + count)
    ]


def _page(rows: list[dict[str, object]], offset: int, last: bool) -> Scripted:
    next_url = "" if last else f"http://x/external/api/v1/items?offset={offset + 50}&limit=50"
    return Scripted(body=envelope(rows, offset=offset, limit=50, count=len(rows), next=next_url))


def test_it_sends_the_api_key_on_the_documented_path(flourish: ScriptedFlourish) -> None:
    flourish.answer(Scripted(body=envelope({"id": "160", "sku": "A"})))

    item = _client(flourish).get_item("160")

    sent = flourish.received[0]
    assert item.sku == "A"
    assert sent.path == "/external/api/v1/items/160"
    assert sent.headers["x-api-key"] == "test-key"
    assert "authorization" not in sent.headers
    assert "facilityid" not in sent.headers


@pytest.mark.parametrize("suffix", ["/", "/external/api", "/external/api/"])
def test_it_tolerates_what_an_admin_types_as_base_url(
    flourish: ScriptedFlourish, suffix: str
) -> None:
    flourish.answer(Scripted(body=envelope({"id": "160"})))

    FlourishClient(flourish.url + suffix, "test-key").get_item("160")

    assert flourish.received[0].path == "/external/api/v1/items/160"


def test_it_adds_legacy_basic_auth_when_asked(flourish: ScriptedFlourish) -> None:
    flourish.answer(Scripted(body=envelope({"id": "160"})))

    _client(flourish, username="u_7f3a", use_basic_auth=True).get_item("160")

    headers = flourish.received[0].headers
    assert headers["x-api-key"] == "test-key"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"u_7f3a:test-key").decode()


def test_it_refuses_a_facility_bound_call_without_a_facility_before_any_http(
    flourish: ScriptedFlourish,
) -> None:
    client = _client(flourish)

    with pytest.raises(ValueError, match="FacilityID"):
        next(client.inventory_summary())
    with pytest.raises(ValueError, match="FacilityID"):
        client.create_outbound_order({"order_lines": []})

    assert flourish.received == []
    assert client.request_count == 0


def test_it_lets_a_per_call_facility_override_the_default(flourish: ScriptedFlourish) -> None:
    flourish.answer(_page([], 0, last=True), _page([], 0, last=True))
    client = _client(flourish, facility_id="default-facility")

    list(client.list_sales_reps())
    list(client.list_sales_reps(facility_id=FACILITY))

    assert [r.headers["facilityid"] for r in flourish.received] == ["default-facility", FACILITY]


def test_it_pages_until_next_is_empty_yielding_lazily(flourish: ScriptedFlourish) -> None:
    # given three pages of 50, 50 and 50 rows where only the third says next == ""
    flourish.answer(
        _page(_items(0, 50), 0, last=False),
        _page(_items(50, 50), 50, last=False),
        _page(_items(100, 50), 100, last=True),
    )
    client = _client(flourish)

    # when the first item is taken, only one page has been asked for
    items = client.list_items()
    first = next(items)
    assert first.id == "0"
    assert len(flourish.received) == 1

    # then the rest arrives page by page, with offsets counted in records
    rest = list(items)
    assert len(rest) == 149
    assert [dict(r.query)["offset"] for r in flourish.received] == ["0", "50", "100"]
    assert all(dict(r.query)["limit"] == "50" for r in flourish.received)
    assert client.pages_fetched == 3
    assert client.request_count == 3


def test_it_stops_on_a_short_page_even_without_meta(flourish: ScriptedFlourish) -> None:
    flourish.answer(Scripted(body={"message": "Success", "status": 200, "data": _items(0, 3)}))

    assert len(list(_client(flourish).list_items())) == 3
    assert len(flourish.received) == 1


def test_it_repeats_list_filters_and_formats_timestamps(flourish: ScriptedFlourish) -> None:
    flourish.answer(_page([], 0, last=True))
    since = dt.datetime(2025, 3, 1, 17, 5, tzinfo=dt.UTC)

    list(
        _client(flourish).list_items(
            brand_names=["Green Ridge", "BuildCO"], last_updated_since=since, active=True
        )
    )

    query = flourish.received[0].query
    assert [v for k, v in query if k == "brand_name"] == ["Green Ridge", "BuildCO"]
    assert ("last_updated_timestamp_start", "2025-03-01T17:05:00.000Z") in query
    assert ("active", "true") in query


def test_it_splits_inventory_summary_item_ids_into_calls_of_fifty(
    flourish: ScriptedFlourish,
) -> None:
    ids = [str(n) for n in range(120)]
    flourish.answer(*[_page([], 0, last=True) for _ in range(3)])

    list(_client(flourish).inventory_summary(facility_id=FACILITY, item_ids=ids))

    sent_ids = [[v for k, v in r.query if k == "item_id"] for r in flourish.received]
    assert [len(chunk) for chunk in sent_ids] == [50, 50, 20]
    assert [item_id for chunk in sent_ids for item_id in chunk] == ids
    assert all(r.headers["facilityid"] == FACILITY for r in flourish.received)
    assert flourish.received[0].path == "/external/api/v1/inventory/summary"


def test_it_posts_json_with_content_type_and_facility(flourish: ScriptedFlourish) -> None:
    flourish.answer(
        Scripted(body=envelope({"id": "00000001", "order_status": "Created",
                                "origin_facility_id": FACILITY, "total_price": 90}))
    )  # fmt: skip
    request = OutboundOrderRequest(
        original_order_id="CRM-1",
        destination=DestinationRequest.by_id("9da408fef5445f4a698b"),
        lines=(
            OrderLineRequest(sku="GRN-PR-05", order_qty=Decimal(4), unit_price=Decimal("22.5")),
        ),
        order_timestamp=dt.datetime(2025, 3, 1, 17, 5, tzinfo=dt.UTC),
        sales_rep_id="7",
    )

    order = _client(flourish).create_outbound_order(request, facility_id=FACILITY)

    sent = flourish.received[0]
    assert (sent.method, sent.path) == ("POST", "/external/api/v1/outbound-orders")
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["facilityid"] == FACILITY
    assert sent.body == {
        "original_order_id": "CRM-1",
        "order_timestamp": "2025-03-01T17:05:00.000Z",
        "destination": {"id": "9da408fef5445f4a698b"},
        "order_lines": [
            {"sku": "GRN-PR-05", "order_qty": 4, "unit_price": 22.5, "discount_price": 0}
        ],
        "sales_rep": {"id": 7},
    }
    assert order.id == "00000001"
    assert order.origin_facility_id == FACILITY


def test_it_never_mixes_a_destination_id_with_other_fields() -> None:
    assert DestinationRequest(id="d1", name="Green Door").to_wire() == {"id": "d1"}
    assert DestinationRequest(name="Green Door", license_number="L-1").to_wire() == {
        "name": "Green Door",
        "license_number": "L-1",
    }
    with pytest.raises(ValueError):
        OrderLineRequest(order_qty=Decimal(1), unit_price=Decimal(1)).to_wire()


def test_it_cancels_with_the_official_body_read_from_the_order(
    flourish: ScriptedFlourish,
) -> None:
    flourish.answer(
        Scripted(body=envelope({"id": "00000001", "original_order_id": "CRM-1",
                                "order_status": "Created",
                                "order_timestamp": "2025-03-01T17:05:00Z",
                                "destination": {"id": "d1"}})),
        Scripted(body=envelope({"id": "00000001", "order_status": "Cancelled"})),
    )  # fmt: skip

    order = _client(flourish, facility_id=FACILITY).cancel_outbound_order("00000001")

    get, put = flourish.received
    assert "facilityid" not in get.headers
    assert (put.method, put.path) == ("PUT", "/external/api/v1/outbound-orders/00000001")
    assert put.body == {
        "order_timestamp": "2025-03-01T17:05:00.000Z",
        "original_order_id": "CRM-1",
        "destination": {"id": "d1"},
        "order_status": "Cancelled",
    }
    assert order.order_status == "Cancelled"


def test_it_finds_the_live_order_for_an_original_id(flourish: ScriptedFlourish) -> None:
    orders: list[dict[str, object]] = [
        {"id": "1", "original_order_id": "CRM-1", "order_status": "Cancelled",
         "created_timestamp": "2025-03-01T17:00:00Z"},
        {"id": "2", "original_order_id": "CRM-2", "order_status": "Created"},
        {"id": "3", "original_order_id": "CRM-1", "order_status": "Created",
         "created_timestamp": "2025-03-01T16:00:00Z"},
    ]  # fmt: skip
    flourish.answer(_page(orders, 0, last=True), _page(orders, 0, last=True))
    client = _client(flourish)
    since = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

    found = client.find_outbound_order_by_original_id("CRM-1", created_since=since)
    missing = client.find_outbound_order_by_original_id("CRM-9", created_since=since)

    assert found is not None and found.id == "3"
    assert missing is None
    assert ("created_timestamp_start", "2025-03-01T00:00:00.000Z") in flourish.received[0].query


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, ValidationError), (401, AuthError), (403, AuthError), (404, NotFound),
     (500, TransientError), (503, TransientError)],
)  # fmt: skip
def test_it_raises_the_classified_error_for_a_status(
    flourish: ScriptedFlourish, status: int, kind: type[Exception]
) -> None:
    flourish.answer(Scripted(status=status, body={"message": "nope", "status": status}))

    with pytest.raises(kind):
        _client(flourish).get_item("1")


def test_it_reads_retry_after_from_a_429(flourish: ScriptedFlourish) -> None:
    flourish.answer(
        Scripted(status=429, body={"message": "slow down"}, headers={"Retry-After": "12"})
    )

    with pytest.raises(TransientError) as caught:
        _client(flourish).get_item("1")

    assert caught.value.status_code == 429
    assert caught.value.retry_after_seconds == 12.0
    assert caught.value.retryable is True


def test_it_treats_a_read_timeout_as_transient(flourish: ScriptedFlourish) -> None:
    flourish.answer(Scripted(body=envelope({"id": "1"}), delay_seconds=1.0))

    with pytest.raises(TransientError, match="in time"):
        _client(flourish, timeout=(1.0, 0.2)).get_item("1")


def test_it_treats_a_refused_connection_as_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # the port is closed again now, so nothing listens there

    with pytest.raises(TransientError, match="connect"):
        FlourishClient(f"http://127.0.0.1:{port}", "test-key").get_item("1")


def test_it_does_not_follow_a_redirect(flourish: ScriptedFlourish) -> None:
    flourish.answer(Scripted(status=302, body={}, headers={"Location": "https://evil.example/x"}))

    with pytest.raises(ProtocolError, match="redirected"):
        _client(flourish).get_item("1")

    assert len(flourish.received) == 1


@pytest.mark.parametrize(
    "scripted",
    [
        Scripted(raw=b"<html>maintenance</html>"),
        Scripted(body={"message": "Success", "status": 200}),
        Scripted(body=["not", "an", "envelope"]),
        Scripted(status=204, raw=b""),
    ],
)
def test_it_refuses_a_success_that_is_not_the_envelope(
    flourish: ScriptedFlourish, scripted: Scripted
) -> None:
    flourish.answer(scripted)

    with pytest.raises(ProtocolError) as caught:
        _client(flourish).get_item("1")

    assert caught.value.retryable is False
