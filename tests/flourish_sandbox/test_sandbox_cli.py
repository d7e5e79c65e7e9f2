"""The command line and large generated catalogues."""

from __future__ import annotations

import subprocess
import sys

from conftest import FACILITY_A, Api

from flourish_sandbox.testing import running_sandbox


def test_it_documents_every_flag_in_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flourish_sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    for flag in (
        "--host", "--port", "--api-key", "--username", "--items", "--seed", "--state-file",
        "--webhook-url", "--webhook-key", "--webhook-header", "--fail-next", "--fail-status",
        "--latency-ms", "--log-level",
    ):  # fmt: skip
        assert flag in result.stdout, flag


def test_it_serves_a_large_generated_catalogue() -> None:
    with running_sandbox(items=20000) as sandbox:
        api = Api(sandbox)
        items = api.get("/items", params={"offset": 19990}).json()
        brand = api.get("/items", params={"brand_name": "Blue Harbor", "limit": 5}).json()
        summary = api.get("/inventory/summary", facility=FACILITY_A, params={"limit": 1}).json()

    assert items["meta"]["total"] == 20050
    assert (
        items["meta"]["count"] == 50
        and items["meta"]["next"] == sandbox.api_url + "/items?offset=20040&limit=50"
    )
    assert brand["meta"]["count"] == 5 and all(i["brand"] == "Blue Harbor" for i in brand["data"])
    assert summary["meta"]["total"] == 20050
    skus = [i["sku"] for i in items["data"]]
    assert len(set(skus)) == len(skus)
