"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server.

A screenshot of the page is saved under test-results/<test>/ when a test fails.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
RESULTS_DIR = Path(settings.BASE_DIR) / "test-results"
# Without the background-networking flags Chromium keeps dialling out, and this machine's closed
# network refuses it many times a second.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


# Module scope: Playwright's event loop (and the ORM switch below) must not outlive the browser
# tests, or every later test would run with Django's async safety turned off.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("Chromium is not installed at /usr/bin/chromium (make browser)")
        pytest.skip("Chromium is not installed at /usr/bin/chromium (make browser)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a
    # thread with a running loop unless told the test knows what it does.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def results_folder(request: pytest.FixtureRequest) -> Path:
    return RESULTS_DIR / re.sub(r"[^\w.-]+", "_", request.node.nodeid)


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        folder = results_folder(request)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "failure.png"), full_page=True)
    context.close()


@pytest.fixture
def step(
    page: Any, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """``step("what the user just did")`` screenshots the page; the screenshots are kept under
    test-results/<test>/ (numbered, in order) only when the test fails."""
    shots = tmp_path_factory.mktemp("steps")
    taken: list[Path] = []

    def take(label: str) -> None:
        name = re.sub(r"[^\w.-]+", "-", label)
        path = shots / f"{len(taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)

    yield take
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        folder = results_folder(request)
        folder.mkdir(parents=True, exist_ok=True)
        for path in taken:
            shutil.copy(path, folder / path.name)


def log_in(page: Any, live_server: Any, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def reload_until(page: Any, ready: Any, timeout_seconds: float = 30, what: str = "") -> None:
    """Reload ``page`` until ``ready()`` is true, as a user waiting for the worker would.

    The portal has no live updates: what a Celery worker or a webhook changed shows on the next
    load. Fails the test after ``timeout_seconds``."""
    deadline = time.monotonic() + timeout_seconds
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_seconds}s waiting for {what or ready}")
        page.wait_for_timeout(300)
        page.reload()


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """A Flourish sandbox on a free port with the demo scenario (flourish_sandbox/scenarios.py)."""
    from flourish_sandbox.testing import running_sandbox

    with running_sandbox(api_key="test-key", seed="demo") as sb:
        yield sb
