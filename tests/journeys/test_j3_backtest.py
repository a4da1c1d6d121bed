"""J3, the rules half: marketing changes a scoring rule in a draft, checks it against the
last months' outcomes beside the active rules (the backtest), then applies it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tandem.campaigns.models import Touchpoint
from tandem.people import services as people
from tandem.people.models import Person, Stage, StageChange
from tandem.scoring import services
from tandem.scoring.models import RuleSet, RuleSetStatus
from tandem.scoring.tests.factories import active_rules, fit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_marketer_backtests_a_draft_beside_the_active_rules_then_applies_it(
    page: Page, live_server, marketer, system
):
    now = timezone.now()
    active = active_rules([fit("title", "contains", "Analyst", 60)], threshold=50)
    draft = services.create_rule_set(actor=system, copy_from=active, name="Form fills count")
    # The lead who became a customer filled a form a month ago; the active rules missed her.
    lead = people.create_person(actor=system, data={"last_name": "Lovelace", "title": "CFO"})
    Person.objects.filter(pk=lead.pk).update(created_at=now - dt.timedelta(days=200))
    Touchpoint.objects.create(
        person=lead, kind="form_fill", occurred_at=now - dt.timedelta(days=30)
    )
    StageChange.objects.create(
        person=lead,
        from_stage=Stage.LEAD,
        to_stage=Stage.OPPORTUNITY,
        changed_at=now - dt.timedelta(days=10),
        actor_label="Sam Sales",
    )
    Person.objects.filter(pk=lead.pk).update(stage=Stage.OPPORTUNITY)

    page.goto(f"{live_server.url}/scoring/sets/{draft.pk}/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("User name").fill(marketer.username)
    page.get_by_label("Password").fill("pw-" + marketer.username)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Add a rule").click()
    page.get_by_label("Kind", exact=True).select_option("engagement")
    page.get_by_label("Points", exact=True).fill("60")
    page.get_by_label("Touchpoint kind").select_option("form_fill")
    page.get_by_role("button", name="Save the rule").click()

    backtest = page.locator("section", has=page.get_by_role("heading", name="Backtest"))
    backtest.get_by_label("Months back").fill("3")
    backtest.get_by_role("button", name="Run the backtest").click()
    recall = backtest.get_by_role("row", name=re.compile(r"^Recall"))
    # The draft caught her; the active rules did not.
    expect(recall.get_by_role("cell")).to_have_text(["100%", "0%"])
    expect(backtest.get_by_role("columnheader", name="v1 (active)").first).to_be_visible()

    page.get_by_label("Why (kept in the audit trail)").fill("Form fills predict customers")
    page.get_by_role("button", name=f"Activate v{draft.version}").click()
    expect(page.get_by_text(f"Version {draft.version} now scores everyone.")).to_be_visible()
    assert RuleSet.objects.get(pk=draft.pk).status == RuleSetStatus.ACTIVE
