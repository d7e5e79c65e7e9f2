"""Loose wire types are normalised in records.py and nowhere else (flourish-api.md §3.4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from flourish_client.records import (
    Brand,
    Destination,
    Facility,
    InventorySummaryRow,
    Item,
    OrderStatus,
    OutboundOrder,
    PaymentStatus,
    SalesRep,
    format_datetime,
    parse_date,
    parse_datetime,
    to_bool,
    to_decimal,
    to_str_id,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("2020-01-03T15:04:05.000Z", dt.datetime(2020, 1, 3, 15, 4, 5, tzinfo=UTC)),
        ("2021-06-12T03:49:21Z", dt.datetime(2021, 6, 12, 3, 49, 21, tzinfo=UTC)),
        ("2022-03-09T15:58:05.031496Z", dt.datetime(2022, 3, 9, 15, 58, 5, 31496, tzinfo=UTC)),
    ],
)
def test_it_parses_all_three_timestamp_precisions_as_aware_utc(
    wire: str, expected: dt.datetime
) -> None:
    parsed = parse_datetime(wire)

    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("wire", ["", None])
def test_it_reads_unset_timestamps_and_dates_as_none(wire: str | None) -> None:
    assert parse_datetime(wire) is None
    assert parse_date(wire) is None


def test_it_parses_a_date() -> None:
    assert parse_date("2025-03-03") == dt.date(2025, 3, 3)


def test_it_rejects_a_timestamp_that_is_not_iso() -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_datetime("yesterday")


def test_it_formats_filters_with_milliseconds_in_utc() -> None:
    # given a datetime in another zone with microseconds
    moment = dt.datetime(2025, 3, 1, 9, 5, 0, 123999, tzinfo=dt.timezone(dt.timedelta(hours=-8)))

    # when formatted for a query
    text = format_datetime(moment)

    # then it is UTC with exactly three fractional digits
    assert text == "2025-03-01T17:05:00.123Z"


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("1", True),
        ("0", False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
    ],
)
def test_it_reads_booleans_in_every_wire_form(wire: object, expected: bool) -> None:
    assert to_bool(wire) is expected


def test_it_reads_a_missing_boolean_as_the_default() -> None:
    assert to_bool(None) is False
    assert to_bool(None, default=True) is True


def test_it_refuses_a_boolean_it_cannot_read() -> None:
    with pytest.raises(ValueError):
        to_bool("maybe")


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("106267.05", Decimal("106267.05")),
        (1015.4999, Decimal("1015.4999")),
        (22, Decimal(22)),
        ("22", Decimal(22)),
    ],
)
def test_it_reads_numbers_and_numeric_strings_as_exact_decimals(
    wire: object, expected: Decimal
) -> None:
    assert to_decimal(wire) == expected


def test_it_reads_an_empty_number_as_the_default() -> None:
    assert to_decimal("") is None
    assert to_decimal(None, Decimal(0)) == Decimal(0)


def test_it_refuses_a_number_it_cannot_read() -> None:
    with pytest.raises(ValueError):
        to_decimal("twelve")


@pytest.mark.parametrize(
    ("wire", "expected"), [(7, "7"), ("7", "7"), ("0", None), (0, None), (None, None)]
)
def test_it_reads_ids_as_text_and_zero_as_no_id(wire: object, expected: str | None) -> None:
    assert to_str_id(wire) == expected


def test_it_reads_a_brand_whose_active_flag_is_an_integer() -> None:
    brand = Brand.from_wire({"brand_id": "16", "brand_name": "BuildCO", "active": 1})

    assert brand == Brand(brand_id=16, brand_name="BuildCO", active=True)


def test_it_reads_a_facility_with_its_sales_rep_rule() -> None:
    facility = Facility.from_wire(
        {
            "id": "58b9b09d280e20ea24a126bb",
            "facility_name": "DISTRO HQ",
            "license_number": "C11-0000001-LIC",
            "facility_type": "Distributor",
            "active": True,
            "sales_rep_required_for_outbound": 1,
            "city": "Oakland",
            "last_updated_timestamp": "2021-06-12T03:49:21Z",
        }
    )

    assert facility.sales_rep_required_for_outbound is True
    assert facility.facility_type == "Distributor"
    assert facility.last_updated_timestamp == dt.datetime(2021, 6, 12, 3, 49, 21, tzinfo=UTC)


def test_it_reads_an_item_with_decimal_money_and_a_null_brand() -> None:
    item = Item.from_wire(
        {"id": 100, "sku": "1.5.31.8.0", "item_name": "OG", "brand": None, "price": 6.5,
         "cost": "1.80", "active": 1, "sellable": 0, "uom": "g"}
    )  # fmt: skip

    assert item.id == "100"
    assert item.brand is None
    assert item.price == Decimal("6.5")
    assert item.cost == Decimal("1.80")
    assert (item.active, item.sellable) == (True, False)


def test_it_reads_a_summary_row_with_fractional_and_negative_quantities() -> None:
    row = InventorySummaryRow.from_wire(
        {"item_id": "160", "sku": "GRN-PR-05", "item_name": "Pre-Roll", "qty": 5563.5,
         "available_qty": 1015.4999, "non_available_qty": "4548.0001", "sellable_qty": -3,
         "on_order_qty": 0, "item_variation_id": "69", "variation_name": ""}
    )  # fmt: skip

    assert row.qty == Decimal("5563.5")
    assert row.available_qty == Decimal("1015.4999")
    assert row.non_available_qty == Decimal("4548.0001")
    assert row.sellable_qty == Decimal(-3)
    assert row.item_variation_id == "69"
    assert row.variation_name is None


def test_it_reads_a_destination_whose_external_id_is_a_number() -> None:
    destination = Destination.from_wire(
        {"id": "971bbcd5", "name": "Green Door", "external_id": 1234, "active": 0,
         "license_number": "C10-0000123-LIC", "state": "CA"}
    )  # fmt: skip

    assert destination.external_id == "1234"
    assert destination.active is False
    assert destination.license_number == "C10-0000123-LIC"


def test_it_reads_a_sales_rep_id_as_text() -> None:
    rep = SalesRep.from_wire(
        {"sales_rep_id": 7, "first_name": "Ana", "email": "ana@example.com", "facility_id": None}
    )

    assert rep.sales_rep_id == "7"
    assert rep.facility_id is None


def _order_get() -> dict[str, object]:
    return {
        "id": "00042711",
        "original_order_id": "CRM-10042",
        "order_status": "Shipped",
        "payment_status": "Awaiting Payment",
        "invoice_date": "",
        "requested_delivery_date": "",
        "total_price": 90,
        "total_paid": "0",
        "order_timestamp": "2025-03-01T17:05:00.000Z",
        "shipped_timestamp": "2025-03-03T15:12:40Z",
        "created_timestamp": "2025-03-01T17:05:02.031496Z",
        "last_updated_timestamp": "2025-03-03T15:12:41Z",
        "origin_facility": {"id": "5c1991b318fc4c7c6792789e", "facility_name": "DISTRO HQ"},
        "destination": {"id": "9da408fef5445f4a698b", "license_number": "C10-0000123-LIC"},
        "sales_rep": {"id": "0"},
        "order_lines": [
            {"item_id": "160", "sku": "GRN-PR-05-10PK", "order_qty": 4, "allocated_qty": None,
             "unit_price": 22.5, "discount_price": 0, "line_total_price": 90,
             "order_line_status": "Created"}
        ],
    }  # fmt: skip


def test_it_reads_an_order_get_with_nested_origin_and_no_rep() -> None:
    order = OutboundOrder.from_wire(_order_get())

    assert order.id == "00042711"
    assert order.origin_facility_id == "5c1991b318fc4c7c6792789e"
    assert order.destination_id == "9da408fef5445f4a698b"
    assert order.destination_license_number == "C10-0000123-LIC"
    assert order.sales_rep_id is None
    assert order.order_status == OrderStatus.SHIPPED
    assert order.payment_status == PaymentStatus.AWAITING_PAYMENT
    assert order.total_paid == Decimal(0)
    assert order.created_timestamp == dt.datetime(2025, 3, 1, 17, 5, 2, 31496, tzinfo=UTC)
    assert order.lines[0].unit_price == Decimal("22.5")
    assert order.lines[0].allocated_qty == Decimal(0)
    assert order.is_editable is False


def test_it_reads_an_order_write_answer_with_a_flat_origin_facility_id() -> None:
    wire = _order_get() | {"order_status": "Created", "sales_rep": {"id": 7}}
    del wire["origin_facility"]
    wire["origin_facility_id"] = "5c1991b318fc4c7c6792789e"

    order = OutboundOrder.from_wire(wire)

    assert order.origin_facility_id == "5c1991b318fc4c7c6792789e"
    assert order.sales_rep_id == "7"
    assert order.is_editable is True


def test_it_keeps_the_documented_status_strings() -> None:
    assert [s.value for s in OrderStatus] == [
        "Created", "Partially Allocated", "Allocated", "Shipped", "Completed", "Cancelled",
    ]  # fmt: skip
    assert [s.value for s in PaymentStatus] == [
        "Awaiting Payment", "Partially Paid", "Paid", "Partially Refunded", "Refunded",
    ]  # fmt: skip
