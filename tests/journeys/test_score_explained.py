"""J1, the scoring half: a known lead fills the guide's form on the company website, the
form fill raises their score past the MQL threshold, and the person page says why."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tandem.capture import webforms
from tandem.capture.demo import ensure_demo_guide_form
from tandem.people import services as people
from tandem.scoring.models import PersonScore
from tandem.scoring.tests.factories import active_rules, engagement, fit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_form_fill_raises_the_score_past_the_threshold_and_the_page_says_why(
    page: Page, live_server, website, marketer, system, settings
):
    settings.TANDEM_FORM_MIN_FILL_SECONDS = 0
    guide = ensure_demo_guide_form(system)
    active_rules(
        [
            fit("title", "contains", "Head of", 20),
            engagement(
                35, touchpoint_kind="form_fill", campaign=guide.campaign_id, half_life_days=30
            ),
        ],
        threshold=50,
    )
    lead = people.create_person(
        actor=system,
        data={"first_name": "Grace", "last_name": "Hopper", "title": "Head of IT"},
        email="grace@navylabs.com",
    )
    assert PersonScore.objects.get(person=lead).score == 20  # below the threshold

    site, root = website
    snippet = webforms.embed_snippet(guide, base_url=live_server.url)
    (root / "guide.html").write_text(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Guide</title></head>"
        f"<body>{snippet}</body></html>",
        encoding="utf-8",
    )
    page.goto(f"{site}/guide.html?utm_source=newsletter")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Work email").fill("grace@navylabs.com")
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your guide is on its way")).to_be_visible()

    # A marketer opens the person: the score is past the threshold, with the reasons.
    page.goto(f"{live_server.url}/people/{lead.pk}/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("User name").fill(marketer.username)
    page.get_by_label("Password").fill("pw-" + marketer.username)
    page.get_by_role("button", name="Log in").click()
    card = page.locator("#score")
    expect(card.locator(".score-total")).to_have_text("55")
    expect(card).to_contain_text("Above the MQL threshold (50)")
    reasons = card.locator(".score-reasons li")
    expect(reasons).to_have_text(
        ["+20 Title contains 'Head of'", "+35 Form fill: Buyer's guide 2026, today"]
    )
