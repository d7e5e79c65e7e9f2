"""Fault injection: 500s, 429 with Retry-After, timeouts, latency, create-then-time-out."""

from __future__ import annotations

import pytest
import requests
from conftest import FACILITY_A, Api, order_body

from flourish_sandbox.testing import RunningSandbox, running_sandbox


def _add_fault(sandbox: RunningSandbox, **body: object) -> requests.Response:
    return requests.post(sandbox.url + "/sandbox/faults", json=body, timeout=5)


def test_it_fails_the_next_calls_with_500(sandbox: RunningSandbox, api: Api) -> None:
    _add_fault(sandbox, kind="status", status=500, count=2)

    statuses = [api.get("/items").status_code for _ in range(3)]

    assert statuses == [500, 500, 200]


def test_it_answers_429_with_retry_after(sandbox: RunningSandbox, api: Api) -> None:
    _add_fault(sandbox, status=429, retry_after=7)

    response = api.get("/items")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["status"] == 429


def test_it_limits_faults_to_a_method_and_path(sandbox: RunningSandbox, api: Api) -> None:
    _add_fault(sandbox, status=503, method="POST", path_prefix="/outbound-orders")

    assert api.get("/outbound-orders").status_code == 200
    assert api.post("/outbound-orders", {}, facility=FACILITY_A).status_code == 503


def test_it_hangs_up_after_a_timeout_before_acting(sandbox: RunningSandbox, api: Api) -> None:
    sandbox.state.add_fault(kind="timeout", seconds=0.3)

    with pytest.raises(requests.ConnectionError):
        api.get("/items")
    assert api.get("/items").status_code == 200


def test_it_creates_the_order_then_times_out(
    sandbox: RunningSandbox, api: Api, destination_id: str
) -> None:
    before = len(sandbox.state.orders)
    _add_fault(
        sandbox,
        kind="timeout",
        seconds=2,
        method="POST",
        path_prefix="/outbound-orders",
        after_action=True,
    )

    with pytest.raises(requests.ReadTimeout):
        api.session.post(
            api.base + "/outbound-orders",
            json=order_body(destination={"id": destination_id}, original_order_id="CRM-AMBIGUOUS"),
            headers={"FacilityID": FACILITY_A},
            timeout=0.5,
        )

    assert len(sandbox.state.orders) == before + 1
    found = api.get("/outbound-orders", params={"order_status": "Created"}).json()["data"]
    assert "CRM-AMBIGUOUS" in [o["original_order_id"] for o in found]


def test_it_creates_the_order_then_answers_500(
    sandbox: RunningSandbox, api: Api, destination_id: str
) -> None:
    sandbox.state.add_fault(
        status=500, method="POST", path_prefix="/outbound-orders", after_action=True
    )

    response = api.post(
        "/outbound-orders", order_body(destination={"id": destination_id}), facility=FACILITY_A
    )

    assert response.status_code == 500
    assert len(sandbox.state.orders) == 2


def test_it_lists_and_clears_faults(sandbox: RunningSandbox, api: Api) -> None:
    _add_fault(sandbox, status=500, count=5)
    _add_fault(sandbox, latency_ms=10, webhook={"mode": "drop", "count": 1})

    listed = requests.get(sandbox.url + "/sandbox/faults", timeout=5).json()["data"]
    assert listed["latency_ms"] == 10 and listed["rules"][0]["count"] == 5
    assert listed["webhook"] == {"mode": "drop", "count": 1}

    requests.delete(sandbox.url + "/sandbox/faults", timeout=5)
    assert api.get("/items").status_code == 200
    assert requests.get(sandbox.url + "/sandbox/faults", timeout=5).json()["data"]["rules"] == []


def test_it_refuses_a_bad_fault(sandbox: RunningSandbox) -> None:
    assert _add_fault(sandbox, kind="explode").status_code == 400


def test_it_takes_fail_next_as_a_start_option() -> None:
    with running_sandbox(fail_next=1, fail_status=502) as sandbox:
        api = Api(sandbox)
        assert [api.get("/items").status_code for _ in range(2)] == [502, 200]
