"""The one door for outbound HTTP to Flourish (conventions §2).

Every request goes through ``FlourishClient._send``: it always passes a (connect, read) timeout,
never follows redirects, unwraps the ``{"message", "status", "data"}`` envelope (flourish-api.md
§3.1), and turns every failure into a classified ``FlourishError`` (errors.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self

import requests

from flourish_client import errors
from flourish_client.records import (
    Brand,
    Destination,
    Facility,
    InventorySummaryRow,
    Item,
    OrderStatus,
    OutboundOrder,
    SalesRep,
    format_datetime,
)

PRODUCTION_BASE_URL = "https://app.flourishsoftware.com"
API_PREFIX = "/external/api/v1"

# saleor-style named timeouts: connect slightly above a TCP retransmit window, read generous
# enough for a 50-row item page with its finance-account objects.
CONNECT_TIMEOUT_SECONDS = 3.05
READ_TIMEOUT_SECONDS = 30
# "The maximum allowable limit is set to 50" (flourish-api.md §3.2).
PAGE_LIMIT = 50
# The official client sends at most 50 repeated `item_id=` params per call (§3.3, §4.5).
MAX_IDS_PER_CALL = 50

FACILITY_HEADER = "FacilityID"
API_KEY_HEADER = "x-api-key"
USER_AGENT = "ordo-flourish-portal/0.1 (+flourish_client)"

Params = list[tuple[str, str]]


def _chunks(values: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _bool_param(value: bool) -> str:
    # Boolean filters take `true`/`false` (§3.3).
    return "true" if value else "false"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} to Flourish")


def normalise_base_url(base_url: str) -> str:
    """Accept what an admin types: with or without a trailing slash or ``/external/api[/v1]``."""
    url = base_url.strip().rstrip("/")
    for suffix in ("/external/api/v1", "/external/api"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
            break
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"Flourish base URL must start with http:// or https://: {base_url!r}")
    return url


class FlourishClient:
    """A typed client for the Flourish External API.

    ``request_count`` counts HTTP requests sent, ``pages_fetched`` counts list pages received.
    """

    def __init__(
        self,
        base_url: str = PRODUCTION_BASE_URL,
        api_key: str = "",
        username: str | None = None,
        facility_id: str | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
        use_basic_auth: bool = False,
        session: requests.Session | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("a Flourish API key is required")
        self.base_url = normalise_base_url(base_url)
        self.api_key = api_key
        self.username = username
        self.facility_id = facility_id or None
        self.timeout = timeout
        self.use_basic_auth = use_basic_auth
        self._owns_session = session is None
        self.session = session or requests.Session()
        self.request_count = 0
        self.pages_fetched = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the door ------------------------------------------------------------------------------

    def _headers(self, facility_id: str | None, has_body: bool) -> dict[str, str]:
        headers = {
            API_KEY_HEADER: self.api_key,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if self.use_basic_auth and self.username:
            # Legacy accounts (§2.2): Basic base64("username:key"), sent alongside x-api-key.
            token = base64.b64encode(f"{self.username}:{self.api_key}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        if facility_id:
            headers[FACILITY_HEADER] = facility_id
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _facility(self, facility_id: str | None, *, required: bool, call: str) -> str | None:
        chosen = facility_id or self.facility_id
        if required and not chosen:
            # Flourish needs FacilityID on facility-bound calls (§2.3); fail before any HTTP.
            raise ValueError(f"{call} needs a Flourish facility id (the FacilityID header)")
        return chosen

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        facility_id: str | None = None,
    ) -> dict[str, Any]:
        """Send one request and return the decoded envelope. Raises a ``FlourishError``."""
        url = f"{self.base_url}{API_PREFIX}{path}"
        data = None if body is None else json.dumps(body, default=_json_default)
        where = f"{method} {path}"
        self.request_count += 1
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                headers=self._headers(facility_id, has_body=data is not None),
                timeout=self.timeout,
                # A redirect is never expected from Flourish; following one could send the API
                # key elsewhere (conventions §2).
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise errors.TransientError(
                f"Flourish did not answer {where} in time ({self.timeout[1]} s): {exc}"
            ) from exc
        except requests.ConnectionError as exc:
            raise errors.TransientError(f"Could not connect to Flourish for {where}") from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            raise errors.ProtocolError(f"The Flourish base URL is invalid: {exc}") from exc
        except requests.RequestException as exc:
            raise errors.TransientError(f"Flourish request {where} failed: {exc}") from exc
        return self._unwrap(response, where)

    def _unwrap(self, response: requests.Response, where: str) -> dict[str, Any]:
        status = response.status_code
        try:
            decoded: Any = response.json()
        except ValueError:
            decoded = None
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            raise errors.ProtocolError(
                f"Flourish redirected {where} to {location}; check the base URL", status
            )
        if status != 200:
            method, _, path = where.partition(" ")
            raise errors.error_for_status(
                status,
                decoded,
                method=method,
                path=path,
                retry_after=response.headers.get("Retry-After"),
            )
        # The official client requires `data` to be an array or object (§3.1).
        if not isinstance(decoded, dict) or not isinstance(decoded.get("data"), dict | list):
            raise errors.ProtocolError(
                f"Flourish answered {where} with something other than its JSON envelope", status
            )
        return decoded

    def _get_object(
        self, path: str, *, params: Params | None = None, facility_id: str | None = None
    ) -> dict[str, Any]:
        data = self._send("GET", path, params=params, facility_id=facility_id)["data"]
        if not isinstance(data, dict):
            raise errors.ProtocolError(f"Flourish answered GET {path} with a list, not a record")
        return data

    def _write(
        self, method: str, path: str, body: Any, *, facility_id: str | None = None
    ) -> dict[str, Any]:
        data = self._send(method, path, body=body, facility_id=facility_id)["data"]
        if not isinstance(data, dict):
            raise errors.ProtocolError(f"Flourish answered {method} {path} without a record")
        return data

    def _paginate(
        self, path: str, params: Params | None = None, *, facility_id: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield raw rows page by page; never holds more than one page (§3.2)."""
        offset = 0
        while True:
            page_params = [*(params or []), ("limit", str(PAGE_LIMIT)), ("offset", str(offset))]
            envelope = self._send("GET", path, params=page_params, facility_id=facility_id)
            rows = envelope["data"]
            if not isinstance(rows, list):
                raise errors.ProtocolError(f"Flourish answered GET {path} without a list")
            self.pages_fetched += 1
            yield from (row for row in rows if isinstance(row, dict))
            meta = envelope.get("meta")
            next_url = meta.get("next") if isinstance(meta, dict) else None
            # Stop on `next == ""` or a short page, whichever comes first (§3.2). We compute
            # the next offset ourselves rather than following `next`, which may be absolute.
            if not rows or len(rows) < PAGE_LIMIT or next_url == "":
                return
            offset += len(rows)

    # -- facilities, brands, items (company level, no FacilityID; §2.3) ------------------------

    def list_facilities(self, active: bool | None = None) -> Iterator[Facility]:
        params: Params = [] if active is None else [("active", _bool_param(active))]
        for row in self._paginate("/facilities", params):
            yield Facility.from_wire(row)

    def get_facility(self, facility_id: str) -> Facility:
        return Facility.from_wire(self._get_object(f"/facilities/{facility_id}"))

    def list_brands(self, active: bool | None = None) -> Iterator[Brand]:
        # Flourish returns only active brands unless `active=false` is sent (§4.2).
        params: Params = [] if active is None else [("active", _bool_param(active))]
        for row in self._paginate("/brands", params):
            yield Brand.from_wire(row)

    def list_items(
        self,
        brand_names: Sequence[str] | None = None,
        last_updated_since: dt.datetime | None = None,
        active: bool | None = None,
        item_ids: Sequence[str] | None = None,
    ) -> Iterator[Item]:
        params: Params = [("brand_name", name) for name in brand_names or ()]
        if last_updated_since is not None:
            params.append(("last_updated_timestamp_start", format_datetime(last_updated_since)))
        if active is not None:
            params.append(("active", _bool_param(active)))
        # `item_id` is undocumented as a list filter but used by the official client (§4.4).
        for id_chunk in self._id_chunks(item_ids):
            chunk_params = params + [("item_id", item_id) for item_id in id_chunk]
            for row in self._paginate("/items", chunk_params):
                yield Item.from_wire(row)

    def get_item(self, item_id: str) -> Item:
        return Item.from_wire(self._get_object(f"/items/{item_id}"))

    # -- inventory (facility level) ------------------------------------------------------------

    def inventory_summary(
        self,
        facility_id: str | None = None,
        item_ids: Sequence[str] | None = None,
        skus: Sequence[str] | None = None,
        last_updated_since: dt.datetime | None = None,
    ) -> Iterator[InventorySummaryRow]:
        """Rows per item/variation/strain (§4.5); take ``sellable_qty`` as stock."""
        facility = self._facility(facility_id, required=True, call="inventory_summary")
        base: Params = []
        if last_updated_since is not None:
            base.append(("last_updated_timestamp_start", format_datetime(last_updated_since)))
        # At most 50 repeated ids per call, as the official client does (§4.5).
        for id_chunk, sku_chunk in itertools.product(
            self._id_chunks(item_ids), self._id_chunks(skus)
        ):
            params = (
                base
                + [("item_id", item_id) for item_id in id_chunk]
                + [("sku", sku) for sku in sku_chunk]
            )
            for row in self._paginate("/inventory/summary", params, facility_id=facility):
                yield InventorySummaryRow.from_wire(row)

    # -- destinations (company level) ----------------------------------------------------------

    def list_destinations(self, license_number: str | None = None) -> Iterator[Destination]:
        params: Params = [] if license_number is None else [("license_number", license_number)]
        for row in self._paginate("/destinations", params):
            yield Destination.from_wire(row)

    def get_destination(self, destination_id: str) -> Destination:
        return Destination.from_wire(self._get_object(f"/destinations/{destination_id}"))

    def create_destination(self, payload: dict[str, Any] | DestinationRequest) -> Destination:
        body = payload.to_wire() if isinstance(payload, DestinationRequest) else payload
        return Destination.from_wire(self._write("POST", "/destinations", body))

    # -- sales reps (facility level) -----------------------------------------------------------

    def list_sales_reps(self, facility_id: str | None = None) -> Iterator[SalesRep]:
        facility = self._facility(facility_id, required=True, call="list_sales_reps")
        for row in self._paginate("/sales-reps", facility_id=facility):
            yield SalesRep.from_wire(row)

    # -- outbound orders (§4.10) ---------------------------------------------------------------

    def create_outbound_order(
        self, payload: dict[str, Any] | OutboundOrderRequest, facility_id: str | None = None
    ) -> OutboundOrder:
        """POST; the FacilityID becomes the origin facility. Answers 200 with ``data.id``."""
        facility = self._facility(facility_id, required=True, call="create_outbound_order")
        body = payload.to_wire() if isinstance(payload, OutboundOrderRequest) else payload
        return OutboundOrder.from_wire(
            self._write("POST", "/outbound-orders", body, facility_id=facility)
        )

    def get_outbound_order(self, order_id: str) -> OutboundOrder:
        # Without FacilityID, like the official client: an order may have moved facility (§4.10).
        return OutboundOrder.from_wire(self._get_object(f"/outbound-orders/{order_id}"))

    def list_outbound_orders(
        self,
        facility_id: str | None = None,
        last_updated_since: dt.datetime | None = None,
        created_since: dt.datetime | None = None,
        order_status: Sequence[str] | None = None,
        order_ids: Sequence[str] | None = None,
    ) -> Iterator[OutboundOrder]:
        """FacilityID is optional here: with it, one facility; without, the company (§2.3)."""
        facility = self._facility(facility_id, required=False, call="list_outbound_orders")
        params: Params = [("order_status", str(status)) for status in order_status or ()]
        if last_updated_since is not None:
            params.append(("last_updated_timestamp_start", format_datetime(last_updated_since)))
        if created_since is not None:
            params.append(("created_timestamp_start", format_datetime(created_since)))
        for id_chunk in self._id_chunks(order_ids):
            chunk_params = params + [("order_id", order_id) for order_id in id_chunk]
            for row in self._paginate("/outbound-orders", chunk_params, facility_id=facility):
                yield OutboundOrder.from_wire(row)

    def update_outbound_order(
        self,
        order_id: str,
        payload: dict[str, Any] | OutboundOrderRequest,
        facility_id: str | None = None,
    ) -> OutboundOrder:
        """PUT; Flourish allows it only while the order is ``Created`` (§4.10). Send it whole."""
        facility = self._facility(facility_id, required=True, call="update_outbound_order")
        body = payload.to_wire() if isinstance(payload, OutboundOrderRequest) else payload
        return OutboundOrder.from_wire(
            self._write("PUT", f"/outbound-orders/{order_id}", body, facility_id=facility)
        )

    def cancel_outbound_order(
        self,
        order_id: str,
        facility_id: str | None = None,
        original_order_id: str | None = None,
        destination_id: str | None = None,
    ) -> OutboundOrder:
        """Cancel with the official client's body (§4.10): no lines, ``order_status`` only.

        When ``original_order_id`` or ``destination_id`` is not given, the order is read first
        to fill them in (one extra GET). Flourish refuses with 400 once the order is shipped,
        completed or already cancelled (§3.5).
        """
        facility = self._facility(facility_id, required=True, call="cancel_outbound_order")
        body: dict[str, Any] = {}
        if original_order_id is None or destination_id is None:
            current = self.get_outbound_order(order_id)
            original_order_id = original_order_id or current.original_order_id
            destination_id = destination_id or current.destination_id
            if current.order_timestamp is not None:
                body["order_timestamp"] = format_datetime(current.order_timestamp)
        if original_order_id is not None:
            body["original_order_id"] = original_order_id
        if destination_id is not None:
            body["destination"] = {"id": destination_id}
        body["order_status"] = OrderStatus.CANCELLED.value
        return OutboundOrder.from_wire(
            self._write("PUT", f"/outbound-orders/{order_id}", body, facility_id=facility)
        )

    def find_outbound_order_by_original_id(
        self,
        original_order_id: str,
        created_since: dt.datetime | None = None,
        facility_id: str | None = None,
    ) -> OutboundOrder | None:
        """Find the order the portal created for ``original_order_id``, if any.

        Flourish has no filter by ``original_order_id`` (§4.10 list filters), so this lists
        orders created since ``created_since`` and scans. It is how the portal avoids a duplicate
        after a create whose outcome is unknown (a timeout after the request was sent). A live
        order wins over a cancelled one; among equals, the newest wins.
        """
        best: OutboundOrder | None = None
        for order in self.list_outbound_orders(
            facility_id=facility_id, created_since=created_since
        ):
            if order.original_order_id != original_order_id:
                continue
            if best is None or _preference(order) > _preference(best):
                best = order
        return best

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _id_chunks(values: Sequence[str] | None) -> Iterable[list[str]]:
        if not values:
            return [[]]
        return _chunks([str(value) for value in values], MAX_IDS_PER_CALL)


def _preference(order: OutboundOrder) -> tuple[bool, dt.datetime]:
    created = order.created_timestamp or dt.datetime.min.replace(tzinfo=dt.UTC)
    return (order.order_status != OrderStatus.CANCELLED, created)


# -------------------------------------------------------------------------------------------------
# Request payloads (§4.10 create body)
# -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DestinationRequest:
    """Either a reference ``{"id": ...}`` alone, or a full destination object. Never both:
    extra keys next to ``id`` cause 400s (§4.10, Flourish commit 6afb634)."""

    id: str | None = None
    name: str | None = None
    license_number: str | None = None
    license_type: str | None = None
    type: str | None = None
    alias: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None
    company_email: str | None = None
    company_phone_number: str | None = None
    external_id: str | None = None
    contact: dict[str, Any] | None = None

    @classmethod
    def by_id(cls, destination_id: str) -> Self:
        return cls(id=destination_id)

    def to_wire(self) -> dict[str, Any]:
        if self.id is not None:
            return {"id": self.id}
        if not self.name:
            raise ValueError("a new destination needs at least a name (or pass an id)")
        wire: dict[str, Any] = {}
        for name in (
            "type",
            "name",
            "alias",
            "license_number",
            "license_type",
            "address_line_1",
            "address_line_2",
            "city",
            "state",
            "zip_code",
            "country",
            "company_email",
            "company_phone_number",
            "external_id",
            "contact",
        ):
            value = getattr(self, name)
            if value is not None:
                wire[name] = value
        return wire


@dataclass(frozen=True, slots=True)
class OrderLineRequest:
    """A line by ``sku`` (what the official client sends) or by ``item_id`` (§4.10)."""

    order_qty: Decimal
    unit_price: Decimal
    sku: str | None = None
    item_id: str | None = None
    discount_price: Decimal = Decimal(0)
    item_variation_pk: str | None = None
    strain_id: str | None = None
    lot_number: str | None = None

    def to_wire(self) -> dict[str, Any]:
        if not self.sku and not self.item_id:
            raise ValueError("an order line needs a sku or an item_id")
        wire: dict[str, Any] = {}
        if self.item_id:
            wire["item_id"] = self.item_id
        if self.sku:
            wire["sku"] = self.sku
        wire["order_qty"] = _json_default(Decimal(self.order_qty))
        wire["unit_price"] = _json_default(Decimal(self.unit_price))
        # A per-line total, not per unit (§4.10 totals note).
        wire["discount_price"] = _json_default(Decimal(self.discount_price))
        for name in ("item_variation_pk", "strain_id", "lot_number"):
            value = getattr(self, name)
            if value is not None:
                wire[name] = value
        return wire


@dataclass(frozen=True, slots=True)
class SalesRepRequest:
    """A sales rep Flourish does not know by id yet: searched by email and created if missing
    (§4.10 create body, ``sales_rep``)."""

    email: str
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None

    def to_wire(self) -> dict[str, Any]:
        if not self.email.strip():
            raise ValueError("a sales rep without an id needs an email")
        wire: dict[str, Any] = {}
        for name in ("first_name", "middle_name", "last_name", "phone_number"):
            value = getattr(self, name)
            if value is not None:
                wire[name] = value
        wire["email"] = self.email
        return wire


@dataclass(frozen=True, slots=True)
class OutboundOrderRequest:
    """The create/update body (§4.10). A sales rep is required when the origin facility has
    ``sales_rep_required_for_outbound``: ``sales_rep_id`` (sent as ``{"id"}``) or, for a rep
    Flourish may not know yet, ``sales_rep`` (matched by email). Never both."""

    original_order_id: str
    destination: DestinationRequest
    lines: tuple[OrderLineRequest, ...]
    order_timestamp: dt.datetime | None = None
    sales_rep_id: str | int | None = None
    invoice_date: dt.date | None = None
    notes: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    sales_rep: SalesRepRequest | None = None

    def to_wire(self) -> dict[str, Any]:
        if not self.lines:
            raise ValueError("an outbound order needs at least one line")
        if self.sales_rep_id is not None and self.sales_rep is not None:
            # `{id}` alone or the email object, not both (§4.10 create body, `sales_rep`).
            raise ValueError("send a sales rep by id or by email, not both")
        wire: dict[str, Any] = {
            "original_order_id": self.original_order_id,
            # The official client always sends it, with millisecond precision (§3.4).
            "order_timestamp": format_datetime(self.order_timestamp or dt.datetime.now(dt.UTC)),
            "destination": self.destination.to_wire(),
            "order_lines": [line.to_wire() for line in self.lines],
        }
        if self.sales_rep_id is not None:
            rep_id = str(self.sales_rep_id)
            # Rep ids are ints on the wire (§3.4, §4.8).
            wire["sales_rep"] = {"id": int(rep_id) if rep_id.isdigit() else rep_id}
        elif self.sales_rep is not None:
            wire["sales_rep"] = self.sales_rep.to_wire()
        if self.invoice_date is not None:
            wire["invoice_date"] = self.invoice_date.isoformat()
        if self.notes:
            wire["notes"] = list(self.notes)
        return wire
