"""JSON control API under ``/sandbox/`` (no API key: it stands for the warehouse's own screen).

Every answer uses the Flourish envelope (``{"message": "Success", "status": 200, "data": ...}``),
errors are ``{"message", "status"}``.

=======  ====================================  ===========================================
Method   Path                                  Body / query
=======  ====================================  ===========================================
GET      /sandbox/state                        counts, facilities with license numbers
GET      /sandbox/orders[?status=]             GET-shaped outbound orders
GET      /sandbox/orders/{id}
POST     /sandbox/orders/{id}/allocate         ``{}`` (fully) or ``{"lines": {sku|item_id: qty}}``
POST     /sandbox/orders/{id}/ship             (allocates fully first if nothing is allocated)
POST     /sandbox/orders/{id}/complete         Shipped -> Completed
POST     /sandbox/orders/{id}/mark-paid        ``{}`` or ``{"amount": 10}``
POST     /sandbox/orders/{id}/cancel           UI cancel, allowed while allocated
GET      /sandbox/items[?search=&offset=&limit=]
POST     /sandbox/items                        item fields (``sku``, ``item_name`` required)
PATCH    /sandbox/items/{id}                   fields to change (PUT works too)
DELETE   /sandbox/items/{id}
GET      /sandbox/inventory?item_id=&facility_id=
POST     /sandbox/inventory                    ``{"item_id", "facility_id", "qty",
                                               "non_available_qty"?}``
GET      /sandbox/webhooks
POST     /sandbox/webhooks                     ``{"url", "signing_key"?, "headers"?: {},
                                               "events"?: []}``
DELETE   /sandbox/webhooks/{id}
GET      /sandbox/deliveries                   delivery log
DELETE   /sandbox/deliveries                   clear the log
POST     /sandbox/deliveries/wait              ``{"timeout": 5}`` -> ``{"drained": bool}``
POST     /sandbox/deliveries/release-held      send a message held back by ``reorder``
GET      /sandbox/faults
POST     /sandbox/faults                       see below
DELETE   /sandbox/faults                       clear API rules, latency and webhook faults
POST     /sandbox/reset                        ``{"seed"?, "items"?}``
POST     /sandbox/save                         ``{"path"?}``
=======  ====================================  ===========================================

``POST /sandbox/faults`` takes any of:

- an API rule: ``{"kind": "status"|"timeout"|"close", "status": 500, "count": 1,
  "method": "POST", "path_prefix": "/outbound-orders", "retry_after": 2, "seconds": 5,
  "after_action": false}`` (see ``flourish_sandbox.faults``);
- ``{"latency_ms": 200}``;
- ``{"webhook": {"mode": "duplicate"|"drop"|"reorder"|null, "count": 1}}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flourish_sandbox.server import success
from flourish_sandbox.state import SandboxError

if TYPE_CHECKING:
    from flourish_sandbox.server import Query, SandboxServer

FAULT_RULE_KEYS = (
    "kind",
    "status",
    "count",
    "method",
    "path_prefix",
    "retry_after",
    "seconds",
    "after_action",
)


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise SandboxError(400, "request body must be a JSON object")
    return body


def control_api(server: SandboxServer, method: str, path: str, query: Query, body: Any) -> bytes:
    state = server.state
    parts = [p for p in path.split("/") if p][1:]
    data = _object(body)
    route = (method, *parts[:1])
    if route == ("GET", "state") and len(parts) == 1:
        return success({**state.summary(), "url": server.url, "api_key_required": True})

    if parts[:1] == ["orders"]:
        if method == "GET" and len(parts) == 1:
            with state.lock:
                ids = sorted(state.orders)
                if "status" in query:
                    wanted = set(query["status"])
                    ids = [i for i in ids if state.orders[i]["order_status"] in wanted]
                return success([state.order_record(i) for i in ids])
        if method == "GET" and len(parts) == 2:
            return success(state.order_record(parts[1]))
        if method == "POST" and len(parts) == 3:
            order_id, action = parts[1], parts[2]
            if action == "allocate":
                return success(state.allocate_order(order_id, data.get("lines")))
            if action == "ship":
                return success(state.ship_order(order_id))
            if action == "complete":
                return success(state.complete_order(order_id))
            if action == "mark-paid":
                return success(state.mark_paid(order_id, data.get("amount")))
            if action == "cancel":
                return success(state.cancel_order(order_id))

    if parts[:1] == ["items"]:
        if method == "GET" and len(parts) == 1:
            return success(_items_page(server, query))
        if method == "POST" and len(parts) == 1:
            return success(state.create_item(**data))
        if method in ("PATCH", "PUT") and len(parts) == 2:
            return success(state.update_item(parts[1], **data))
        if method == "DELETE" and len(parts) == 2:
            return success(state.delete_item(parts[1]))

    if parts[:1] == ["inventory"] and len(parts) == 1:
        if method == "GET":
            with state.lock:
                facility_ids = query.get("facility_id") or list(state.facilities)
                item_ids = query.get("item_id") or []
                rows = []
                for facility_id in facility_ids:
                    for item_id in item_ids:
                        if item_id in state.stock.get(facility_id, {}):
                            row = state.inventory_row(item_id, facility_id)
                            rows.append({"facility_id": facility_id, **row})
            return success(rows)
        if method == "POST":
            if "item_id" not in data or "facility_id" not in data or "qty" not in data:
                raise SandboxError(400, "item_id, facility_id and qty are required")
            return success(
                state.set_inventory(
                    str(data["item_id"]),
                    str(data["facility_id"]),
                    data["qty"],
                    data.get("non_available_qty"),
                )
            )

    if parts[:1] == ["webhooks"]:
        if method == "GET" and len(parts) == 1:
            return success(state.webhook_endpoints())
        if method == "POST" and len(parts) == 1:
            headers = data.get("headers") or {}
            if not isinstance(headers, dict):
                raise SandboxError(400, "headers must be an object")
            return success(
                state.add_webhook_endpoint(
                    str(data.get("url") or ""),
                    signing_key=data.get("signing_key"),
                    headers=headers,
                    events=data.get("events"),
                )
            )
        if method == "DELETE" and len(parts) == 2:
            try:
                endpoint_id = int(parts[1])
            except ValueError:
                raise SandboxError(404, "webhook endpoint not found") from None
            state.remove_webhook_endpoint(endpoint_id)
            return success({"deleted": endpoint_id})

    if parts[:1] == ["deliveries"]:
        if method == "GET" and len(parts) == 1:
            return success(state.deliveries())
        if method == "DELETE" and len(parts) == 1:
            state.dispatcher.clear_log()
            return success([])
        if method == "POST" and parts[1:] == ["wait"]:
            timeout = float(data.get("timeout", 5))
            return success({"drained": state.wait_for_deliveries(timeout)})
        if method == "POST" and parts[1:] == ["release-held"]:
            state.dispatcher.release_held()
            return success({"released": True})

    if parts[:1] == ["faults"] and len(parts) == 1:
        if method == "GET":
            return success(state.faults_json())
        if method == "DELETE":
            state.clear_faults()
            return success(state.faults_json())
        if method == "POST":
            created = None
            if "latency_ms" in data:
                state.set_latency(int(data["latency_ms"]))
            if "webhook" in data:
                webhook = _object(data["webhook"])
                state.set_webhook_fault(webhook.get("mode"), int(webhook.get("count", 1)))
            rule = {k: data[k] for k in FAULT_RULE_KEYS if k in data}
            if rule:
                created = state.add_fault(**rule)
            return success({**state.faults_json(), "created": created})

    if route == ("POST", "reset") and len(parts) == 1:
        items = data.get("items")
        state.reset(data.get("seed"), None if items is None else int(items))
        return success(state.summary())
    if route == ("POST", "save") and len(parts) == 1:
        return success({"path": state.save(data.get("path"))})
    raise SandboxError(404, "Not Found")


def _items_page(server: SandboxServer, query: Query) -> dict[str, Any]:
    state = server.state
    search = (query.get("search") or [""])[-1].lower()
    offset = int((query.get("offset") or ["0"])[-1])
    limit = min(int((query.get("limit") or ["50"])[-1]), 500)
    with state.lock:
        ids = [str(i) for i in state._item_ids]
        if search:
            ids = [
                i
                for i in ids
                if search in state.items[i]["sku"].lower()
                or search in state.items[i]["item_name"].lower()
            ]
        page = []
        for item_id in ids[offset : offset + limit]:
            record = dict(state.items[item_id])
            record["stock"] = {
                facility_id: state._summary_row(per[item_id])
                for facility_id, per in state.stock.items()
                if item_id in per
            }
            page.append(record)
    return {"total": len(ids), "offset": offset, "limit": limit, "items": page}
