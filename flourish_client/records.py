"""Typed records for the Flourish resources the portal uses.

Flourish's JSON is loose (flourish-api.md §3.4): booleans arrive as ``1``/``0``, money as numeric
strings, unset dates as ``""``, ids as ints or strings, and timestamps with 0, 3 or 6 fractional
digits. Every record is built through ``from_wire`` and the ``to_*`` helpers below, so that
normalisation happens here and nowhere else; raw dicts never leave this module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Self


class OrderStatus(StrEnum):
    """Outbound ``order_status`` values (flourish-api.md §4.10 Enums)."""

    CREATED = "Created"
    PARTIALLY_ALLOCATED = "Partially Allocated"
    ALLOCATED = "Allocated"
    SHIPPED = "Shipped"
    # Not in the list filter options, but referenced by the cancel refusal messages (§4.10, §8.11).
    COMPLETED = "Completed"
    CANCELLED = "Cancelled"


class PaymentStatus(StrEnum):
    """Outbound ``payment_status`` values (flourish-api.md §4.10 Enums)."""

    AWAITING_PAYMENT = "Awaiting Payment"
    PARTIALLY_PAID = "Partially Paid"
    PAID = "Paid"
    PARTIALLY_REFUNDED = "Partially Refunded"
    REFUNDED = "Refunded"


# ---------------------------------------------------------------------------------------------
# Normalisation of loose wire types (flourish-api.md §3.4)
# ---------------------------------------------------------------------------------------------

_TRUE_STRINGS = frozenset({"1", "true", "yes"})
_FALSE_STRINGS = frozenset({"0", "false", "no", ""})


def to_bool(value: Any, default: bool = False) -> bool:
    """Booleans arrive as ``true``/``false``, ``1``/``0`` or (rarely) their string forms."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE_STRINGS:
            return True
        if lowered in _FALSE_STRINGS:
            return False
    raise ValueError(f"not a boolean: {value!r}")


def to_decimal(value: Any, default: Decimal | None = None) -> Decimal | None:
    """Numbers and numeric strings (``"106267.05"``) become Decimal; ``None``/``""`` -> default.

    Floats go through ``str`` so that ``1015.4999`` stays ``Decimal("1015.4999")``.
    """
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    raise ValueError(f"not a number: {value!r}")


def to_quantity(value: Any) -> Decimal:
    """A quantity or amount that is always present; a missing one counts as zero."""
    result = to_decimal(value)
    return Decimal(0) if result is None else result


def to_str_id(value: Any) -> str | None:
    """Ids arrive as ints or strings (§3.4); ``"0"``/``0`` means "no rep" on an order GET."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if text in ("", "0"):
        return None
    return text


def to_str(value: Any) -> str | None:
    """Optional text: ``None`` stays ``None``; numbers (``external_id: 1234``) become text."""
    if value is None:
        return None
    return str(value)


def parse_datetime(value: Any) -> dt.datetime | None:
    """Parse ``...05Z``, ``...05.000Z`` and ``...05.031496Z`` (§3.4) into an aware UTC datetime.

    ``""`` and ``None`` mean "unset". Python 3.11's ``fromisoformat`` accepts ``Z`` and any of
    the three fraction lengths.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO-8601 datetime: {value!r}") from None
    else:
        raise ValueError(f"not an ISO-8601 datetime: {value!r}")
    if parsed.tzinfo is None:
        # Flourish timestamps are UTC even when the suffix is missing (§3.4).
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_date(value: Any) -> dt.date | None:
    """``YYYY-MM-DD``; unset dates come back as ``""`` (§3.4)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ValueError(f"not a date: {value!r}") from None
    raise ValueError(f"not a date: {value!r}")


def format_datetime(value: dt.datetime) -> str:
    """Format for query filters and bodies: ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC (§3.4).

    A naive datetime is taken to be UTC.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _text(d: dict[str, Any], key: str) -> str:
    """A text field that should be present; a missing one becomes ``""``."""
    value = d.get(key)
    return "" if value is None else str(value)


def _object(d: dict[str, Any], key: str) -> dict[str, Any]:
    value = d.get(key)
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Facility:
    """One of the company's own licensed sites (flourish-api.md §4.1)."""

    id: str
    facility_name: str
    license_number: str | None
    license_type: str | None
    facility_type: str | None
    active: bool
    # The order create must carry a sales rep when this is true (§4.1, §4.10).
    sales_rep_required_for_outbound: bool
    address_line_1: str | None
    city: str | None
    state: str | None
    zip_code: str | None
    country: str | None
    last_updated_timestamp: dt.datetime | None

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Self:
        return cls(
            id=_text(d, "id"),
            facility_name=_text(d, "facility_name"),
            license_number=to_str(d.get("license_number")),
            license_type=to_str(d.get("license_type")),
            facility_type=to_str(d.get("facility_type")),
            active=to_bool(d.get("active"), default=True),
            sales_rep_required_for_outbound=to_bool(d.get("sales_rep_required_for_outbound")),
            address_line_1=to_str(d.get("address_line_1")),
            city=to_str(d.get("city")),
            state=to_str(d.get("state")),
            zip_code=to_str(d.get("zip_code")),
            country=to_str(d.get("country")),
            last_updated_timestamp=parse_datetime(d.get("last_updated_timestamp")),
        )


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand (§4.2). ``active`` arrives as the integer 1 in the docs' example."""

    brand_id: int
    brand_name: str
    active: bool

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Self:
        return cls(
            brand_id=int(d["brand_id"]),
            brand_name=_text(d, "brand_name"),
            active=to_bool(d.get("active"), default=True),
        )


@dataclass(frozen=True, slots=True)
class Item:
    """A catalogue item (§4.4). ``brand`` is the brand *name*; ``sku`` is the cross-system key."""

    id: str
    sku: str
    item_name: str
    retail_display_name: str | None
    brand: str | None
    active: bool
    sellable: bool
    price: Decimal | None
    cost: Decimal | None
    uom: str | None
    inventory_type: str | None
    item_category: str | None
    item_description: str | None
    last_updated_timestamp: dt.datetime | None

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Self:
        return cls(
            id=_text(d, "id"),
            sku=_text(d, "sku"),
            item_name=_text(d, "item_name"),
            retail_display_name=to_str(d.get("retail_display_name")),
            brand=to_str(d.get("brand")) or None,
            active=to_bool(d.get("active"), default=True),
            sellable=to_bool(d.get("sellable"), default=True),
            price=to_decimal(d.get("price")),
            cost=to_decimal(d.get("cost")),
            uom=to_str(d.get("uom")),
            inventory_type=to_str(d.get("inventory_type")),
            item_category=to_str(d.get("item_category")),
            item_description=to_str(d.get("item_description")),
            last_updated_timestamp=parse_datetime(d.get("last_updated_timestamp")),
        )


@dataclass(frozen=True, slots=True)
class InventorySummaryRow:
    """One inventory summary row (§4.5). An item can have several rows (variation, strain, lot).

    ``sellable_qty`` is "available to sell" and can be negative (§4.5); callers clamp if needed.
    """

    item_id: str
    sku: str
    item_name: str
    brand: str | None
    uom: str | None
    qty: Decimal
    available_qty: Decimal
    non_available_qty: Decimal
    sellable_qty: Decimal
    on_order_qty: Decimal
    item_variation_id: str | None
    strain_name: str | None
    variation_name: str | None
    lot_number: str | None
    last_updated_timestamp: dt.datetime | None

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Self:
        return cls(
            item_id=_text(d, "item_id"),
            sku=_text(d, "sku"),
            item_name=_text(d, "item_name"),
            brand=to_str(d.get("brand")) or None,
            uom=to_str(d.get("uom")),
            qty=to_quantity(d.get("qty")),
            available_qty=to_quantity(d.get("available_qty")),
            non_available_qty=to_quantity(d.get("non_available_qty")),
            sellable_qty=to_quantity(d.get("sellable_qty")),
            on_order_qty=to_quantity(d.get("on_order_qty")),
            item_variation_id=to_str_id(d.get("item_variation_id")),
            strain_name=to_str(d.get("strain_name")) or None,
            variation_name=to_str(d.get("variation_name")) or None,
            lot_number=to_str(d.get("lot_number")) or None,
            last_updated_timestamp=parse_datetime(d.get("last_updated_timestamp")),
        )


@dataclass(frozen=True, slots=True)
class Destination:
    """A B2B customer ("destination", §4.7). Matched across systems by ``license_number``."""

    id: str
    name: str
    alias: str | None
    type: str | None
    license_number: str | None
    license_type: str | None
    address_line_1: str | None
    address_line_2: str | None
    city: str | None
    state: str | None
    zip_code: str | None
    country: str | None
    company_email: str | None
    company_phone_number: str | None
    # Arrives as "1234" or 1234 (§3.4).
    external_id: str | None
    active: bool

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Self:
        return cls(
            id=_text(d, "id"),
            name=_text(d, "name"),
            alias=to_str(d.get("alias")),
            type=to_str(d.get("type")),
            license_number=to_str(d.get("license_number")),
            license_type=to_str(d.get("license_type")),
            address_line_1=to_str(d.get("address_line_1")),
            address_line_2=to_str(d.get("address_line_2")),
            city=to_str(d.get("city")),
            state=to_str(d.get("state")),
            zip_code=to_str(d.get("zip_code")),
            country=to_str(d.get("country")),
            company_email=to_str(d.get("company_email")),
            company_phone_number=to_str(d.get("company_phone_number")),
            external_id=to_str(d.get("external_id")) or None,
            active=to_bool(d.get("active"), default=True),
        )


@dataclass(frozen=True, slots=True)
class Contact:
    """A destination contact (§4.7); ``facility_contact_id`` is absent on an order's contact."""

    facility_contact_id: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone_number: str | None
    is_primary: bool

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Self:
        return cls(
            facility_contact_id=to_str_id(d.get("facility_contact_id")),
            first_name=to_str(d.get("first_name")),
            last_name=to_str(d.get("last_name")),
            email=to_str(d.get("email")),
            phone_number=to_str(d.get("phone_number")),
            is_primary=to_bool(d.get("is_primary")),
        )


@dataclass(frozen=True, slots=True)
class SalesRep:
    """A sales rep (§4.8). The id is an int on the wire; kept as text like every other id."""

    sales_rep_id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    facility_id: str | None
    active: bool

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Self:
        # `/sales-reps` says `sales_rep_id`; an order's nested rep says `id` (§3.4, §4.10).
        rep_id = to_str_id(d.get("sales_rep_id", d.get("id")))
        return cls(
            sales_rep_id=rep_id or "",
            first_name=to_str(d.get("first_name")),
            last_name=to_str(d.get("last_name")),
            email=to_str(d.get("email")),
            facility_id=to_str_id(d.get("facility_id")),
            active=to_bool(d.get("active"), default=True),
        )


@dataclass(frozen=True, slots=True)
class OrderLine:
    """An outbound order line (§4.10)."""

    item_id: str | None
    sku: str | None
    item_name: str | None
    order_qty: Decimal
    allocated_qty: Decimal
    unit_price: Decimal
    discount_price: Decimal
    line_total_price: Decimal
    order_line_status: str | None

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Self:
        return cls(
            item_id=to_str_id(d.get("item_id")),
            sku=to_str(d.get("sku")) or None,
            item_name=to_str(d.get("item_name")),
            order_qty=to_quantity(d.get("order_qty")),
            allocated_qty=to_quantity(d.get("allocated_qty")),
            unit_price=to_quantity(d.get("unit_price")),
            discount_price=to_quantity(d.get("discount_price")),
            line_total_price=to_quantity(d.get("line_total_price")),
            order_line_status=to_str(d.get("order_line_status")) or None,
        )


@dataclass(frozen=True, slots=True)
class OutboundOrder:
    """A B2B sales order (§4.10). ``original_order_id`` carries the portal's own order id."""

    id: str
    original_order_id: str | None
    order_status: str
    payment_status: str | None
    origin_facility_id: str | None
    destination_id: str | None
    destination_license_number: str | None
    # None when the order has no rep (a GET says `"id": "0"`, §3.4).
    sales_rep_id: str | None
    total_price: Decimal
    total_paid: Decimal
    order_timestamp: dt.datetime | None
    shipped_timestamp: dt.datetime | None
    created_timestamp: dt.datetime | None
    last_updated_timestamp: dt.datetime | None
    lines: tuple[OrderLine, ...]

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Self:
        # GET has `origin_facility: {id, facility_name}`; POST/PUT answers have
        # `origin_facility_id` instead (§4.10 order record).
        origin = _object(d, "origin_facility").get("id") or d.get("origin_facility_id")
        destination = _object(d, "destination")
        sales_rep = _object(d, "sales_rep")
        lines = d.get("order_lines") or []
        return cls(
            id=_text(d, "id"),
            original_order_id=to_str(d.get("original_order_id")) or None,
            order_status=_text(d, "order_status"),
            payment_status=to_str(d.get("payment_status")) or None,
            origin_facility_id=to_str_id(origin),
            destination_id=to_str_id(destination.get("id")),
            destination_license_number=to_str(destination.get("license_number")) or None,
            sales_rep_id=to_str_id(sales_rep.get("id", sales_rep.get("sales_rep_id"))),
            total_price=to_quantity(d.get("total_price")),
            total_paid=to_quantity(d.get("total_paid")),
            order_timestamp=parse_datetime(d.get("order_timestamp")),
            shipped_timestamp=parse_datetime(d.get("shipped_timestamp")),
            created_timestamp=parse_datetime(d.get("created_timestamp")),
            last_updated_timestamp=parse_datetime(d.get("last_updated_timestamp")),
            lines=tuple(OrderLine.from_wire(line) for line in lines if isinstance(line, dict)),
        )

    @property
    def is_editable(self) -> bool:
        """PUT is allowed only while nothing is allocated, i.e. status ``Created`` (§4.10)."""
        return self.order_status == OrderStatus.CREATED
