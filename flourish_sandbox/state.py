"""In-memory state of the fake Flourish, with the warehouse operations the real UI offers.

Everything is guarded by one ``threading.RLock`` (``SandboxState.lock``). Records are kept in the
wire shape of flourish-api.md §4 so that reads are cheap; item JSON is cached per item.

Quantities per (item, facility) (§4.5; the exact formula is uncertain, §8.18, this is our choice):

- ``qty``: on hand;
- ``non_available_qty`` = locked + allocated to open orders;
- ``available_qty`` = ``qty - non_available_qty``;
- ``on_order_qty`` = ordered quantity on open orders (Created / Partially Allocated / Allocated);
- ``sellable_qty`` = ``available_qty - (on_order_qty - allocated)``; it can go negative.

Every change bumps ``last_updated_timestamp`` of the changed records through a monotonic clock
(microsecond precision, strictly increasing) and fires webhooks.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from flourish_sandbox.faults import FaultInjector, FaultRule
from flourish_sandbox.webhooks import (
    EVENT_RESOURCE_TYPES,
    WebhookDispatcher,
    WebhookEndpoint,
    normalise_events,
)

JSON = dict[str, Any]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
OPEN_STATUSES = ("Created", "Partially Allocated", "Allocated")
ORDER_STATUSES = (
    "Created",
    "Partially Allocated",
    "Allocated",
    "Shipped",
    "Cancelled",
    "Completed",
)
PAYMENT_STATUSES = ("Awaiting Payment", "Partially Paid", "Paid", "Partially Refunded", "Refunded")
FACILITY_TYPES = (
    "Laboratory",
    "Processor",
    "Grower",
    "Dispensary",
    "Distributor",
    "Manufacturer",
    "Other",
    "Microbusiness",
)
UOM_DESCRIPTIONS = {
    "ea": "Each",
    "g": "Gram",
    "kg": "Kilogram",
    "mg": "Milligram",
    "oz": "Ounce",
    "lb": "Pound",
    "ml": "Milliliter",
    "l": "Liter",
}
UOM_IDS = {"ea": 1, "g": 2, "kg": 3, "mg": 4, "oz": 5, "lb": 6, "ml": 7, "l": 8}
DESTINATION_ADDRESS_FIELDS = ("address_line_1", "city", "state", "zip_code")
SANDBOX_USER = "sandbox@flourish.example"
WAREHOUSE_USER = "warehouse@flourish.example"


class SandboxError(Exception):
    """A refusal with an HTTP status and Flourish-style message (``{"message", "status"}``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# -- small helpers ----------------------------------------------------------------------------


def format_us(us: int, *, seconds: bool = False) -> str:
    """``...Z`` timestamp from microseconds since the epoch (second or microsecond precision)."""
    value = EPOCH + dt.timedelta(microseconds=us)
    if seconds:
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_ms(us: int) -> str:
    value = EPOCH + dt.timedelta(microseconds=us)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_timestamp(value: str, name: str = "timestamp") -> int:
    """Microseconds since the epoch from an ISO date/datetime (0, 3 or 6 digits, Z or offset)."""
    text = value.strip()
    try:
        if len(text) == 10:
            parsed = dt.datetime.fromisoformat(text + "T00:00:00+00:00")
        else:
            parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise SandboxError(400, f"invalid datetime for {name}: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    delta = parsed - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def num(value: float) -> int | float:
    """JSON number as Flourish shows it: ``90`` rather than ``90.0``, at most 4 decimals."""
    rounded = round(float(value), 4)
    return int(rounded) if rounded.is_integer() else rounded


def money(value: float) -> int | float:
    rounded = round(float(value), 2)
    return int(rounded) if rounded.is_integer() else rounded


def hex_id(*parts: object, length: int = 24) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()[
        :length
    ]


def _number(value: Any, name: str, *, minimum: float | None = 0.0) -> float:
    if isinstance(value, bool) or value is None:
        raise SandboxError(400, f"{name} must be a number")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise SandboxError(400, f"{name} must be a number") from None
    if minimum is not None and result < minimum:
        raise SandboxError(400, f"{name} must be at least {num(minimum)}")
    return result


def _date_or_empty(value: Any, name: str) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise SandboxError(400, f"{name} must be a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise SandboxError(400, f"{name} must be a date (YYYY-MM-DD)") from None


class Stock:
    """Quantities of one item at one facility."""

    __slots__ = ("allocated", "facility_id", "item_id", "locked", "on_order", "qty", "updated_us")

    def __init__(self, item_id: str, facility_id: str, qty: float, locked: float, us: int) -> None:
        self.item_id = item_id
        self.facility_id = facility_id
        self.qty = qty
        self.locked = locked
        self.allocated = 0.0
        self.on_order = 0.0
        self.updated_us = us

    @property
    def non_available(self) -> float:
        return self.locked + self.allocated

    @property
    def available(self) -> float:
        return self.qty - self.non_available

    @property
    def sellable(self) -> float:
        return self.available - (self.on_order - self.allocated)


class MonotonicClock:
    """Wall clock in microseconds that never returns the same value twice, nor goes back."""

    def __init__(self) -> None:
        self._last = 0

    def now_us(self) -> int:
        now = time.time_ns() // 1000
        if now <= self._last:
            now = self._last + 1
        self._last = now
        return now

    def observe(self, us: int) -> None:
        self._last = max(self._last, us)


ITEM_TEMPLATE: JSON = {
    "id": "",
    "item_name": "",
    "retail_display_name": "",
    "sku": "",
    "active": True,
    "external": False,
    "sellable": True,
    "brand": None,
    "price": 0,
    "cost": 0,
    "uom": "ea",
    "uom_description": "Each",
    "standard_qty_uom_id": 1,
    "inventory_type": "Cannabis",
    "item_class": "Buds",
    "item_category": "Flower",
    "item_description": "",
    "strain_required": False,
    "strain_id": None,
    "strain_name": None,
    "strain_type_name": None,
    "item_strain_type_name": None,
    "is_medical": False,
    "is_tax_exempt": False,
    "taxable": True,
    "needs_fulfillment": True,
    "lot_tracked": True,
    "serial_number_tracked": False,
    "use_by_date_req": False,
    "unit_weight": None,
    "weight_uom": None,
    "weight_uom_id": None,
    "weight_uom_description": None,
    "unit_volume": None,
    "volume_uom": None,
    "volume_uom_id": None,
    "volume_uom_description": None,
    "thc_ratio": None,
    "cbd_ratio": None,
    "unit_thc_percent": None,
    "unit_cbd_percent": None,
    "ecommerce_active": True,
    "ecommerce_item_name": None,
    "ecommerce_category_name": None,
    "ecommerce_sub_category_name": None,
    "part_number": None,
    "ndc_number": None,
    "product_code": None,
    "barcode": None,
    "ref_field_1": None,
    "ref_field_2": None,
    "ref_field_3": None,
    "ref_field_4": None,
    "ref_field_5": None,
    "reorder_point": None,
    "shelf_days": None,
    "product_source_type": None,
    "leaflink_id": None,
    "leaflink_company": None,
    "integration_status_id": None,
    "finance_account_revenue": None,
    "finance_account_asset": None,
    "finance_account_expense": None,
    "created_by": SANDBOX_USER,
    "created_timestamp": "",
    "last_updated_by": SANDBOX_USER,
    "last_updated_timestamp": "",
}
ITEM_EDITABLE = frozenset(ITEM_TEMPLATE) - {"id", "created_timestamp", "last_updated_timestamp"}
ITEM_FILTER_BOOLS = ("active", "sellable", "ecommerce_active", "is_medical")


class SandboxState:
    """The fake Flourish company: facilities, catalogue, stock, customers, orders, webhooks.

    Build with ``SandboxState(seed="demo", items=0)``; see ``flourish_sandbox.scenarios``.
    """

    def __init__(
        self,
        *,
        seed: str = "demo",
        items: int = 0,
        state_file: str | Path | None = None,
        webhook_attempts: int = 3,
        webhook_backoff_seconds: float = 0.05,
        webhook_timeout_seconds: float = 5.0,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = MonotonicClock()
        self.faults = FaultInjector()
        self.dispatcher = WebhookDispatcher(
            attempts=webhook_attempts,
            backoff_seconds=webhook_backoff_seconds,
            timeout_seconds=webhook_timeout_seconds,
        )
        self.state_file = Path(state_file) if state_file else None
        self.endpoints: dict[int, WebhookEndpoint] = {}
        self._next_endpoint_id = 1
        self.seed = seed
        self.item_count = items
        self._quiet = False
        self._clear()
        if self.state_file and self.state_file.exists():
            self.load(self.state_file)
        else:
            self._seed(seed, items)

    # ------------------------------------------------------------------------------------------
    # Setup, reset, persistence
    # ------------------------------------------------------------------------------------------
    def _clear(self) -> None:
        self.facilities: dict[str, JSON] = {}
        self.brands: dict[int, JSON] = {}
        self.items: dict[str, JSON] = {}
        self._item_ids: list[int] = []  # sorted
        self._item_us: dict[str, int] = {}
        self._item_json: dict[str, bytes] = {}
        self._sku_index: dict[str, str] = {}
        self._items_version = 0
        self._item_query_cache: dict[tuple[Any, ...], list[str]] = {}
        self.stock: dict[str, dict[str, Stock]] = {}
        self._stock_ids: dict[str, list[int]] = {}  # per facility, sorted item ids
        self._stock_list_cache: dict[str, list[Stock]] = {}
        self.destinations: dict[str, JSON] = {}
        self.sales_reps: dict[int, JSON] = {}
        self.orders: dict[str, JSON] = {}
        self._next_item_id = 100
        self._next_order_id = 1001
        self._next_destination = 1
        self._next_rep_id = 1
        self._next_contact_id = 1
        self._next_package = 1

    def _seed(self, seed: str, items: int) -> None:
        from flourish_sandbox.scenarios import load_scenario

        # Seeding never fires webhooks (reset() keeps the configured endpoints).
        self._quiet = True
        try:
            load_scenario(self, seed, items)
        finally:
            self._quiet = False

    def reset(self, seed: str | None = None, items: int | None = None) -> None:
        """Back to a freshly seeded state (webhook endpoints, faults and the log are kept)."""
        with self.lock:
            self.seed = seed or self.seed
            self.item_count = self.item_count if items is None else items
            self._clear()
            self._seed(self.seed, self.item_count)

    def save(self, path: str | Path | None = None) -> str:
        """Write the whole company state (and webhook endpoints) to a JSON file."""
        target = Path(path) if path else self.state_file
        if target is None:
            raise SandboxError(400, "no state file configured; pass a path")
        with self.lock:
            data = {
                "version": 1,
                "seed": self.seed,
                "facilities": list(self.facilities.values()),
                "brands": list(self.brands.values()),
                "items": [
                    {**self.items[str(i)], "_us": self._item_us[str(i)]} for i in self._item_ids
                ],
                "stock": [
                    [s.item_id, s.facility_id, s.qty, s.locked, s.updated_us]
                    for per in self.stock.values()
                    for s in per.values()
                ],
                "destinations": list(self.destinations.values()),
                "sales_reps": list(self.sales_reps.values()),
                "orders": list(self.orders.values()),
                "counters": [
                    self._next_item_id,
                    self._next_order_id,
                    self._next_destination,
                    self._next_rep_id,
                    self._next_contact_id,
                    self._next_package,
                ],
                "webhook_endpoints": [e.to_json(reveal_key=True) for e in self.endpoints.values()],
            }
            text = json.dumps(data, separators=(",", ":"))
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        return str(target)

    def load(self, path: str | Path) -> None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        with self.lock:
            self._clear()
            self.seed = data.get("seed", self.seed)
            for facility in data["facilities"]:
                self.facilities[facility["id"]] = facility
            for brand in data["brands"]:
                self.brands[int(brand["brand_id"])] = brand
            for item in data["items"]:
                us = item.pop("_us")
                self._put_item(item, us)
            for item_id, facility_id, qty, locked, us in data["stock"]:
                self._new_stock(item_id, facility_id, qty, locked, us)
            for destination in data["destinations"]:
                self.destinations[destination["id"]] = destination
            for rep in data["sales_reps"]:
                self.sales_reps[int(rep["sales_rep_id"])] = rep
            for order in data["orders"]:
                self.orders[order["id"]] = order
                self.clock.observe(order["_updated_us"])
                self._apply_order_stock(order, +1)
            (
                self._next_item_id,
                self._next_order_id,
                self._next_destination,
                self._next_rep_id,
                self._next_contact_id,
                self._next_package,
            ) = data["counters"]
            for endpoint in data.get("webhook_endpoints", []):
                self.add_webhook_endpoint(
                    endpoint["url"],
                    signing_key=endpoint.get("signing_key"),
                    headers=endpoint.get("headers"),
                    events=endpoint.get("events"),
                )

    def close(self) -> None:
        """Stop the webhook worker (and save when a state file is configured)."""
        if self.state_file:
            self.save()
        self.dispatcher.stop()

    # ------------------------------------------------------------------------------------------
    # Low-level builders used by scenarios (no webhooks)
    # ------------------------------------------------------------------------------------------
    def add_facility(self, record: JSON) -> JSON:
        with self.lock:
            self.facilities[record["id"]] = record
            self.stock.setdefault(record["id"], {})
            self._stock_ids.setdefault(record["id"], [])
            return record

    def add_brand(self, brand_id: int, brand_name: str, active: bool = True) -> JSON:
        with self.lock:
            record = {"brand_id": brand_id, "brand_name": brand_name, "active": 1 if active else 0}
            self.brands[brand_id] = record
            return record

    def _put_item(self, record: JSON, us: int) -> None:
        item_id = record["id"]
        if item_id not in self.items:
            bisect.insort(self._item_ids, int(item_id))
        else:
            old_sku = self.items[item_id]["sku"]
            if self._sku_index.get(old_sku) == item_id:
                del self._sku_index[old_sku]
        self.items[item_id] = record
        self._item_us[item_id] = us
        self._item_json.pop(item_id, None)
        if record["sku"]:
            self._sku_index[record["sku"]] = item_id
        self._next_item_id = max(self._next_item_id, int(item_id) + 1)
        self.clock.observe(us)
        self._items_version += 1
        self._item_query_cache.clear()

    def _new_stock(
        self, item_id: str, facility_id: str, qty: float, locked: float, us: int
    ) -> Stock:
        stock = Stock(item_id, facility_id, qty, locked, us)
        per = self.stock.setdefault(facility_id, {})
        if item_id not in per:
            bisect.insort(self._stock_ids.setdefault(facility_id, []), int(item_id))
        per[item_id] = stock
        self._stock_list_cache.pop(facility_id, None)
        self.clock.observe(us)
        return stock

    def add_destination(self, fields: Mapping[str, Any], *, us: int | None = None) -> JSON:
        with self.lock:
            us = us if us is not None else self.clock.now_us()
            dest_id = hex_id(self.seed, "destination", self._next_destination, length=20)
            self._next_destination += 1
            billing = fields.get("billing") or {}
            record: JSON = {
                "id": dest_id,
                "type": fields.get("type") or "Dispensary",
                "name": fields["name"],
                "alias": fields.get("alias"),
                "company_email": fields.get("company_email"),
                "company_phone_number": fields.get("company_phone_number"),
                "website": fields.get("website"),
                "address_line_1": fields.get("address_line_1"),
                "address_line_2": fields.get("address_line_2"),
                "city": fields.get("city"),
                "state": fields.get("state"),
                "zip_code": fields.get("zip_code"),
                "country": fields.get("country") or "United States",
                "timezone": fields.get("timezone") or "America/Los_Angeles",
                "billing": {
                    key: billing.get(key)
                    for key in (
                        "address_line_1",
                        "address_line_2",
                        "city",
                        "state",
                        "zip_code",
                        "country",
                    )
                },
                "license_number": fields.get("license_number"),
                "local_license_number": fields.get("local_license_number"),
                "license_type": fields.get("license_type"),
                "external_id": fields.get("external_id"),
                "notes": fields.get("notes"),
                "active": bool(fields.get("active", True)),
                "contacts": None,
                "total_open_balance": "0.00",
                "number_open_invoices": "0",
                "created_timestamp": format_us(us, seconds=True),
                "last_updated_timestamp": format_us(us),
                "_updated_us": us,
            }
            self.destinations[dest_id] = record
            self.clock.observe(us)
            return record

    def add_sales_rep(self, fields: Mapping[str, Any], *, us: int | None = None) -> JSON:
        with self.lock:
            us = us if us is not None else self.clock.now_us()
            rep_id = self._next_rep_id
            self._next_rep_id += 1
            record: JSON = {
                "sales_rep_id": rep_id,
                "first_name": fields.get("first_name") or "",
                "middle_name": fields.get("middle_name"),
                "last_name": fields.get("last_name") or "",
                "phone_number": fields.get("phone_number"),
                "email": fields.get("email"),
                "facility_id": fields.get("facility_id"),
                "active": bool(fields.get("active", True)),
                "created_timestamp": format_us(us, seconds=True),
                "last_updated_timestamp": format_us(us),
            }
            self.sales_reps[rep_id] = record
            self.clock.observe(us)
            return record

    # ------------------------------------------------------------------------------------------
    # Reads (wire records)
    # ------------------------------------------------------------------------------------------
    def facility(self, facility_id: str) -> JSON:
        with self.lock:
            record = self.facilities.get(facility_id)
            if record is None:
                raise SandboxError(404, f"facility with ID {facility_id} does not exist")
            return record

    def require_facility(self, facility_id: str | None) -> JSON:
        """The ``FacilityID`` header: missing -> 400 (§8.8, our choice), unknown -> 400."""
        if not facility_id:
            raise SandboxError(400, "FacilityID header is required")
        with self.lock:
            record = self.facilities.get(facility_id)
            if record is None:
                raise SandboxError(400, f"facility with ID {facility_id} does not exist")
            return record

    def item(self, item_id: str) -> JSON:
        with self.lock:
            record = self.items.get(str(item_id))
            if record is None:
                raise SandboxError(404, f"item with ID {item_id} does not exist")
            return dict(record)

    def item_json(self, item_id: str) -> bytes:
        """Cached compact JSON of one item (the cache is dropped whenever the item changes)."""
        cached = self._item_json.get(item_id)
        if cached is None:
            cached = json.dumps(self.items[item_id], separators=(",", ":")).encode()
            self._item_json[item_id] = cached
        return cached

    def item_by_sku(self, sku: str) -> JSON | None:
        with self.lock:
            item_id = self._sku_index.get(sku)
            return None if item_id is None else self.items[item_id]

    def query_item_ids(self, query: Mapping[str, list[str]]) -> list[str]:
        """Ids of items matching the ``GET /items`` filters, in id order (cached per query)."""
        key = tuple(sorted((k, tuple(v)) for k, v in query.items()))
        with self.lock:
            cached = self._item_query_cache.get(key)
            if cached is not None:
                return cached
            ids = self._filter_items(query)
            if len(self._item_query_cache) > 256:
                self._item_query_cache.clear()
            self._item_query_cache[key] = ids
            return ids

    def _filter_items(self, query: Mapping[str, list[str]]) -> list[str]:
        checks: list[Callable[[JSON], bool]] = []
        if "item_id" in query:
            wanted = [i for i in query["item_id"] if i in self.items]
            candidates = sorted(set(wanted), key=int)
        elif "sku" in query:
            found = {self._sku_index[s] for s in query["sku"] if s in self._sku_index}
            candidates = sorted(found, key=int)
        else:
            candidates = [str(i) for i in self._item_ids]
        if "sku" in query:
            skus = set(query["sku"])
            checks.append(lambda r: r["sku"] in skus)
        brand_names: set[str] | None = None
        if "brand_name" in query:
            brand_names = set(query["brand_name"])
        if "brand_id" in query:
            names = {
                self.brands[int(b)]["brand_name"]
                for b in query["brand_id"]
                if b.isdigit() and int(b) in self.brands
            }
            brand_names = names if brand_names is None else brand_names & names
        if brand_names is not None:
            allowed = brand_names
            checks.append(lambda r: r["brand"] in allowed)
        for name in ITEM_FILTER_BOOLS:
            if name in query:
                checks.append(_flag_check(name, parse_bool(query[name][-1], name)))
        for name in ("item_name", "retail_display_name", "uom", "item_category", "item_class"):
            if name in query:
                checks.append(_in_check(name, set(query[name])))
        start, end = time_range(query, "last_updated_timestamp")
        if start is not None or end is not None:
            lo = start if start is not None else -1
            hi = end if end is not None else 1 << 62
            item_us = self._item_us
            checks.append(lambda r: lo <= item_us[r["id"]] <= hi)
        if not checks:
            return candidates
        items = self.items
        return [i for i in candidates if all(check(items[i]) for check in checks)]

    def inventory_row(self, item_id: str, facility_id: str) -> JSON:
        """The ``GET /inventory/summary`` row of one item at one facility."""
        with self.lock:
            stock = self.stock.get(facility_id, {}).get(str(item_id))
            if stock is None:
                raise SandboxError(404, f"no inventory for item {item_id} at {facility_id}")
            return self._summary_row(stock)

    def _summary_row(self, stock: Stock) -> JSON:
        item = self.items[stock.item_id]
        return {
            "inventory_type": item["inventory_type"],
            "item_class": item["item_class"],
            "item_category": item["item_category"],
            "external": item["external"],
            "item_id": item["id"],
            "item_name": item["item_name"],
            "item_retail_display_name": item["retail_display_name"],
            "item_variation_id": None,
            "variation_name": None,
            "variation_retail_display_name": "",
            "sku": item["sku"],
            "strain_id": item["strain_id"],
            "strain_name": item["strain_name"],
            "uom": item["uom"],
            "uom_description": item["uom_description"],
            "lot_number": None,
            "item_description": item["item_description"],
            "brand": item["brand"],
            "thc_ratio": item["thc_ratio"],
            "cbd_ratio": item["cbd_ratio"],
            "price": item["price"],
            "cost": item["cost"],
            "taxable": item["taxable"],
            "is_tax_exempt": item["is_tax_exempt"],
            "unit_weight": item["unit_weight"],
            "weight_uom": item["weight_uom"],
            "weight_uom_description": item["weight_uom_description"],
            "unit_volume": item["unit_volume"],
            "volume_uom": item["volume_uom"],
            "volume_uom_description": item["volume_uom_description"],
            "qty": num(stock.qty),
            "available_qty": num(stock.available),
            "non_available_qty": num(stock.non_available),
            "sellable_qty": num(stock.sellable),
            "on_order_qty": num(stock.on_order),
            "last_updated_timestamp": format_us(stock.updated_us),
        }

    def query_inventory(self, facility_id: str, query: Mapping[str, list[str]]) -> list[Stock]:
        with self.lock:
            per = self.stock.get(facility_id, {})
            if "item_id" in query:
                ids = sorted({i for i in query["item_id"] if i in per}, key=int)
                rows = [per[i] for i in ids]
            else:
                rows = self._stock_rows(facility_id)
            if "sku" in query:
                skus = set(query["sku"])
                rows = [s for s in rows if self.items[s.item_id]["sku"] in skus]
            if "item_name" in query:
                names = set(query["item_name"])
                rows = [s for s in rows if self.items[s.item_id]["item_name"] in names]
            if "has_available_qty" in query and parse_bool(
                query["has_available_qty"][-1], "has_available_qty"
            ):
                rows = [s for s in rows if s.available > 0]
            start, end = time_range(query, "last_updated_timestamp")
            if start is not None:
                rows = [s for s in rows if s.updated_us >= start]
            if end is not None:
                rows = [s for s in rows if s.updated_us <= end]
            return rows

    def _stock_rows(self, facility_id: str) -> list[Stock]:
        """All stock of a facility in item id order; cached until a row is added or removed
        (Stock objects are updated in place, so the cached list stays current)."""
        rows = self._stock_list_cache.get(facility_id)
        if rows is None:
            per = self.stock.get(facility_id, {})
            rows = [per[str(i)] for i in self._stock_ids.get(facility_id, [])]
            self._stock_list_cache[facility_id] = rows
        return rows

    def summary_rows(self, rows: Iterable[Stock]) -> list[JSON]:
        with self.lock:
            return [self._summary_row(s) for s in rows]

    def destination(self, destination_id: str) -> JSON:
        with self.lock:
            record = self.destinations.get(destination_id)
            if record is None:
                raise SandboxError(404, f"destination with ID {destination_id} does not exist")
            return public(record)

    def sales_rep(self, rep_id: int) -> JSON:
        with self.lock:
            record = self.sales_reps.get(rep_id)
            if record is None:
                raise SandboxError(404, f"sales rep with ID {rep_id} does not exist")
            return dict(record)

    # ------------------------------------------------------------------------------------------
    # Catalogue edits (warehouse screen)
    # ------------------------------------------------------------------------------------------
    def create_item(self, **fields: Any) -> JSON:
        """Create an item; ``sku`` and ``item_name`` are required, the rest default sensibly."""
        with self.lock:
            if not fields.get("sku") or not fields.get("item_name"):
                raise SandboxError(400, "sku and item_name are required")
            if fields["sku"] in self._sku_index:
                raise SandboxError(400, f"an item with SKU {fields['sku']} already exists")
            unknown = set(fields) - ITEM_EDITABLE
            if unknown:
                raise SandboxError(400, f"unknown item fields: {', '.join(sorted(unknown))}")
            us = self.clock.now_us()
            record = dict(ITEM_TEMPLATE)
            record.update(fields)
            record["id"] = str(self._next_item_id)
            record.setdefault("retail_display_name", record["item_name"])
            if not record["retail_display_name"]:
                record["retail_display_name"] = record["item_name"]
            record["uom_description"] = UOM_DESCRIPTIONS.get(record["uom"], record["uom"])
            record["standard_qty_uom_id"] = UOM_IDS.get(record["uom"], 1)
            record["created_timestamp"] = format_us(us, seconds=True)
            record["last_updated_timestamp"] = format_us(us)
            self._put_item(record, us)
            self._emit("Item", "create", record["id"], dict(record))
            return dict(record)

    def update_item(self, item_id: str, **fields: Any) -> JSON:
        """Edit an item (e.g. ``active=False``, ``brand="Blue Harbor"``, ``price=12.5``)."""
        with self.lock:
            current = self.items.get(str(item_id))
            if current is None:
                raise SandboxError(404, f"item with ID {item_id} does not exist")
            unknown = set(fields) - ITEM_EDITABLE
            if unknown:
                raise SandboxError(400, f"unknown item fields: {', '.join(sorted(unknown))}")
            sku = fields.get("sku")
            if sku and sku != current["sku"] and sku in self._sku_index:
                raise SandboxError(400, f"an item with SKU {sku} already exists")
            us = self.clock.now_us()
            record = {**current, **fields}
            record["uom_description"] = UOM_DESCRIPTIONS.get(record["uom"], record["uom"])
            record["last_updated_by"] = WAREHOUSE_USER
            record["last_updated_timestamp"] = format_us(us)
            self._put_item(record, us)
            self._emit("Item", "update", record["id"], dict(record))
            return dict(record)

    def delete_item(self, item_id: str) -> JSON:
        with self.lock:
            record = self.items.get(str(item_id))
            if record is None:
                raise SandboxError(404, f"item with ID {item_id} does not exist")
            item_id = record["id"]
            del self.items[item_id]
            self._item_ids.remove(int(item_id))
            self._item_us.pop(item_id, None)
            self._item_json.pop(item_id, None)
            if self._sku_index.get(record["sku"]) == item_id:
                del self._sku_index[record["sku"]]
            for facility_id, per in self.stock.items():
                if per.pop(item_id, None) is not None:
                    self._stock_ids[facility_id].remove(int(item_id))
                    self._stock_list_cache.pop(facility_id, None)
            self._items_version += 1
            self._item_query_cache.clear()
            self._emit("Item", "delete", item_id, dict(record))
            return dict(record)

    def set_inventory(
        self,
        item_id: str,
        facility_id: str,
        qty: float,
        non_available_qty: float | None = None,
    ) -> JSON:
        """Set on-hand ``qty`` (and optionally the locked part) of an item at a facility."""
        with self.lock:
            item_id = str(item_id)
            if item_id not in self.items:
                raise SandboxError(404, f"item with ID {item_id} does not exist")
            if facility_id not in self.facilities:
                raise SandboxError(404, f"facility with ID {facility_id} does not exist")
            quantity = _number(qty, "qty")
            stock = self._stock(item_id, facility_id)
            stock.qty = quantity
            if non_available_qty is not None:
                stock.locked = _number(non_available_qty, "non_available_qty")
            self._touch_stock([stock])
            return self._summary_row(stock)

    def _stock(self, item_id: str, facility_id: str) -> Stock:
        stock = self.stock.get(facility_id, {}).get(item_id)
        if stock is None:
            stock = self._new_stock(item_id, facility_id, 0.0, 0.0, self.clock.now_us())
        return stock

    def _touch_stock(self, stocks: Iterable[Stock]) -> None:
        seen: set[int] = set()
        for stock in stocks:
            if id(stock) in seen:
                continue
            seen.add(id(stock))
            stock.updated_us = self.clock.now_us()
            if self._subscribed("Inventory"):
                self._emit("Inventory", "update", stock.item_id, self._summary_row(stock))

    # ------------------------------------------------------------------------------------------
    # Destinations and sales reps through the API
    # ------------------------------------------------------------------------------------------
    def create_destination(self, body: Any) -> JSON:
        """``POST /v1/destinations``: needs ``name``; ``type`` from the facility-type enum."""
        if not isinstance(body, dict):
            raise SandboxError(400, "request body must be a JSON object")
        if not body.get("name"):
            raise SandboxError(400, "name is required")
        if body.get("type") and body["type"] not in FACILITY_TYPES:
            raise SandboxError(400, f"type must be one of {', '.join(FACILITY_TYPES)}")
        state = body.get("state")
        if state is not None and (not isinstance(state, str) or len(state) != 2):
            raise SandboxError(400, "state must be a 2-letter code")
        with self.lock:
            record = self.add_destination(body)
            if isinstance(body.get("contact"), dict):
                self._find_or_add_contact(record, body["contact"])
            return public(record)

    def _find_or_add_contact(self, destination: JSON, contact: Mapping[str, Any]) -> JSON:
        email = (contact.get("email") or "").strip().lower()
        contacts = destination["contacts"] or []
        for existing in contacts:
            if email and (existing.get("email") or "").lower() == email:
                return existing
        us = self.clock.now_us()
        record = {
            "facility_contact_id": self._next_contact_id,
            "facility_id": destination["id"],
            "first_name": contact.get("first_name"),
            "middle_name": contact.get("middle_name"),
            "last_name": contact.get("last_name"),
            "email": contact.get("email"),
            "phone_number": contact.get("phone_number"),
            "department": contact.get("department"),
            "notes": contact.get("notes"),
            "is_primary": 0 if contacts else 1,
            "created_timestamp": format_us(us, seconds=True),
            "last_updated_timestamp": format_us(us),
        }
        self._next_contact_id += 1
        destination["contacts"] = [*contacts, record]
        return record

    # ------------------------------------------------------------------------------------------
    # Outbound orders: API side (§4.10)
    # ------------------------------------------------------------------------------------------
    def _resolve_party(self, spec: Any, label: str) -> tuple[str | None, JSON | None, JSON | None]:
        """(existing id, fields of a destination to create, contact) or a 400."""
        if not isinstance(spec, dict):
            raise SandboxError(400, f"{label} must be an object")
        if "id" in spec and spec["id"] not in (None, ""):
            extra = sorted(set(spec) - {"id"})
            if extra:
                # Flourish's own fix (commit 6afb634): {"id"} must come alone.
                raise SandboxError(
                    400,
                    f"{label} with an id must not carry other fields (got {', '.join(extra)})",
                )
            dest_id = str(spec["id"])
            if dest_id not in self.destinations:
                raise SandboxError(400, f"{label} with ID {dest_id} does not exist")
            return dest_id, None, None
        missing = [f for f in ("name", *DESTINATION_ADDRESS_FIELDS) if not spec.get(f)]
        if missing:
            raise SandboxError(
                400,
                f'{label} could not be resolved: send either {{"id": ...}} alone or a name '
                f"with a complete address (missing: {', '.join(missing)})",
            )
        contact = spec.get("contact") if isinstance(spec.get("contact"), dict) else None
        for record in self.destinations.values():
            if record["name"] == spec["name"]:
                return record["id"], None, contact
        return None, dict(spec), contact

    def _commit_party(
        self, resolved: tuple[str | None, JSON | None, JSON | None]
    ) -> tuple[str, JSON | None]:
        dest_id, new_fields, contact = resolved
        if dest_id is None:
            dest_id = str(self.add_destination(new_fields or {})["id"])
        contact_record = None
        if contact:
            contact_record = self._find_or_add_contact(self.destinations[dest_id], contact)
        return dest_id, contact_record

    def _resolve_rep(self, spec: Any) -> int | JSON | None:
        """An existing rep id, or the fields of a rep to create (matched by email first)."""
        if spec is None:
            return None
        if not isinstance(spec, dict):
            raise SandboxError(400, "sales_rep must be an object")
        if spec.get("id") not in (None, "", 0, "0"):
            try:
                rep_id = int(spec["id"])
            except (TypeError, ValueError):
                raise SandboxError(400, "sales_rep id must be an integer") from None
            if rep_id not in self.sales_reps:
                raise SandboxError(400, f"sales rep with ID {rep_id} does not exist")
            return rep_id
        email = (spec.get("email") or "").strip().lower()
        if not email:
            raise SandboxError(400, "sales_rep needs either an id or an email")
        for rep in self.sales_reps.values():
            if (rep.get("email") or "").lower() == email:
                return int(rep["sales_rep_id"])
        return dict(spec)

    def _resolve_lines(self, lines: Any, facility_id: str) -> list[JSON]:
        if not isinstance(lines, list) or not lines:
            raise SandboxError(400, "order_lines must contain at least one line")
        resolved = []
        for index, line in enumerate(lines, start=1):
            if not isinstance(line, dict):
                raise SandboxError(400, f"order line {index} must be an object")
            sku = line.get("sku")
            item_id = line.get("item_id")
            item: JSON | None = None
            if item_id not in (None, ""):
                item = self.items.get(str(item_id))
                if item is None:
                    raise SandboxError(400, f"item with ID {item_id} does not exist")
                if sku and item["sku"] != sku:
                    raise SandboxError(
                        400, f"order line {index}: sku {sku} does not belong to item {item_id}"
                    )
            elif sku:
                found = self._sku_index.get(str(sku))
                if found is None:
                    raise SandboxError(400, f"item with SKU {sku} does not exist")
                item = self.items[found]
            else:
                raise SandboxError(400, f"order line {index} needs an item_id or a sku")
            qty = _number(line.get("order_qty"), f"order line {index} order_qty")
            if qty <= 0:
                raise SandboxError(400, f"order line {index} order_qty must be greater than 0")
            price = line.get("unit_price")
            unit_price = (
                float(item["price"] or 0)
                if price is None
                else _number(price, f"order line {index} unit_price")
            )
            discount = _number(
                line.get("discount_price") or 0, f"order line {index} discount_price"
            )
            resolved.append(
                {
                    "item_id": item["id"],
                    "item_variation_pk": line.get("item_variation_pk"),
                    "strain_id": line.get("strain_id") or item["strain_id"],
                    "sku": item["sku"],
                    "item_name": item["item_name"],
                    "retail_display_name": item["retail_display_name"],
                    "variation_name": None,
                    "strain_name": item["strain_name"],
                    "item_uom": item["uom"],
                    "unit_qty": None,
                    "order_qty": num(qty),
                    "allocated_qty": None,
                    "unit_price": money(unit_price),
                    "discount_price": money(discount),
                    "line_total_price": money(qty * unit_price - discount),
                    "qty_returned": 0,
                    "order_line_status": "Created",
                    "needs_fulfillment": item["needs_fulfillment"],
                    "taxes": [],
                    "order_line_dtls": [],
                    "lot_number": line.get("lot_number"),
                }
            )
        return resolved

    @staticmethod
    def _money_entries(value: Any, label: str) -> list[JSON]:
        if value in (None, ""):
            return []
        if not isinstance(value, list):
            raise SandboxError(400, f"{label} must be a list")
        entries = []
        for entry in value:
            if not isinstance(entry, dict):
                raise SandboxError(400, f"{label} entries must be objects")
            amount = _number(entry.get("amount", 0), f"{label} amount")
            entries.append(
                {**entry, "amount": money(amount), "method": entry.get("method") or "dollar"}
            )
        return entries

    @staticmethod
    def _notes(value: Any) -> list[JSON]:
        if value in (None, ""):
            return []
        if not isinstance(value, list) or not all(isinstance(n, dict) for n in value):
            raise SandboxError(400, "notes must be a list of objects")
        for note in value:
            if not note.get("note"):
                raise SandboxError(400, "all notes are required to have a body")
        return [
            {
                "subject": n.get("subject"),
                "note": n["note"],
                "internal_only": bool(n.get("internal_only", False)),
            }
            for n in value
        ]

    def create_order(
        self, facility_id: str | None, body: Any, *, created_by: str = SANDBOX_USER
    ) -> JSON:
        """``POST /v1/outbound-orders``; returns the POST-shaped record (``origin_facility_id``)."""
        with self.lock:
            facility = self.require_facility(facility_id)
            if not isinstance(body, dict):
                raise SandboxError(400, "request body must be a JSON object")
            if "destination" not in body or body["destination"] in (None, {}):
                raise SandboxError(400, "destination is required")
            destination = self._resolve_party(body["destination"], "destination")
            distributor = None
            if body.get("distributor"):
                distributor = self._resolve_party(body["distributor"], "distributor")
            lines = self._resolve_lines(body.get("order_lines"), facility["id"])
            rep = self._resolve_rep(body.get("sales_rep"))
            if rep is None and facility["sales_rep_required_for_outbound"]:
                raise SandboxError(
                    400,
                    f"a sales_rep is required for outbound orders from facility "
                    f"{facility['facility_name']}",
                )
            notes = self._notes(body.get("notes"))
            charges = self._money_entries(body.get("charges"), "charges")
            discounts = self._money_entries(body.get("discounts"), "discounts")
            invoice_date = _date_or_empty(body.get("invoice_date"), "invoice_date")
            delivery_date = _date_or_empty(
                body.get("requested_delivery_date"), "requested_delivery_date"
            )
            now = self.clock.now_us()
            order_ts = body.get("order_timestamp")
            order_us = parse_timestamp(order_ts, "order_timestamp") if order_ts else now
            # Validation passed: from here on, create what is missing.
            dest_id, contact = self._commit_party(destination)
            dist_id = self._commit_party(distributor)[0] if distributor else None
            rep_id = self._commit_rep(rep, facility["id"])
            order_id = f"{self._next_order_id:08d}"
            self._next_order_id += 1
            for line in lines:
                self._stamp_line(line, now, created_by, new=True)
            order: JSON = {
                "id": order_id,
                "facility_id": facility["id"],
                "original_order_id": _str_or_none(body.get("original_order_id")),
                "shipment_id": None,
                "order_timestamp": format_ms(order_us),
                "invoice_date": invoice_date,
                "requested_delivery_date": delivery_date,
                "shipped_timestamp": None,
                "delivered_timestamp": None,
                "order_status": "Created",
                "payment_status": "Awaiting Payment",
                "total_paid": 0,
                "pretax_discounts": bool(body.get("pretax_discounts", False)),
                "is_approved": False,
                "payment_term": body.get("payment_term"),
                "destination_id": dest_id,
                "contact": contact,
                "distributor_id": dist_id,
                "sales_rep_id": rep_id,
                "order_lines": lines,
                "notes": notes,
                "charges": charges,
                "discounts": discounts,
                "created_by": created_by,
                "last_updated_by": created_by,
                "_created_us": now,
                "_updated_us": now,
            }
            for n in range(1, 6):
                order[f"ref_field_{n}"] = body.get(f"ref_field_{n}")
            self.orders[order_id] = order
            self._apply_order_stock(order, +1)
            self._order_changed(order, "create", touch=False)
            return self.order_record(order_id, write=True)

    def _commit_rep(self, rep: int | JSON | None, facility_id: str) -> int | None:
        if rep is None or isinstance(rep, int):
            return rep
        return int(self.add_sales_rep({**rep, "facility_id": facility_id})["sales_rep_id"])

    @staticmethod
    def _stamp_line(line: JSON, us: int, user: str, *, new: bool = False) -> None:
        if new:
            line["created_by"] = user
            line["created_timestamp"] = format_us(us, seconds=True)
        line["last_updated_by"] = user
        line["last_updated_timestamp"] = format_us(us)

    def update_order(
        self, order_id: str, facility_id: str | None, body: Any, *, updated_by: str = SANDBOX_USER
    ) -> JSON:
        """``PUT /v1/outbound-orders/{id}``: edit while Created, or cancel (§4.10, §7)."""
        with self.lock:
            facility = self.require_facility(facility_id)
            order = self._order(order_id)
            if order["facility_id"] != facility["id"]:
                raise SandboxError(404, f"outbound order with ID {order_id} does not exist")
            if not isinstance(body, dict):
                raise SandboxError(400, "request body must be a JSON object")
            wanted_status = body.get("order_status")
            if wanted_status == "Cancelled":
                self._refuse_cancel(order)
                if order["order_status"] != "Created":
                    raise SandboxError(
                        400,
                        "Order cannot be cancelled through the API once inventory is allocated",
                    )
                self._cancel(order, updated_by)
                return self.order_record(order_id, write=True)
            if wanted_status not in (None, "", order["order_status"]):
                raise SandboxError(
                    400, "order_status can only be changed to Cancelled through the API"
                )
            if order["order_status"] != "Created":
                raise SandboxError(
                    400,
                    f"order with ID {order_id} cannot be updated since it is in an ineligible "
                    f"status ({order['order_status']})",
                )
            destination = (
                self._resolve_party(body["destination"], "destination")
                if body.get("destination")
                else None
            )
            distributor = (
                self._resolve_party(body["distributor"], "distributor")
                if body.get("distributor")
                else None
            )
            lines = (
                self._resolve_lines(body["order_lines"], facility["id"])
                if "order_lines" in body
                else None
            )
            rep = self._resolve_rep(body["sales_rep"]) if body.get("sales_rep") else None
            if (
                rep is None
                and order["sales_rep_id"] is None
                and facility["sales_rep_required_for_outbound"]
            ):
                raise SandboxError(
                    400,
                    f"a sales_rep is required for outbound orders from facility "
                    f"{facility['facility_name']}",
                )
            changes: JSON = {}
            if "notes" in body:
                changes["notes"] = self._notes(body["notes"])
            if "charges" in body:
                changes["charges"] = self._money_entries(body["charges"], "charges")
            if "discounts" in body:
                changes["discounts"] = self._money_entries(body["discounts"], "discounts")
            for name in ("invoice_date", "requested_delivery_date"):
                if name in body:
                    changes[name] = _date_or_empty(body[name], name)
            if body.get("order_timestamp"):
                changes["order_timestamp"] = format_ms(
                    parse_timestamp(body["order_timestamp"], "order_timestamp")
                )
            if "original_order_id" in body:
                changes["original_order_id"] = _str_or_none(body["original_order_id"])
            for name in (
                "pretax_discounts",
                "payment_term",
                *[f"ref_field_{n}" for n in range(1, 6)],
            ):
                if name in body:
                    changes[name] = body[name]
            # Validation passed: apply.
            now = self.clock.now_us()
            self._apply_order_stock(order, -1)
            touched = self._stocks_of(order)
            if destination:
                order["destination_id"], order["contact"] = self._commit_party(destination)
            if distributor:
                order["distributor_id"] = self._commit_party(distributor)[0]
            if rep is not None:
                order["sales_rep_id"] = self._commit_rep(rep, facility["id"])
            if lines is not None:
                for line in lines:
                    self._stamp_line(line, now, updated_by, new=True)
                order["order_lines"] = lines
            order.update(changes)
            order["last_updated_by"] = updated_by
            self._apply_order_stock(order, +1)
            self._touch_stock(touched + self._stocks_of(order))
            self._order_changed(order, "update")
            return self.order_record(order_id, write=True)

    @staticmethod
    def _refuse_cancel(order: JSON) -> None:
        status = order["order_status"]
        if status == "Shipped":
            raise SandboxError(400, "Order has already been shipped")
        if status == "Completed":
            raise SandboxError(400, "Order has already been completed")
        if status == "Cancelled":
            raise SandboxError(400, "Order has already been cancelled")

    def _order(self, order_id: str) -> JSON:
        order = self.orders.get(str(order_id))
        if order is None:
            raise SandboxError(404, f"outbound order with ID {order_id} does not exist")
        return order

    def order_record(self, order_id: str, *, write: bool = False) -> JSON:
        """The GET record (with ``origin_facility{id, facility_name}``).

        With ``write=True``: the POST/PUT response shape (``origin_facility_id``,
        ``last_updated_by``, sales rep ``facility_id``)."""
        with self.lock:
            order = self._order(order_id)
            lines = order["order_lines"]
            sub_total = sum(line["line_total_price"] for line in lines)
            total_discounts = sum(d["amount"] for d in order["discounts"])
            total_charges = sum(c["amount"] for c in order["charges"])
            total = sub_total - total_discounts + total_charges
            record: JSON = {
                "id": order["id"],
                "original_order_id": order["original_order_id"],
                "shipment_id": order["shipment_id"],
                "order_timestamp": order["order_timestamp"],
                "invoice_date": order["invoice_date"],
                "requested_delivery_date": order["requested_delivery_date"],
                "shipped_timestamp": order["shipped_timestamp"],
                "delivered_timestamp": order["delivered_timestamp"],
                "sub_total_price": money(sub_total),
                "taxes": 0,
                "excise_tax_rate": None,
                "total_discounts": money(total_discounts),
                "total_charges": money(total_charges),
                "delivery_fee": 0,
                "total_price": money(total),
                "total_paid": order["total_paid"],
                "total_refund": 0,
                "total_returns": 0,
                "pretax_discounts": order["pretax_discounts"],
                "is_approved": order["is_approved"],
                "order_status": order["order_status"],
                "payment_status": order["payment_status"],
                "origin_type": "Flourish",
                "tax_type": None,
                "tax_payment_direction": None,
                "payment_term": order["payment_term"],
                **{f"ref_field_{n}": order.get(f"ref_field_{n}") for n in range(1, 6)},
                "created_by": order["created_by"],
                "created_timestamp": format_us(order["_created_us"], seconds=True),
                "last_updated_timestamp": format_us(order["_updated_us"]),
                "destination": self._party_record(order["destination_id"], order["contact"]),
                "distributor": (
                    self._party_record(order["distributor_id"], None)
                    if order["distributor_id"]
                    else None
                ),
                "sales_rep": self._rep_record(order["sales_rep_id"], write=write),
                "order_lines": [dict(line) for line in lines],
                "charges": [dict(c) for c in order["charges"]],
                "discounts": [dict(d) for d in order["discounts"]],
                "notes": [dict(n) for n in order["notes"]],
            }
            facility = self.facilities[order["facility_id"]]
            if write:
                record["origin_facility_id"] = facility["id"]
                record["last_updated_by"] = order["last_updated_by"]
            else:
                record["origin_facility"] = {
                    "id": facility["id"],
                    "facility_name": facility["facility_name"],
                }
            return record

    def _party_record(self, dest_id: str, contact: JSON | None) -> JSON:
        dest = public(self.destinations[dest_id])
        dest.pop("contacts", None)
        dest.pop("created_timestamp", None)
        dest.pop("last_updated_timestamp", None)
        dest.pop("company_phone_number", None)
        dest["contact"] = (
            {
                key: contact.get(key)
                for key in ("first_name", "middle_name", "last_name", "email", "phone_number")
            }
            if contact
            else None
        )
        return dest

    def _rep_record(self, rep_id: int | None, *, write: bool) -> JSON | None:
        if rep_id is None:
            return None
        rep = self.sales_reps[rep_id]
        record = {
            "id": rep["sales_rep_id"],
            "first_name": rep["first_name"],
            "middle_name": rep["middle_name"],
            "last_name": rep["last_name"],
            "phone_number": rep["phone_number"],
            "email": rep["email"],
            "active": rep["active"],
        }
        if write:
            record["facility_id"] = rep["facility_id"]
        return record

    def query_order_ids(self, facility_id: str | None, query: Mapping[str, list[str]]) -> list[str]:
        with self.lock:
            orders: Iterable[JSON] = self.orders.values()
            if facility_id:
                self.require_facility(facility_id)
                orders = [o for o in orders if o["facility_id"] == facility_id]
            if "order_status" in query:
                statuses = set(query["order_status"])
                orders = [o for o in orders if o["order_status"] in statuses]
            if "order_payment_status" in query:
                payments = set(query["order_payment_status"])
                orders = [o for o in orders if o["payment_status"] in payments]
            if "order_origin" in query:
                origins = set(query["order_origin"])
                orders = [o for o in orders if "Flourish" in origins]
            if "order_id" in query:
                ids = set(query["order_id"])
                orders = [o for o in orders if o["id"] in ids]
            for name, key in (
                ("created_timestamp", "_created_us"),
                ("last_updated_timestamp", "_updated_us"),
            ):
                start, end = time_range(query, name)
                if start is not None:
                    orders = [o for o in orders if o[key] >= start]
                if end is not None:
                    orders = [o for o in orders if o[key] <= end]
            return sorted(o["id"] for o in orders)

    # ------------------------------------------------------------------------------------------
    # Outbound orders: warehouse side (what the Flourish UI does)
    # ------------------------------------------------------------------------------------------
    def allocate_order(self, order_id: str, quantities: Mapping[str, float] | None = None) -> JSON:
        """Allocate fully, or set allocated qty per line keyed by ``sku`` or ``item_id``.

        Stock is not checked (the sandbox lets you over-allocate; sellable may go negative).
        """
        with self.lock:
            order = self._order(order_id)
            if order["order_status"] not in OPEN_STATUSES:
                raise SandboxError(
                    400, f"order {order_id} cannot be allocated in status {order['order_status']}"
                )
            if quantities is not None:
                known = {line["sku"] for line in order["order_lines"]} | {
                    line["item_id"] for line in order["order_lines"]
                }
                unknown = sorted(set(map(str, quantities)) - known)
                if unknown:
                    raise SandboxError(400, f"no order line for {', '.join(unknown)}")
            self._apply_order_stock(order, -1)
            now = self.clock.now_us()
            for line in order["order_lines"]:
                if quantities is None:
                    target = float(line["order_qty"])
                else:
                    value = quantities.get(line["sku"], quantities.get(line["item_id"]))
                    if value is None:
                        continue
                    target = min(_number(value, "allocated qty"), float(line["order_qty"]))
                line["allocated_qty"] = num(target)
                line["order_line_dtls"] = (
                    [self._package(order, line, target, now)] if target > 0 else []
                )
                self._stamp_line(line, now, WAREHOUSE_USER)
            order["order_status"] = _allocation_status(order)
            order["last_updated_by"] = WAREHOUSE_USER
            self._apply_order_stock(order, +1)
            self._touch_stock(self._stocks_of(order))
            self._order_changed(order, "update")
            return self.order_record(order_id)

    def _package(self, order: JSON, line: JSON, qty: float, us: int) -> JSON:
        package_id = f"SBX-{order['id']}-{self._next_package:04d}"
        self._next_package += 1
        return {
            "package_id": package_id,
            "lot_number": f"LOT-{line['sku']}",
            "qty": num(qty),
            "returned": False,
            "created_by": WAREHOUSE_USER,
            "created_timestamp": format_us(us, seconds=True),
            "last_updated_by": WAREHOUSE_USER,
            "last_updated_timestamp": format_us(us),
        }

    def ship_order(self, order_id: str) -> JSON:
        """Ship what is allocated (allocating everything first if nothing is)."""
        with self.lock:
            order = self._order(order_id)
            if order["order_status"] not in OPEN_STATUSES:
                raise SandboxError(
                    400, f"order {order_id} cannot be shipped in status {order['order_status']}"
                )
            if order["order_status"] == "Created":
                self.allocate_order(order_id)
            self._apply_order_stock(order, -1)
            now = self.clock.now_us()
            stocks = []
            for line in order["order_lines"]:
                stock = self._stock(line["item_id"], order["facility_id"])
                stock.qty -= float(line["allocated_qty"] or 0)
                stocks.append(stock)
            order["order_status"] = "Shipped"
            order["shipped_timestamp"] = format_us(now, seconds=True)
            order["is_approved"] = True
            if not order["invoice_date"]:
                order["invoice_date"] = format_us(now)[:10]
            order["last_updated_by"] = WAREHOUSE_USER
            self._touch_stock(stocks)
            self._order_changed(order, "update")
            return self.order_record(order_id)

    def complete_order(self, order_id: str) -> JSON:
        """Shipped -> Completed (when Flourish sets it is uncertain, §8.11: here, by hand)."""
        with self.lock:
            order = self._order(order_id)
            if order["order_status"] != "Shipped":
                raise SandboxError(400, f"only a Shipped order can be completed (order {order_id})")
            order["order_status"] = "Completed"
            order["delivered_timestamp"] = format_us(self.clock.now_us(), seconds=True)
            order["last_updated_by"] = WAREHOUSE_USER
            self._order_changed(order, "update")
            return self.order_record(order_id)

    def mark_paid(self, order_id: str, amount: float | None = None) -> JSON:
        """``payment_status`` Paid with ``total_paid = total_price`` (or Partially Paid)."""
        with self.lock:
            order = self._order(order_id)
            total = float(self.order_record(order_id)["total_price"])
            paid = total if amount is None else _number(amount, "amount")
            order["total_paid"] = money(paid)
            order["payment_status"] = "Paid" if paid >= total else "Partially Paid"
            order["last_updated_by"] = WAREHOUSE_USER
            self._order_changed(order, "update")
            return self.order_record(order_id)

    def cancel_order(self, order_id: str) -> JSON:
        """UI-style cancel: allowed while Created or (partially) allocated; releases stock."""
        with self.lock:
            order = self._order(order_id)
            self._refuse_cancel(order)
            self._cancel(order, WAREHOUSE_USER)
            return self.order_record(order_id)

    def _cancel(self, order: JSON, user: str) -> None:
        self._apply_order_stock(order, -1)
        now = self.clock.now_us()
        for line in order["order_lines"]:
            if line["allocated_qty"]:
                line["allocated_qty"] = 0
                line["order_line_dtls"] = []
                self._stamp_line(line, now, user)
        order["order_status"] = "Cancelled"
        order["last_updated_by"] = user
        self._touch_stock(self._stocks_of(order))
        self._order_changed(order, "update")

    def _stocks_of(self, order: JSON) -> list[Stock]:
        return [self._stock(line["item_id"], order["facility_id"]) for line in order["order_lines"]]

    def _apply_order_stock(self, order: JSON, sign: int) -> None:
        """Add (+1) or remove (-1) an open order's on-order and allocated quantities."""
        if order["order_status"] not in OPEN_STATUSES:
            return
        for line in order["order_lines"]:
            stock = self._stock(line["item_id"], order["facility_id"])
            stock.on_order += sign * float(line["order_qty"])
            stock.allocated += sign * float(line["allocated_qty"] or 0)

    def _order_changed(self, order: JSON, action: str, *, touch: bool = True) -> None:
        if touch:
            order["_updated_us"] = self.clock.now_us()
        if action == "create":
            self._touch_stock(self._stocks_of(order))
        if self._subscribed("Outbound Order"):
            self._emit("Outbound Order", action, order["id"], self.order_record(order["id"]))

    # ------------------------------------------------------------------------------------------
    # Webhooks
    # ------------------------------------------------------------------------------------------
    def add_webhook_endpoint(
        self,
        url: str,
        signing_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        events: list[str] | None = None,
    ) -> JSON:
        """Configure a webhook endpoint; ``events`` among "Outbound Order", "Inventory", "Item"."""
        if not url or not url.startswith(("http://", "https://")):
            raise SandboxError(400, "url must be an http(s) URL")
        try:
            event_names = normalise_events(events)
        except ValueError as exc:
            raise SandboxError(400, str(exc)) from None
        with self.lock:
            # One endpoint per URL, as on Flourish's Webhook Endpoint screen: configuring a URL
            # again replaces its settings instead of sending every event twice.
            for existing in list(self.endpoints.values()):
                if existing.url == url:
                    del self.endpoints[existing.id]
            endpoint = WebhookEndpoint(
                url=url,
                signing_key=signing_key or None,
                headers={str(k): str(v) for k, v in (headers or {}).items()},
                events=event_names,
                id=self._next_endpoint_id,
            )
            self._next_endpoint_id += 1
            self.endpoints[endpoint.id] = endpoint
            return endpoint.to_json()

    def remove_webhook_endpoint(self, endpoint_id: int) -> None:
        with self.lock:
            if self.endpoints.pop(int(endpoint_id), None) is None:
                raise SandboxError(404, f"webhook endpoint {endpoint_id} does not exist")

    def webhook_endpoints(self) -> list[JSON]:
        with self.lock:
            return [e.to_json() for e in self.endpoints.values()]

    def _subscribed(self, event: str) -> bool:
        if self._quiet:
            return False
        return any(event in e.events for e in self.endpoints.values())

    def _emit(self, event: str, action: str, resource_id: str, data: JSON) -> None:
        targets = [e for e in self.endpoints.values() if event in e.events]
        if not targets or self._quiet:
            return
        payload = {"action": action, "resource_type": EVENT_RESOURCE_TYPES[event], "data": data}
        # Serialise once: the signature is computed over exactly these bytes (§5.3).
        body = json.dumps(payload, separators=(",", ":")).encode()
        for endpoint in targets:
            self.dispatcher.enqueue(
                endpoint,
                body,
                resource_type=EVENT_RESOURCE_TYPES[event],
                action=action,
                resource_id=resource_id,
            )

    def deliveries(self) -> list[JSON]:
        return self.dispatcher.log()

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until every queued webhook was delivered or gave up; False on timeout."""
        return self.dispatcher.wait(timeout)

    def set_webhook_fault(self, mode: str | None, count: int = 1) -> None:
        """``duplicate`` / ``drop`` / ``reorder`` the next ``count`` webhook messages."""
        try:
            self.dispatcher.set_fault(mode, count)
        except ValueError as exc:
            raise SandboxError(400, str(exc)) from None

    # ------------------------------------------------------------------------------------------
    # API faults
    # ------------------------------------------------------------------------------------------
    def add_fault(self, **rule: Any) -> JSON:
        """See ``flourish_sandbox.faults.FaultInjector.add`` for the keywords."""
        try:
            created: FaultRule = self.faults.add(**rule)
        except (TypeError, ValueError) as exc:
            raise SandboxError(400, str(exc)) from None
        return created.to_json()

    def set_latency(self, latency_ms: int) -> None:
        self.faults.latency_ms = max(0, int(latency_ms))

    def clear_faults(self) -> None:
        self.faults.clear()
        self.dispatcher.set_fault(None)

    def faults_json(self) -> JSON:
        return {**self.faults.to_json(), "webhook": self.dispatcher.fault_json()}

    def summary(self) -> JSON:
        with self.lock:
            return {
                "seed": self.seed,
                "facilities": [
                    {
                        "id": f["id"],
                        "facility_name": f["facility_name"],
                        "license_number": f["license_number"],
                        "sales_rep_required_for_outbound": f["sales_rep_required_for_outbound"],
                    }
                    for f in self.facilities.values()
                ],
                "counts": {
                    "items": len(self.items),
                    "brands": len(self.brands),
                    "destinations": len(self.destinations),
                    "sales_reps": len(self.sales_reps),
                    "orders": len(self.orders),
                },
            }


# -- module helpers ----------------------------------------------------------------------------


def public(record: JSON) -> JSON:
    """A copy without the sandbox-internal ``_``-prefixed keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def parse_bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise SandboxError(400, f"{name} must be true or false")


def time_range(query: Mapping[str, list[str]], name: str) -> tuple[int | None, int | None]:
    start = query.get(f"{name}_start")
    end = query.get(f"{name}_end")
    return (
        parse_timestamp(start[-1], f"{name}_start") if start else None,
        parse_timestamp(end[-1], f"{name}_end") if end else None,
    )


def _allocation_status(order: JSON) -> str:
    lines = order["order_lines"]
    allocated = [float(line["allocated_qty"] or 0) for line in lines]
    if all(a >= float(line["order_qty"]) for a, line in zip(allocated, lines, strict=True)):
        return "Allocated"
    if any(a > 0 for a in allocated):
        return "Partially Allocated"
    return "Created"


def _flag_check(name: str, flag: bool) -> Callable[[JSON], bool]:
    return lambda record: bool(record[name]) is flag


def _in_check(name: str, values: set[str]) -> Callable[[JSON], bool]:
    return lambda record: record[name] in values


def _str_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
