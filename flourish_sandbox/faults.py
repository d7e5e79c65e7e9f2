"""Fault injection for the sandbox API (the warehouse side never fails on its own).

A rule matches API calls by method and path prefix and fires for its next ``count`` matches.
Kinds:

- ``status``: answer with ``status`` (500 by default; 429 adds ``Retry-After: <retry_after>``);
- ``timeout``: sleep ``seconds`` and then close the connection without an answer;
- ``close``: close the connection at once without an answer.

With ``after_action`` the request is performed first (the order IS created), and only then the
fault is applied: ``status`` replaces the real answer, ``timeout`` sleeps ``seconds`` and then sends
the real answer (too late for a client with a shorter read timeout), ``close`` drops it. That
simulates the ambiguous "Flourish created the order but the client never heard back" case.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

API_PREFIX = "/external/api/v1"
FAULT_KINDS = ("status", "timeout", "close")


@dataclass
class FaultRule:
    kind: str = "status"
    status: int = 500
    count: int = 1
    method: str | None = None
    path_prefix: str | None = None
    retry_after: int | None = None
    seconds: float = 5.0
    after_action: bool = False
    id: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.count <= 0:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path_prefix or path.startswith(self.path_prefix)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def normalise_path_prefix(prefix: str | None) -> str | None:
    """Accept ``/outbound-orders`` as well as ``/external/api/v1/outbound-orders``."""
    if not prefix:
        return None
    if not prefix.startswith("/"):
        prefix = "/" + prefix
    if not prefix.startswith("/external/"):
        prefix = API_PREFIX + prefix
    return prefix


@dataclass
class FaultInjector:
    """Thread-safe list of fault rules plus a fixed latency for every API call."""

    latency_ms: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def add(
        self,
        *,
        kind: str = "status",
        status: int = 500,
        count: int = 1,
        method: str | None = None,
        path_prefix: str | None = None,
        retry_after: int | None = None,
        seconds: float = 5.0,
        after_action: bool = False,
    ) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}")
        if kind == "status" and not 400 <= int(status) <= 599:
            raise ValueError("fault status must be a 4xx or 5xx code")
        if int(count) < 1:
            raise ValueError("fault count must be at least 1")
        if int(status) == 429 and retry_after is None:
            retry_after = 1
        rule = FaultRule(
            kind=kind,
            status=int(status),
            count=int(count),
            method=method.upper() if method else None,
            path_prefix=normalise_path_prefix(path_prefix),
            retry_after=None if retry_after is None else int(retry_after),
            seconds=float(seconds),
            after_action=bool(after_action),
        )
        with self._lock:
            rule.id = next(self._ids)
            self.rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> FaultRule | None:
        """Consume one firing of the first rule matching this call, if any."""
        if not self.rules:  # cheap path: no lock when nothing is configured
            return None
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.count -= 1
                    rule.fired += 1
                    return rule
            self.rules = [r for r in self.rules if r.count > 0]
        return None

    def clear(self) -> None:
        with self._lock:
            self.rules = []
            self.latency_ms = 0

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "rules": [r.to_json() for r in self.rules if r.count > 0],
            }
