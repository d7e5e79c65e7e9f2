"""Errors say whether a retry can help, and read well in the admin (conventions §4)."""

from __future__ import annotations

import datetime as dt

import pytest

from flourish_client import (
    AuthError,
    FlourishError,
    NotFound,
    ProtocolError,
    TransientError,
    ValidationError,
)
from flourish_client.errors import error_for_status, parse_retry_after


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (400, ValidationError, False),
        (401, AuthError, False),
        (403, AuthError, False),
        (404, NotFound, False),
        (409, ValidationError, False),
        (429, TransientError, True),
        (500, TransientError, True),
        (502, TransientError, True),
        (503, TransientError, True),
        (204, ProtocolError, False),
    ],
)
def test_it_classifies_a_status_code(
    status: int, kind: type[FlourishError], retryable: bool
) -> None:
    error = error_for_status(status, None, method="GET", path="/items")

    assert type(error) is kind
    assert error.retryable is retryable
    assert error.status_code == status


def test_it_carries_flourishs_validation_message() -> None:
    error = error_for_status(
        400,
        {"message": "Order has already been shipped", "status": 400},
        method="PUT",
        path="/outbound-orders/00000001",
    )

    assert error.message == "Order has already been shipped"
    assert str(error) == "Order has already been shipped (HTTP 400)"


def test_it_tells_the_admin_to_check_the_key_on_401() -> None:
    error = error_for_status(401, {"message": "Unauthorized"}, method="GET", path="/facilities")

    assert "API key" in str(error)
    assert "GET /facilities" in str(error)


def test_it_reads_retry_after_seconds_on_429() -> None:
    error = error_for_status(429, None, method="GET", path="/items", retry_after="7")

    assert error.retry_after_seconds == 7.0


def test_it_reads_retry_after_as_an_http_date() -> None:
    now = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=dt.UTC)

    assert parse_retry_after("Sat, 01 Mar 2025 12:00:30 GMT", now=now) == 30.0


@pytest.mark.parametrize("value", [None, "", "soon"])
def test_it_ignores_a_missing_or_unreadable_retry_after(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_it_never_returns_a_negative_retry_after() -> None:
    assert parse_retry_after("-5") == 0.0
