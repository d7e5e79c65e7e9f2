"""Retake the README screenshots by walking through the demo, as the README tells a newcomer to.

Run against a fresh demo (``make run`` in a fresh clone, ports 8000 and 8100), from this repo::

    .venv/bin/python docs/screenshots/take.py [--portal http://127.0.0.1:8000] \
        [--sandbox http://127.0.0.1:8100] [--out docs/screenshots]

It drives Debian's /usr/bin/chromium (headless, 1280x800) through: Check connection and the Setup
page (demo-admin), Sync inventory, an order created and confirmed by demo-agent, allocated and
shipped on the sandbox control page, the order page once Paid, and the webhook event log.
It changes the demo's data (one sync, one order), like a person following the README would.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import ViewportSize, sync_playwright

CHROMIUM = "/usr/bin/chromium"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
WAIT_SECONDS = 60


def reload_until(page: Any, ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        page.wait_for_timeout(500)
        page.reload()


def log_in(page: Any, portal: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{portal}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-password")
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def status_of(page: Any) -> str:
    return str(page.locator(".field-status .readonly").inner_text().strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portal", default="http://127.0.0.1:8000")
    parser.add_argument("--sandbox", default="http://127.0.0.1:8100")
    parser.add_argument("--out", default=str(Path(__file__).parent))
    args = parser.parse_args()
    portal, sandbox, out = args.portal, args.sandbox, Path(args.out)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport=VIEWPORT)
        # The admin's navigation sidebar collapsed, so the tables get the width.
        context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        page = context.new_page()

        # demo-admin: Check connection
        log_in(page, portal, "demo-admin")
        page.goto(f"{portal}/admin/sync/flourishintegration/")
        page.click("button:has-text('Check connection')")
        if "key accepted" not in page.locator(".messagelist").inner_text():
            raise SystemExit("Check connection failed: is the sandbox running?")

        # Sync inventory and wait for the worker
        page.goto(f"{portal}/admin/catalog/item/")
        page.click("#sync-inventory")
        page.wait_for_selector(".messagelist .success")
        page.goto(f"{portal}/admin/sync/syncrun/")
        latest_run = page.locator("#result_list tbody tr").first
        reload_until(page, lambda: "Succeeded" in latest_run.inner_text(), "the sync run")
        page.goto(f"{portal}/admin/catalog/item/")
        green_ridge = page.locator("#changelist-filter a", has_text="Green Ridge")
        page.goto(f"{portal}/admin/catalog/item/" + str(green_ridge.get_attribute("href")))
        page.screenshot(path=str(out / "inventory.png"))

        # demo-agent: an order for Green Door Dispensary, confirmed
        log_in(page, portal, "demo-agent")
        page.goto(f"{portal}/admin/orders/order/add/")
        page.select_option("#id_customer", label="Green Door Dispensary")
        page.select_option("#id_license", index=1)
        page.select_option("#id_payment_terms", "cod")
        item = page.locator("#id_lines-0-item option", has_text="GR-FL35-001").get_attribute(
            "value"
        )
        page.select_option("#id_lines-0-item", item)
        page.fill("#id_lines-0-quantity", "6")
        page.fill("#id_lines-0-unit_price", "25.00")
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        order_url = page.url
        number = page.locator(".field-number .readonly").inner_text().strip()
        page.click("button.order-confirm")
        reload_until(page, lambda: status_of(page) == "Awaiting Delivery", "Awaiting Delivery")

        # The warehouse allocates and ships it on the sandbox control page
        page.goto(f"{sandbox}/")
        for action in ["allocate", "ship"]:
            row = page.locator("#orders tr", has_text=number)
            row.get_by_role("button", name=action, exact=True).click()
            page.locator("#orders tr", has_text=number).filter(
                has_text="Allocated" if action == "allocate" else "Shipped"
            ).wait_for()

        # Back in the portal: Paid (Cash on Delivery), with its timeline
        page.goto(order_url)
        reload_until(page, lambda: status_of(page) == "Paid", "Paid")
        page.screenshot(path=str(out / "order-timeline.png"), full_page=True)

        # demo-admin: the Setup page (every step done by now) and the webhook event log
        log_in(page, portal, "demo-admin")
        page.goto(f"{portal}/admin/organizations/organization/setup/")
        page.screenshot(path=str(out / "setup.png"))
        page.goto(f"{portal}/admin/sync/webhookevent/")
        page.screenshot(path=str(out / "webhook-events.png"))
        browser.close()
    for name in ["setup", "inventory", "order-timeline", "webhook-events"]:
        path = out / f"{name}.png"
        print(f"{path}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
