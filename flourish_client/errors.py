"""Errors raised by the Flourish client, each saying whether a retry can help.

The classification happens where the error is raised (conventions §4), and only ``retryable``
should drive retries: timeouts, connection failures, 5xx and 429 are transient; 400, 401, 403,
404 and malformed answers are permanent (flourish-api.md §2.4, §3.5, §3.6).
"""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar


class FlourishError(Exception):
    """Base class. ``str(error)`` is a sentence an admin can act on."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after_seconds = retry_after_seconds

    def __str__(self) -> str:
        if self.status_code is None:
            return self.message
        return f"{self.message} (HTTP {self.status_code})"


class AuthError(FlourishError):
    """401/403: the API key (or username) is wrong, expired, or cannot see this facility."""


class NotFound(FlourishError):
    """404: the id does not exist in this Flourish company."""


class ValidationError(FlourishError):
    """400: Flourish refused the request; ``message`` is Flourish's own text (§3.5)."""


class ProtocolError(FlourishError):
    """A 200 that is not the JSON envelope, a redirect, or another answer we cannot use."""


class TransientError(FlourishError):
    """Timeout, connection failure, 5xx or 429: worth retrying later."""

    retryable: ClassVar[bool] = True


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3).

    Flourish documents no rate limit (§3.6); this is ready for one, and for proxies in front.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    return max(0.0, seconds)


def _flourish_message(body: Any) -> str | None:
    """The ``message`` of the documented error body ``{"message": ..., "status": ...}`` (§3.5)."""
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str) and message.strip():
            return message.strip()
    return None


def error_for_status(
    status_code: int,
    body: Any,
    *,
    method: str,
    path: str,
    retry_after: str | None = None,
) -> FlourishError:
    """Build the error for a non-200 answer. ``body`` is the decoded JSON, or text, or None."""
    detail = _flourish_message(body)
    where = f"{method} {path}"
    if status_code in (401, 403):
        return AuthError(
            f"Flourish refused the credentials for {where}: check the API key "
            f"(and username, for legacy keys) and that the key can see this facility"
            + (f". Flourish said: {detail}" if detail else ""),
            status_code,
        )
    if status_code == 404:
        return NotFound(
            f"Flourish has no such record for {where}" + (f": {detail}" if detail else ""),
            status_code,
        )
    if status_code == 429:
        return TransientError(
            f"Flourish is rate limiting {where}; try again later",
            status_code,
            retry_after_seconds=parse_retry_after(retry_after),
        )
    if status_code >= 500:
        return TransientError(
            f"Flourish had a server error on {where}" + (f": {detail}" if detail else ""),
            status_code,
            retry_after_seconds=parse_retry_after(retry_after),
        )
    if 400 <= status_code < 500:
        # Flourish answers validation failures with 400 and a readable message (§3.5).
        return ValidationError(detail or f"Flourish rejected {where}", status_code)
    return ProtocolError(
        f"Flourish answered {where} with unexpected HTTP {status_code}", status_code
    )
