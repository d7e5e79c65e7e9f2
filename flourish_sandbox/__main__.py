"""``python -m flourish_sandbox``: run the fake Flourish until Ctrl-C (state saved on exit)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from flourish_sandbox.faults import API_PREFIX
from flourish_sandbox.scenarios import SCENARIOS
from flourish_sandbox.server import start_server, stop_server
from flourish_sandbox.state import SandboxState
from flourish_sandbox.testing import configure


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flourish_sandbox",
        description="A local fake of the Flourish External API and webhooks "
        "(API under /external/api/v1, control API under /sandbox/, control page at /).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8100, help="port to bind (default 8100; 0 = any)"
    )
    parser.add_argument(
        "--api-key",
        default="sandbox-key",
        help="the key accepted in x-api-key (default sandbox-key)",
    )
    parser.add_argument(
        "--username",
        default=None,
        help="username required for legacy Basic auth (default: any username with the right key)",
    )
    parser.add_argument(
        "--seed",
        default="demo",
        choices=SCENARIOS,
        help="scenario to start from (default demo; 'bare' has no items)",
    )
    parser.add_argument(
        "--items", type=int, default=0, metavar="N", help="add N generated catalogue items"
    )
    parser.add_argument(
        "--state-file",
        default=None,
        metavar="PATH",
        help="load state from PATH if it exists; save to it on shutdown and POST /sandbox/save",
    )
    parser.add_argument("--webhook-url", default=None, help="preconfigure one webhook endpoint")
    parser.add_argument("--webhook-key", default=None, help="signing key of that endpoint")
    parser.add_argument(
        "--webhook-header",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="custom header sent with every webhook (repeatable)",
    )
    parser.add_argument(
        "--webhook-event",
        action="append",
        default=None,
        metavar="EVENT",
        help="event to subscribe: 'Outbound Order', 'Inventory', 'Item' (repeatable; default all)",
    )
    parser.add_argument(
        "--webhook-attempts", type=int, default=3, help="delivery attempts per message (default 3)"
    )
    parser.add_argument(
        "--fail-next", type=int, default=0, metavar="N", help="fail the next N API calls"
    )
    parser.add_argument(
        "--fail-status", type=int, default=500, help="status for --fail-next (default 500)"
    )
    parser.add_argument(
        "--retry-after", type=int, default=None, help="Retry-After seconds for a 429 --fail-status"
    )
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="add this latency to every API call"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging level (DEBUG logs every request; default INFO)",
    )
    return parser


def _headers(values: Sequence[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise SystemExit(f"--webhook-header needs KEY=VALUE, got {value!r}")
        headers[key.strip()] = val
    return headers


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    state = SandboxState(
        seed=args.seed,
        items=args.items,
        state_file=args.state_file,
        webhook_attempts=args.webhook_attempts,
    )
    configure(
        state,
        {
            "latency_ms": args.latency_ms,
            "fail_next": args.fail_next,
            "fail_status": args.fail_status,
            "retry_after": args.retry_after,
            "webhook_url": args.webhook_url,
            "webhook_key": args.webhook_key,
            "webhook_headers": _headers(args.webhook_header),
            "webhook_events": args.webhook_event,
        },
    )
    server, thread = start_server(
        state, host=args.host, port=args.port, api_key=args.api_key, username=args.username
    )
    print(f"Flourish sandbox listening on {server.url}", flush=True)
    print(f"  API:     {server.url}{API_PREFIX}  (x-api-key: {args.api_key})")
    print(f"  Control: {server.url}/  and  {server.url}/sandbox/state")
    print("  Facilities:")
    for facility in state.facilities.values():
        required = "sales rep required" if facility["sales_rep_required_for_outbound"] else ""
        print(
            f"    {facility['id']}  {facility['license_number']}  "
            f"{facility['facility_name']}  {required}".rstrip()
        )
    print(f"  Items: {len(state.items)}  Orders: {len(state.orders)}", flush=True)

    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    done.wait()
    stop_server(server, thread)
    state.close()
    if args.state_file:
        print(f"State saved to {args.state_file}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
