"""The foundation journey in a real browser: log in, add a person, find them by search,
change their stage with a reason, and see the change on their timeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tandem.people import services
from tandem.people.models import Person, StageChange

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path("/tmp/tandem-journeys/person-390.png")  # for people to look at; not in the repo


def test_log_in_add_find_and_move_a_person(page: Page, live_server, salesperson, system):
    services.create_person(
        actor=system, data={"first_name": "Ada", "last_name": "Lovelace"}, email="ada@example.com"
    )

    # Log in.
    page.goto(live_server.url + "/people/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("User name").fill(salesperson.username)
    page.get_by_label("Password").fill("pw-" + salesperson.username)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="People")).to_be_visible()

    # Add a person, with a company that does not exist yet.
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Email").fill("grace@navy.example")
    page.get_by_label("Company").fill("Navy Labs")
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    grace = Person.objects.get(email="grace@navy.example")
    assert grace.company is not None and grace.company.name == "Navy Labs"
    assert grace.owner_id == salesperson.pk  # a salesperson's new contact is theirs

    # Find her by live search: the list narrows as she types.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Search").fill("hopp")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grace Hopper")
    expect(page).to_have_url(re.compile(r"q=hopp"))
    rows.first.get_by_role("link", name="Grace Hopper").click()

    # Disqualify her: first without a reason (refused, the error sits at the reason)...
    stage = page.locator("#stage-panel")
    stage.get_by_label("Move to").select_option(label="Disqualified")
    stage.get_by_role("button", name="Change stage").click()
    expect(stage.locator("#id_stage-reason_error")).to_contain_text("Say why")
    expect(page.locator("#stage-badge")).to_have_text("Lead")

    # ...then with one: the badge, the history and the timeline all show the move.
    stage.get_by_label("Move to").select_option(label="Disqualified")
    stage.get_by_label("Reason").fill("Not the decision maker")
    stage.get_by_role("button", name="Change stage").click()
    expect(stage.get_by_role("status")).to_have_text("Moved to Disqualified.")
    expect(page.locator("#stage-badge")).to_have_text("Disqualified")
    first_entry = page.locator("#timeline-list > li").first
    expect(first_entry).to_contain_text("Lead → Disqualified")
    expect(first_entry).to_contain_text("Not the decision maker")
    change = StageChange.objects.filter(person=grace).first()
    assert change is not None
    assert (change.to_stage, change.reason, change.actor_id) == (
        "disqualified",
        "Not the decision maker",
        salesperson.pk,
    )

    # The same page on a phone: one column, for a person to look at.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the person page scrolls sideways at 390px ({width}px wide)"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    print(f"person page at 390px: {SCREENSHOT}")
