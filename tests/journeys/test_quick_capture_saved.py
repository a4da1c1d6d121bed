"""At the booth on a phone: after Save the salesperson reads what happened in the save bar
under their thumb, the lead is in "Saved today by you" at once (no reload), it is theirs,
and its interest level shows on the person's page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tandem.people.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, live_server, user) -> None:
    page.goto(live_server.url + "/capture")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill("pw-" + user.username)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#quick-form")).to_have_attribute("data-ready", "true")


def test_save_says_so_under_the_thumb_and_saved_today_updates_at_once(
    page: Page, live_server, salesperson
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, salesperson)
    saved_today = page.locator("#saved-today li")
    expect(page.get_by_text("Nothing yet.")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill("ada@engines.example")
    page.get_by_text("High", exact=True).click()
    page.get_by_role("button", name="Save", exact=True).click()

    status = page.locator("#save-status")
    expect(status).to_have_text("Saved Ada Lovelace: new person, yours.")
    expect(status).to_be_in_viewport()  # at the bottom of the phone's screen, by the button
    box, height = status.bounding_box(), page.viewport_size["height"]
    assert box is not None and box["y"] > height / 2, box
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_in_viewport()

    expect(saved_today).to_have_count(1)
    expect(saved_today.first).to_contain_text("Ada Lovelace")
    expect(saved_today.first).to_contain_text("Booth scan")
    expect(page.get_by_text("Nothing yet.")).to_be_hidden()
    assert page.evaluate("window.notReloaded") is True  # updated in place

    # Offline, the bar says the lead is kept on the phone; back online it says it is saved.
    page.context.set_offline(True)
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Email").fill("grace@navy.example")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(status).to_contain_text("kept on this phone")
    expect(saved_today).to_have_count(1)
    page.context.set_offline(False)
    page.get_by_role("button", name="Sync", exact=True).click()
    expect(status).to_have_text("Saved Grace: new person, yours.")
    expect(saved_today).to_have_count(2)
    expect(saved_today.first).to_contain_text("Grace")  # newest first

    ada = Person.objects.get(email="ada@engines.example")
    assert ada.owner == salesperson
    assert Person.objects.get(email="grace@navy.example").owner == salesperson

    page.locator("#saved-today li", has_text="Ada Lovelace").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/people/{ada.pk}/$"))
    details = page.locator("#details")
    expect(details.locator("dt", has_text="Interest")).to_be_visible()
    expect(details.locator(".badge.interest-high")).to_have_text("High")
