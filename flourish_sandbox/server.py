"""HTTP front of the sandbox: the Flourish External API, the control API and the control page.

- ``/external/api/v1/...``: the API as flourish-api.md §3-§4 describes it (``x-api-key`` or legacy
  Basic auth, envelope, paging, ``FacilityID``).
- ``/sandbox/...``: JSON control API, no key (the warehouse's own screen); see ``control_api``.
- ``/``: a small HTML page driving the control API.

Standard library only: ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive. Responses are
written in one ``write`` with ``Content-Length`` and Nagle disabled, so keep-alive clients are fast.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import http
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flourish_sandbox.faults import API_PREFIX, FaultRule
from flourish_sandbox.page import CONTROL_PAGE
from flourish_sandbox.state import (
    FACILITY_TYPES,
    JSON,
    SandboxError,
    SandboxState,
    parse_bool,
    public,
    time_range,
)

logger = logging.getLogger(__name__)

# §3.2: "The maximum allowable limit is set to 50". Whether Flourish clamps or rejects a larger
# limit is unknown (§8.9): the sandbox clamps, and uses 50 when limit is omitted.
MAX_LIMIT = 50
DEFAULT_LIMIT = 50
API_USER = "api@sandbox.example"
Query = dict[str, list[str]]


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def success(data: Any) -> bytes:
    return b'{"message":"Success","status":200,"data":' + dumps(data) + b"}"


def error_body(status: int, message: str) -> bytes:
    return dumps({"message": message, "status": status})


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        state: SandboxState,
        *,
        api_key: str,
        username: str | None = None,
    ) -> None:
        super().__init__(address, SandboxHandler)
        self.state = state
        self.api_key = api_key
        self.username = username
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: SandboxServer
    server_version = "FlourishSandbox/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- plumbing -----------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Status"
        lines = [
            f"HTTP/1.1 {status} {phrase}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        lines.extend(f"{name}: {value}" for name, value in headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head + body)
        except OSError:  # the client gave up (e.g. after an injected timeout)
            self.close_connection = True
        logger.debug("%s %s -> %s", self.command, self.path, status)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self, method: str) -> None:
        path, _, query_string = self.path.partition("?")
        try:
            raw = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(400, error_body(400, "invalid Content-Length"))
            return
        query: Query = {}
        for key, value in urllib.parse.parse_qsl(query_string):
            query.setdefault(key, []).append(value)
        try:
            if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
                self._api(method, path, query, raw)
            elif path == "/sandbox" or path.startswith("/sandbox/"):
                status, body = self._run(lambda: self._control(method, path, query, raw))
                self._send(status, body)
            elif path in ("/", "/index.html") and method == "GET":
                self._send(200, CONTROL_PAGE, "text/html; charset=utf-8")
            else:
                self._send(404, error_body(404, "Not Found"))
        except Exception:
            logger.exception("sandbox crashed on %s %s", method, self.path)
            self._send(500, error_body(500, "Internal Server Error"))

    @staticmethod
    def _run(action: Callable[[], bytes]) -> tuple[int, bytes]:
        try:
            return 200, action()
        except SandboxError as exc:
            return exc.status, error_body(exc.status, exc.message)

    @staticmethod
    def _json(raw: bytes) -> Any:
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise SandboxError(400, "request body is not valid JSON") from None

    # -- API ----------------------------------------------------------------------------------
    def _authorised(self) -> str | None:
        """The acting user when the key is right (x-api-key, or legacy Basic username:key)."""
        key = self.headers.get("x-api-key")
        if key is not None:
            return API_USER if hmac.compare_digest(key, self.server.api_key) else None
        auth = self.headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            username, _, secret = decoded.partition(":")
            if not hmac.compare_digest(secret, self.server.api_key):
                return None
            if self.server.username is not None and username != self.server.username:
                return None
            return username or API_USER
        return None

    def _api(self, method: str, path: str, query: Query, raw: bytes) -> None:
        state = self.server.state
        faults = state.faults
        if faults.latency_ms:
            self.server.stopping.wait(faults.latency_ms / 1000)
        rule = faults.take(method, path)
        if rule is not None and not rule.after_action:
            self._fault(rule, None)
            return
        user = self._authorised()
        if user is None:
            response = (401, error_body(401, "Unauthorized"))
        else:
            response = self._run(lambda: self._route(method, path, query, raw, user))
        if rule is not None:
            self._fault(rule, response)
            return
        self._send(*response)

    def _fault(self, rule: FaultRule, response: tuple[int, bytes] | None) -> None:
        if rule.kind == "status":
            headers = []
            if rule.retry_after is not None:
                headers.append(("Retry-After", str(rule.retry_after)))
            try:
                phrase = http.HTTPStatus(rule.status).phrase
            except ValueError:
                phrase = "Error"
            self._send(rule.status, error_body(rule.status, phrase), headers=headers)
            return
        if rule.kind == "timeout":
            self.server.stopping.wait(rule.seconds)
            if response is not None:
                self._send(*response)
                return
        # "close", or a timeout before the action: hang up without an answer.
        self.close_connection = True

    def _route(self, method: str, path: str, query: Query, raw: bytes, user: str) -> bytes:
        state = self.server.state
        parts = [p for p in path[len(API_PREFIX) :].split("/") if p]
        if not parts:
            raise SandboxError(404, "Not Found")
        resource, rest = parts[0], parts[1:]
        facility_id = self.headers.get("FacilityID")
        key = (method, resource, len(rest))
        if key == ("GET", "facilities", 0):
            return self._list_facilities(path, query)
        if key == ("GET", "facilities", 1):
            return success(state.facility(rest[0]))
        if key == ("GET", "brands", 0):
            return self._list_brands(path, query)
        if key == ("GET", "items", 0):
            ids = state.query_item_ids(query)
            with state.lock:
                return self._page(path, query, ids, lambda page: [state.item_json(i) for i in page])
        if key == ("GET", "items", 1):
            return success(state.item(rest[0]))
        if (method, resource, rest) == ("GET", "inventory", ["summary"]):
            facility = state.require_facility(facility_id)
            rows = state.query_inventory(facility["id"], query)
            return self._page(
                path, query, rows, lambda page: [dumps(r) for r in state.summary_rows(page)]
            )
        if key == ("GET", "destinations", 0):
            return self._list_destinations(path, query)
        if key == ("GET", "destinations", 1):
            return success(state.destination(rest[0]))
        if key == ("POST", "destinations", 0):
            return success(state.create_destination(self._json(raw)))
        if key == ("GET", "sales-reps", 0):
            facility = state.require_facility(facility_id)
            with state.lock:
                reps = [
                    dict(r)
                    for r in state.sales_reps.values()
                    if r["facility_id"] in (None, facility["id"])
                ]
            return self._page(path, query, reps, lambda page: [dumps(r) for r in page])
        if key == ("GET", "outbound-orders", 0):
            ids = state.query_order_ids(facility_id, query)
            return self._page(
                path, query, ids, lambda page: [dumps(state.order_record(i)) for i in page]
            )
        if key == ("POST", "outbound-orders", 0):
            return success(state.create_order(facility_id, self._json(raw), created_by=user))
        if key == ("GET", "outbound-orders", 1):
            record = state.order_record(rest[0])
            if facility_id and record["origin_facility"]["id"] != facility_id:
                raise SandboxError(404, f"outbound order with ID {rest[0]} does not exist")
            return success(record)
        if key == ("PUT", "outbound-orders", 1):
            return success(
                state.update_order(rest[0], facility_id, self._json(raw), updated_by=user)
            )
        if (
            resource
            in {
                "facilities",
                "brands",
                "items",
                "inventory",
                "destinations",
                "sales-reps",
                "outbound-orders",
            }
            and len(rest) <= 1
        ):
            raise SandboxError(405, f"method {method} is not allowed here")
        raise SandboxError(404, "Not Found")

    def _page(
        self,
        path: str,
        query: Query,
        rows: Sequence[Any],
        render: Callable[[Sequence[Any]], list[bytes]],
    ) -> bytes:
        limit, offset = paging(query)
        page = rows[offset : offset + limit]
        total = len(rows)
        next_url = ""
        if offset + len(page) < total:
            pairs = [
                (k, v)
                for k, values in query.items()
                if k not in ("limit", "offset")
                for v in values
            ]
            pairs += [("offset", str(offset + limit)), ("limit", str(limit))]
            host = self.headers.get("Host") or self.server.url.split("//", 1)[1]
            next_url = f"http://{host}{path.rstrip('/')}?{urllib.parse.urlencode(pairs)}"
        meta = {
            "total": total,
            "offset": offset,
            "limit": limit,
            "count": len(page),
            "next": next_url,
        }
        return (
            b'{"message":"Success","status":200,"meta":'
            + dumps(meta)
            + b',"data":['
            + b",".join(render(page))
            + b"]}"
        )

    def _list_facilities(self, path: str, query: Query) -> bytes:
        state = self.server.state
        with state.lock:
            rows = list(state.facilities.values())
        if "active" in query:
            flag = parse_bool(query["active"][-1], "active")
            rows = [r for r in rows if r["active"] is flag]
        if "facility_type" in query:
            types = set(query["facility_type"])
            unknown = types - set(FACILITY_TYPES)
            if unknown:
                raise SandboxError(400, f"facility_type must be one of {', '.join(FACILITY_TYPES)}")
            rows = [r for r in rows if r["facility_type"] in types]
        return self._page(path, query, rows, lambda page: [dumps(r) for r in page])

    def _list_brands(self, path: str, query: Query) -> bytes:
        state = self.server.state
        with state.lock:
            rows = sorted(state.brands.values(), key=lambda b: b["brand_id"])
        # §4.2: only active brands unless active=false is passed.
        flag = parse_bool(query["active"][-1], "active") if "active" in query else True
        rows = [r for r in rows if bool(r["active"]) is flag]
        if "brand_name" in query:
            names = set(query["brand_name"])
            rows = [r for r in rows if r["brand_name"] in names]
        if "brand_id" in query:
            ids = set(query["brand_id"])
            rows = [r for r in rows if str(r["brand_id"]) in ids]
        return self._page(path, query, rows, lambda page: [dumps(r) for r in page])

    def _list_destinations(self, path: str, query: Query) -> bytes:
        state = self.server.state
        with state.lock:
            rows = list(state.destinations.values())
        for param, field in (
            ("license_number", "license_number"),
            ("facility_name", "name"),
            ("alias", "alias"),
            ("destination_type", "type"),
        ):
            if param in query:
                values = set(query[param])
                rows = [r for r in rows if r[field] in values]
        if "search" in query:
            needle = query["search"][-1].lower()
            rows = [
                r
                for r in rows
                if any(needle in (r[f] or "").lower() for f in ("name", "alias", "license_number"))
            ]
        start, end = time_range(query, "last_updated_timestamp")
        if start is not None:
            rows = [r for r in rows if r["_updated_us"] >= start]
        if end is not None:
            rows = [r for r in rows if r["_updated_us"] <= end]
        return self._page(path, query, rows, lambda page: [dumps(public(r)) for r in page])

    # -- control API ----------------------------------------------------------------------------
    def _control(self, method: str, path: str, query: Query, raw: bytes) -> bytes:
        from flourish_sandbox.control import control_api

        return control_api(self.server, method, path, query, self._json(raw))


def paging(query: Query) -> tuple[int, int]:
    try:
        limit = int(query["limit"][-1]) if "limit" in query else DEFAULT_LIMIT
        offset = int(query["offset"][-1]) if "offset" in query else 0
    except ValueError:
        raise SandboxError(400, "limit and offset must be integers") from None
    if limit < 1:
        raise SandboxError(400, "limit must be at least 1")
    if offset < 0:
        raise SandboxError(400, "offset must not be negative")
    return min(limit, MAX_LIMIT), offset


def start_server(
    state: SandboxState,
    *,
    host: str = "127.0.0.1",
    port: int = 8100,
    api_key: str = "sandbox-key",
    username: str | None = None,
) -> tuple[SandboxServer, threading.Thread]:
    """Bind and serve on a daemon thread; stop with ``stop_server``."""
    server = SandboxServer((host, port), state, api_key=api_key, username=username)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.name = f"flourish-sandbox-{server.server_address[1]}"
    thread.start()
    return server, thread


def stop_server(server: SandboxServer, thread: threading.Thread | None = None) -> None:
    server.stopping.set()  # wakes handlers sleeping for latency/timeout faults
    server.shutdown()
    server.server_close()
    if thread is not None:
        thread.join(timeout=5)


__all__ = ["JSON", "SandboxHandler", "SandboxServer", "paging", "start_server", "stop_server"]
