"""Webhook events as Flourish sends them: ``{"action", "resource_type", "data"}`` (§5.2).

``data`` is the full current state of the resource, shaped like the API record, so it parses
with the same ``from_wire`` as the API. Verify the signature (webhooks.verify) before parsing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from flourish_client.records import (
    InventorySummaryRow,
    Item,
    OutboundOrder,
    parse_datetime,
    to_str_id,
)


class MalformedEvent(ValueError):
    """The body is not a Flourish webhook envelope; the message says why, briefly."""


@dataclass(frozen=True, slots=True)
class UnsupportedData:
    """``data`` of a resource type the portal does not handle (e.g. ``retail_order``)."""

    id: str | None
    last_updated_timestamp: dt.datetime | None


# `order` is what Flourish's own receiver handles; `outbound_order` is accepted to be safe
# (§5.2, §8.2).
_ALIASES = {"outbound_order": "order"}

ORDER = "order"
ITEM = "item"
INVENTORY_SUMMARY = "inventory_summary"

EventData = OutboundOrder | Item | InventorySummaryRow | UnsupportedData


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    action: str
    resource_type: str
    data: EventData

    @property
    def supported(self) -> bool:
        return not isinstance(self.data, UnsupportedData)

    @property
    def resource_id(self) -> str | None:
        """The Flourish id of the resource (``item_id`` for an inventory summary row)."""
        if isinstance(self.data, InventorySummaryRow):
            return self.data.item_id or None
        return self.data.id or None

    @property
    def last_updated_timestamp(self) -> dt.datetime | None:
        """No event id or sequence exists; this is the only way to drop stale events (§5.2)."""
        return self.data.last_updated_timestamp


def parse_event(body: bytes) -> WebhookEvent:
    """Parse a raw webhook body. Raises ``MalformedEvent``; unknown types are unsupported."""
    try:
        envelope: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedEvent("body is not JSON") from None
    if not isinstance(envelope, dict):
        raise MalformedEvent("body is not a JSON object")
    resource_type = envelope.get("resource_type")
    if not isinstance(resource_type, str) or not resource_type.strip():
        raise MalformedEvent("resource_type is missing")
    if "data" not in envelope:
        raise MalformedEvent("data is missing")
    data = envelope["data"]
    if not isinstance(data, dict):
        raise MalformedEvent("data is not an object")
    # Only "create" is documented and Flourish's receiver ignores it (§5.2, §8.3).
    action = envelope.get("action")
    normalised = resource_type.strip().lower()
    normalised = _ALIASES.get(normalised, normalised)
    try:
        return WebhookEvent(
            action=str(action) if action is not None else "",
            resource_type=normalised,
            data=_parse_data(normalised, data),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedEvent(f"{normalised} data is invalid: {exc}") from None


def _parse_data(resource_type: str, data: dict[str, Any]) -> EventData:
    if resource_type == ORDER:
        return OutboundOrder.from_wire(data)
    if resource_type == ITEM:
        return Item.from_wire(data)
    if resource_type == INVENTORY_SUMMARY:
        return InventorySummaryRow.from_wire(data)
    raw_id = data.get("id", data.get("order_id"))

    try:
        updated = parse_datetime(data.get("last_updated_timestamp"))
    except ValueError:
        updated = None
    return UnsupportedData(id=to_str_id(raw_id), last_updated_timestamp=updated)
