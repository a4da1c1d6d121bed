"""The bell in a real Chromium: the count arrives by HTMX, refreshes on its own a minute
later without a page load, and the list opens what a notification is about; no CSP
violation on the way (no inline script)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, expect

from tandem.notifications import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's sync API runs an event loop in the test thread; the ORM calls around it
# are plain synchronous code (as in tests/journeys/conftest.py).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox", "--disable-gpu", "--no-first-run"],
    }


def test_the_bell_counts_refreshes_by_itself_and_opens_the_news(page, live_server, salesperson):
    violations: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if re.search(r"Content Security Policy|Refused to", message.text):
            violations.append(message.text)

    page.on("console", note)
    services.notify(
        [salesperson], kind="handoff", title="New lead: Ada Lovelace", key="h:1", url="/people/"
    )
    page.clock.install()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill(salesperson.username)
    page.get_by_label("Password").fill("pw-" + salesperson.username)
    page.get_by_role("button", name="Log in").click()
    bell = page.locator("#bell")
    expect(bell.locator(".bell-count")).to_have_text("1")
    expect(bell).to_have_accessible_name("Notifications: 1 unread")

    # A breach is announced while the page stays open: a minute later the bell shows it.
    services.notify([salesperson], kind="sla_breach", title="SLA breached: Ada", key="b:1")
    page.evaluate("window.__same_page = true")
    page.clock.fast_forward("01:05")
    expect(bell.locator(".bell-count")).to_have_text("2")
    assert page.evaluate("window.__same_page") is True  # no full page load

    expect(bell).to_have_accessible_name("Notifications: 2 unread")
    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.locator("li.notification.unread")).to_have_count(2)
    page.get_by_role("link", name=re.compile("New lead: Ada Lovelace")).click()
    expect(page).to_have_url(re.compile(r"/people/$"))
    expect(page.locator("#bell .bell-count")).to_have_text("1")
    assert violations == []
