"""The outbound order create body (flourish-api.md §4.10) built from typed requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from flourish_client import DestinationRequest, OrderLineRequest, OutboundOrderRequest
from flourish_client.client import SalesRepRequest

LINE = OrderLineRequest(sku="SKU-1", order_qty=Decimal(2), unit_price=Decimal("9.50"))
AT = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_it_sends_the_license_type_of_a_new_destination():
    destination = DestinationRequest(
        name="Brand New Buds", license_number="C10-0009999-LIC", license_type="Retailer"
    )

    assert destination.to_wire() == {
        "name": "Brand New Buds",
        "license_number": "C10-0009999-LIC",
        "license_type": "Retailer",
    }


def test_it_never_sends_the_license_type_next_to_a_destination_id():
    assert DestinationRequest(id="d1", license_type="Retailer").to_wire() == {"id": "d1"}


def test_it_sends_a_sales_rep_unknown_by_id_as_an_email_object():
    body = OutboundOrderRequest(
        original_order_id="ORD-000001",
        destination=DestinationRequest.by_id("d1"),
        lines=(LINE,),
        order_timestamp=AT,
        sales_rep=SalesRepRequest(email="sam@example.com", first_name="Sam", last_name="Lee"),
    ).to_wire()

    assert body["sales_rep"] == {
        "first_name": "Sam",
        "last_name": "Lee",
        "email": "sam@example.com",
    }


def test_it_refuses_a_sales_rep_by_id_and_by_email_at_once():
    request = OutboundOrderRequest(
        original_order_id="ORD-000001",
        destination=DestinationRequest.by_id("d1"),
        lines=(LINE,),
        sales_rep_id=7,
        sales_rep=SalesRepRequest(email="sam@example.com"),
    )

    with pytest.raises(ValueError, match="not both"):
        request.to_wire()
