"""J3, the send-back half: a salesperson sends a hand-off back as "not the decision maker"
from their inbox; the marketer sees the reason by campaign in the send-back report, opens
those people from the count, and goes on to the scoring rules."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tandem.people.models import Person
from tandem.routing.models import Handoff
from tandem.routing.reasons import ensure_default_reasons
from tandem.routing.tests.handoff_factories import campaign, routed_lead, touch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, live_server, user, path: str) -> None:
    page.goto(live_server.url + path)
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill("pw-" + user.username)
    page.get_by_role("button", name="Log in").click()


def test_a_send_back_reaches_marketing_by_campaign(page: Page, live_server, salesperson, marketer):
    ensure_default_reasons()  # the flush between transactional tests drops the seeded rows
    now = timezone.now()
    guide = campaign("Pricing guide")
    person, _ = routed_lead(salesperson, last_name="Lovelace", routed_at=now)
    touch(person, guide, now - dt.timedelta(days=1))

    # The salesperson answers from "My leads": Send back opens its small form in place.
    sign_in(page, live_server, salesperson, "/leads/")
    card = page.locator("article.lead", has=page.get_by_role("link", name="Lovelace"))
    expect(card.get_by_text("Pricing guide")).to_be_visible()
    card.locator("summary", has_text="Send back").click()
    card.get_by_label("Why does it go back?").select_option(label="Not the decision maker")
    card.get_by_label("Note for marketing").fill("The CFO signs; Ada is her analyst.")
    card.get_by_role("button", name="Send back to marketing").click()
    expect(card.get_by_role("status")).to_contain_text("Sent Lovelace back to marketing")
    person = Person.objects.get(pk=person.pk)
    assert (person.stage, person.owner_id) == ("recycled", None)
    assert Handoff.objects.get(person=person).send_back_reason == "not_decision_maker"

    # The marketer reads the reason by campaign and opens those people.
    page.context.clear_cookies()
    sign_in(page, live_server, marketer, "/reports/send-backs/")
    row = page.get_by_role("row", name=re.compile(r"^Pricing guide"))
    expect(row).to_be_visible()
    header = page.get_by_role("columnheader", name="Not the decision maker")
    expect(header).to_be_visible()
    row.get_by_role("link", name="1").first.click()
    expect(page).to_have_url(re.compile(r"/people/\?sent_back_reason="))
    expect(page.get_by_role("link", name="Lovelace")).to_be_visible()

    # From there to a rule change, its backtest and applying it (test_j3_backtest.py).
    page.go_back()
    page.get_by_role("link", name="open the scoring rules").click()
    expect(page).to_have_url(re.compile(r"/scoring/$"))
