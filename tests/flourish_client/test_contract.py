"""Contract tests: the real client against the Flourish sandbox over HTTP.

The sandbox follows flourish-api.md; these tests pin the client's reading of it: paths, headers,
paging, error classes and the outbound order rules of §4.10. Data comes from the sandbox's
``demo`` scenario (flourish_sandbox/scenarios.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from flourish_client import (
    AuthError,
    DestinationRequest,
    FlourishClient,
    NotFound,
    OrderLineRequest,
    OrderStatus,
    OutboundOrderRequest,
    PaymentStatus,
    TransientError,
    ValidationError,
    parse_event,
    verify,
)
from flourish_client.records import InventorySummaryRow, OutboundOrder

from .conftest import ScriptedFlourish

testing = pytest.importorskip("flourish_sandbox.testing")

pytestmark = pytest.mark.integration

# The demo scenario (flourish_sandbox/scenarios.py).
REP_REQUIRED_FACILITY = "5c1991b318fc4c7c6792789e"
NO_REP_FACILITY = "58b9b09d280e20ea24a126bb"
ANA_RUIZ = "1"
GREEN_DOOR_LICENSE = "C10-0000201-LIC"
SKU = "GR-VC1-005"


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with testing.running_sandbox(api_key="test-key", seed="demo", items=0) as running:
        yield running


@pytest.fixture
def client(sandbox: Any) -> Iterator[FlourishClient]:
    with FlourishClient(
        sandbox.url, sandbox.api_key, facility_id=REP_REQUIRED_FACILITY, timeout=(2.0, 5.0)
    ) as flourish:
        yield flourish


def _green_door(client: FlourishClient) -> str:
    (destination,) = client.list_destinations(license_number=GREEN_DOOR_LICENSE)
    return destination.id


def _order(
    client: FlourishClient, original_order_id: str, **overrides: Any
) -> OutboundOrderRequest:
    fields: dict[str, Any] = {
        "original_order_id": original_order_id,
        "destination": DestinationRequest.by_id(_green_door(client)),
        "lines": (OrderLineRequest(sku=SKU, order_qty=Decimal(4), unit_price=Decimal("22.5")),),
        "order_timestamp": dt.datetime(2025, 3, 1, 17, 5, tzinfo=dt.UTC),
        "sales_rep_id": ANA_RUIZ,
    }
    return OutboundOrderRequest(**(fields | overrides))


# -- reading the company --------------------------------------------------------------------------


def test_it_lists_and_reads_facilities(client: FlourishClient) -> None:
    facilities = {f.id: f for f in client.list_facilities(active=True)}

    assert set(facilities) == {REP_REQUIRED_FACILITY, NO_REP_FACILITY}
    assert facilities[REP_REQUIRED_FACILITY].sales_rep_required_for_outbound is True
    assert client.get_facility(NO_REP_FACILITY).sales_rep_required_for_outbound is False


def test_it_lists_active_brands_unless_asked_for_inactive(client: FlourishClient) -> None:
    active = {b.brand_name for b in client.list_brands()}
    inactive = {b.brand_name for b in client.list_brands(active=False)}

    assert active == {"Green Ridge", "Sunset Farms", "Blue Harbor", "Canyon Gold"}
    assert inactive == {"Old Mill"}


def test_it_filters_items_by_brand_name_and_reads_one(client: FlourishClient) -> None:
    items = list(client.list_items(brand_names=["Green Ridge", "Blue Harbor"]))

    assert items
    assert {i.brand for i in items} == {"Green Ridge", "Blue Harbor"}
    assert all(isinstance(i.price, Decimal) for i in items)
    assert client.get_item(items[0].id) == items[0]


def test_it_filters_items_by_last_update(client: FlourishClient) -> None:
    items = list(client.list_items())
    newest = max(i.last_updated_timestamp for i in items if i.last_updated_timestamp)

    changed = list(client.list_items(last_updated_since=newest + dt.timedelta(seconds=1)))

    assert len(items) == 50
    assert changed == []


def test_it_pages_through_a_large_catalogue() -> None:
    # given a catalogue of 300 generated items
    with testing.running_sandbox(api_key="test-key", seed="bare", items=300) as sandbox:
        client = FlourishClient(sandbox.url, sandbox.api_key)

        # when the whole catalogue is listed
        ids = [item.id for item in client.list_items()]

    # then every item arrives once, in pages of 50
    assert len(ids) == 300
    assert len(set(ids)) == 300
    assert client.pages_fetched == 6
    assert client.request_count == 6  # the sixth page is full but says next == ""


def test_it_reads_inventory_summary_for_many_item_ids(client: FlourishClient) -> None:
    item_ids = [str(n) for n in range(101, 151)] + [str(n) for n in range(1000, 1030)]

    rows = list(client.inventory_summary(item_ids=item_ids))

    by_sku = {row.sku: row for row in rows}
    assert client.request_count == 2  # 80 ids: two calls of at most 50
    assert by_sku[SKU].sellable_qty == Decimal(-15)  # 25 on hand, 40 on order (demo)
    assert all(row.item_id in item_ids for row in rows)


def test_it_reads_inventory_summary_by_sku(client: FlourishClient) -> None:
    rows = list(client.inventory_summary(skus=[SKU]))

    assert [row.sku for row in rows] == [SKU]


def test_it_looks_up_destinations_by_license_number(client: FlourishClient) -> None:
    (green_door,) = client.list_destinations(license_number=GREEN_DOOR_LICENSE)

    assert green_door.name == "Green Door Dispensary"
    assert client.get_destination(green_door.id) == green_door
    assert len(list(client.list_destinations())) == 3


def test_it_creates_a_destination(client: FlourishClient) -> None:
    created = client.create_destination(
        DestinationRequest(
            name="Valley Bloom",
            type="Dispensary",
            license_number="C10-0000999-LIC",
            address_line_1="1 Elm St",
            city="Sacramento",
            state="CA",
            zip_code="95814",
            external_id="ordo-acct-17",
        )
    )

    assert created.id
    assert created.external_id == "ordo-acct-17"
    assert client.get_destination(created.id).license_number == "C10-0000999-LIC"


def test_it_lists_the_sales_reps_of_a_facility(client: FlourishClient) -> None:
    reps = {rep.email: rep for rep in client.list_sales_reps()}

    assert reps["ana.ruiz@example.com"].sales_rep_id == ANA_RUIZ
    assert "marcus.lee@example.com" in reps


# -- outbound orders (§4.10) ----------------------------------------------------------------------


def test_it_creates_an_order_for_a_destination_by_id(client: FlourishClient) -> None:
    created = client.create_outbound_order(_order(client, "ORDO-1"))

    fetched = client.get_outbound_order(created.id)
    assert created.order_status == OrderStatus.CREATED
    assert created.origin_facility_id == REP_REQUIRED_FACILITY
    assert fetched.origin_facility_id == REP_REQUIRED_FACILITY
    assert fetched.original_order_id == "ORDO-1"
    assert fetched.sales_rep_id == ANA_RUIZ
    assert fetched.total_price == Decimal(90)
    assert fetched.payment_status == PaymentStatus.AWAITING_PAYMENT
    assert [(line.sku, line.order_qty) for line in fetched.lines] == [(SKU, Decimal(4))]


def test_it_creates_an_order_with_a_full_destination_and_item_id_lines(
    client: FlourishClient,
) -> None:
    destination = DestinationRequest(
        name="Brand New Buyer",
        license_number="C10-0000777-LIC",
        address_line_1="5 Oak St",
        city="Oakland",
        state="CA",
        zip_code="94607",
    )
    line = OrderLineRequest(item_id="105", order_qty=Decimal("2.5"), unit_price=Decimal(30))

    order = client.create_outbound_order(
        _order(client, "ORDO-2", destination=destination, lines=(line,))
    )

    (new_destination,) = client.list_destinations(license_number="C10-0000777-LIC")
    assert order.destination_id == new_destination.id
    assert order.lines[0].item_id == "105"
    assert order.lines[0].order_qty == Decimal("2.5")


def test_it_refuses_a_destination_id_with_other_fields(client: FlourishClient) -> None:
    payload = _order(client, "ORDO-3").to_wire()
    payload["destination"]["name"] = "Green Door Dispensary"

    with pytest.raises(ValidationError, match="must not carry other fields"):
        client.create_outbound_order(payload)


def test_it_needs_a_sales_rep_where_the_facility_requires_one(client: FlourishClient) -> None:
    without_rep = _order(client, "ORDO-4", sales_rep_id=None)

    with pytest.raises(ValidationError, match="sales_rep"):
        client.create_outbound_order(without_rep)
    order = client.create_outbound_order(without_rep, facility_id=NO_REP_FACILITY)

    assert order.sales_rep_id is None
    assert order.origin_facility_id == NO_REP_FACILITY


def test_it_lists_orders_by_status_and_since(client: FlourishClient, sandbox: Any) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    first = client.create_outbound_order(_order(client, "ORDO-5"))
    second = client.create_outbound_order(_order(client, "ORDO-6"))
    sandbox.state.allocate_order(second.id)

    created_since = {o.id for o in client.list_outbound_orders(created_since=before)}
    allocated = {o.id for o in client.list_outbound_orders(order_status=[OrderStatus.ALLOCATED])}
    by_id = [o.id for o in client.list_outbound_orders(order_ids=[first.id])]
    updated = {o.id for o in client.list_outbound_orders(last_updated_since=before)}

    later = {o.id for o in client.list_outbound_orders(created_since=before + dt.timedelta(days=1))}

    assert {first.id, second.id} <= created_since
    assert later == set()
    assert allocated == {second.id}
    assert by_id == [first.id]
    assert {first.id, second.id} <= updated


def test_it_finds_an_order_by_the_portals_own_id(client: FlourishClient) -> None:
    created = client.create_outbound_order(_order(client, "ORDO-7"))

    found = client.find_outbound_order_by_original_id(
        "ORDO-7", created_since=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )
    absent = client.find_outbound_order_by_original_id("ORDO-404")

    assert found is not None and found.id == created.id
    assert absent is None


def test_it_updates_an_order_while_created(client: FlourishClient) -> None:
    created = client.create_outbound_order(_order(client, "ORDO-8"))
    more = OrderLineRequest(sku=SKU, order_qty=Decimal(10), unit_price=Decimal(20))

    updated = client.update_outbound_order(created.id, _order(client, "ORDO-8", lines=(more,)))

    assert updated.id == created.id
    assert updated.lines[0].order_qty == Decimal(10)
    assert updated.total_price == Decimal(200)


def test_it_refuses_to_update_an_allocated_order(client: FlourishClient, sandbox: Any) -> None:
    created = client.create_outbound_order(_order(client, "ORDO-9"))
    sandbox.state.allocate_order(created.id)

    with pytest.raises(ValidationError, match="ineligible status"):
        client.update_outbound_order(created.id, _order(client, "ORDO-9"))


def test_it_cancels_a_created_order(client: FlourishClient) -> None:
    created = client.create_outbound_order(_order(client, "ORDO-10"))

    cancelled = client.cancel_outbound_order(created.id)

    assert cancelled.order_status == OrderStatus.CANCELLED
    assert client.get_outbound_order(created.id).order_status == OrderStatus.CANCELLED


def test_it_cancels_without_a_rep_on_a_rep_required_facility(client: FlourishClient) -> None:
    created = client.create_outbound_order(_order(client, "ORDO-11"))

    cancelled = client.cancel_outbound_order(
        created.id, original_order_id="ORDO-11", destination_id=created.destination_id
    )

    assert cancelled.order_status == OrderStatus.CANCELLED


@pytest.mark.parametrize(
    ("warehouse_steps", "message"),
    [
        (("ship_order",), "Order has already been shipped"),
        (("ship_order", "complete_order"), "Order has already been completed"),
        (("cancel_order",), "Order has already been cancelled"),
    ],
)
def test_it_surfaces_the_documented_cancel_refusals(
    client: FlourishClient, sandbox: Any, warehouse_steps: tuple[str, ...], message: str
) -> None:
    created = client.create_outbound_order(_order(client, "ORDO-12"))
    for step in warehouse_steps:
        getattr(sandbox.state, step)(created.id)

    with pytest.raises(ValidationError) as caught:
        client.cancel_outbound_order(created.id)

    assert caught.value.message == message
    assert caught.value.retryable is False


def test_it_reads_shipment_and_payment_from_the_warehouse(
    client: FlourishClient, sandbox: Any
) -> None:
    created = client.create_outbound_order(_order(client, "ORDO-13"))
    sandbox.state.ship_order(created.id)
    sandbox.state.mark_paid(created.id)

    order = client.get_outbound_order(created.id)

    assert order.order_status == OrderStatus.SHIPPED
    assert order.shipped_timestamp is not None
    assert order.payment_status == PaymentStatus.PAID
    assert order.total_paid == order.total_price
    assert order.lines[0].allocated_qty == Decimal(4)


# -- errors --------------------------------------------------------------------------------------


def test_it_raises_auth_error_for_a_wrong_key(sandbox: Any) -> None:
    client = FlourishClient(sandbox.url, "wrong-key")

    with pytest.raises(AuthError) as caught:
        list(client.list_facilities())

    assert caught.value.status_code == 401
    assert caught.value.retryable is False


def test_it_accepts_legacy_basic_auth_next_to_the_key(sandbox: Any) -> None:
    client = FlourishClient(sandbox.url, sandbox.api_key, username="u1", use_basic_auth=True)

    assert len(list(client.list_facilities())) == 2


def test_it_refuses_a_facility_bound_call_without_facility_before_sending(sandbox: Any) -> None:
    client = FlourishClient(sandbox.url, sandbox.api_key)

    with pytest.raises(ValueError, match="FacilityID"):
        list(client.list_sales_reps())

    assert client.request_count == 0


def test_it_raises_validation_error_for_a_facility_flourish_does_not_know(sandbox: Any) -> None:
    # the client only checks for a facility id; the sandbox is the one refusing a wrong one
    client = FlourishClient(sandbox.url, sandbox.api_key, facility_id="000000000000000000000000")

    with pytest.raises(ValidationError, match="does not exist"):
        list(client.list_sales_reps())


def test_it_raises_not_found_for_an_unknown_id(client: FlourishClient) -> None:
    with pytest.raises(NotFound):
        client.get_item("999999")
    with pytest.raises(NotFound):
        client.get_outbound_order("99999999")


def test_it_raises_transient_error_for_a_server_error(client: FlourishClient, sandbox: Any) -> None:
    sandbox.state.add_fault(kind="status", status=500, path_prefix="/items")

    with pytest.raises(TransientError) as caught:
        list(client.list_items())

    assert caught.value.status_code == 500
    assert len(list(client.list_items())) == 50  # the fault fired once


def test_it_reads_retry_after_when_throttled(client: FlourishClient, sandbox: Any) -> None:
    sandbox.state.add_fault(kind="status", status=429, retry_after=17, path_prefix="/brands")

    with pytest.raises(TransientError) as caught:
        list(client.list_brands())

    assert caught.value.status_code == 429
    assert caught.value.retry_after_seconds == 17.0


def test_it_raises_transient_error_on_a_timeout(sandbox: Any) -> None:
    sandbox.state.add_fault(kind="timeout", seconds=1.0, path_prefix="/facilities")
    client = FlourishClient(sandbox.url, sandbox.api_key, timeout=(2.0, 0.3))

    with pytest.raises(TransientError, match="in time"):
        list(client.list_facilities())


def test_it_raises_transient_error_when_the_connection_drops(
    client: FlourishClient, sandbox: Any
) -> None:
    sandbox.state.add_fault(kind="close", path_prefix="/facilities")

    with pytest.raises(TransientError):
        client.get_facility(REP_REQUIRED_FACILITY)


def test_it_finds_the_order_after_an_ambiguous_create(sandbox: Any) -> None:
    # given Flourish creates the order but the answer never arrives in time
    sandbox.state.add_fault(
        kind="timeout", seconds=1.0, method="POST", path_prefix="/outbound-orders",
        after_action=True,
    )  # fmt: skip
    client = FlourishClient(
        sandbox.url, sandbox.api_key, facility_id=REP_REQUIRED_FACILITY, timeout=(2.0, 0.3)
    )
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with pytest.raises(TransientError):
        client.create_outbound_order(_order(client, "ORDO-14"))

    # when the portal looks for it before retrying
    found = client.find_outbound_order_by_original_id("ORDO-14", created_since=since)

    # then it finds the order instead of creating a duplicate
    assert found is not None
    assert found.order_status == OrderStatus.CREATED


# -- webhooks (§5) -------------------------------------------------------------------------------


def test_it_verifies_and_parses_the_sandboxs_webhooks(flourish: ScriptedFlourish) -> None:
    # given a sandbox that sends its webhooks, signed, to a local receiver
    with testing.running_sandbox(
        api_key="test-key", webhook_url=flourish.url + "/flourish/webhook", webhook_key="whk"
    ) as sandbox:
        client = FlourishClient(sandbox.url, sandbox.api_key, facility_id=REP_REQUIRED_FACILITY)

        # when an order is created and shipped
        created = client.create_outbound_order(_order(client, "ORDO-15"))
        sandbox.state.ship_order(created.id)
        assert sandbox.state.wait_for_deliveries(timeout=5.0)

    # then every delivery verifies and parses into typed events
    assert flourish.received
    events = []
    for delivery in flourish.received:
        assert verify(delivery.raw_body, delivery.headers.get("auth-signature"), "whk")
        assert not verify(delivery.raw_body, delivery.headers.get("auth-signature"), "other")
        events.append(parse_event(delivery.raw_body))
    orders = [e.data for e in events if isinstance(e.data, OutboundOrder)]
    assert {e.resource_type for e in events} >= {"order", "inventory_summary"}
    assert all(e.supported for e in events)
    # delivery order is not guaranteed (§5.4): the latest state is the newest timestamp
    latest = max(
        orders,
        key=lambda order: order.last_updated_timestamp or dt.datetime.min.replace(tzinfo=dt.UTC),
    )
    assert latest.id == created.id
    assert latest.order_status == OrderStatus.SHIPPED
    assert any(isinstance(e.data, InventorySummaryRow) and e.data.sku == SKU for e in events)
