"""J1 end to end: a known lead fills the guide's form on the company website, the form fill
raises their score past the MQL threshold, routing moves them to MQL and gives them to the
territory's salesperson with an SLA due time; the salesperson finds them in My leads, sees
why, and accepts: the person is sales accepted."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tandem.accounts.models import Team
from tandem.capture import webforms
from tandem.capture.demo import ensure_demo_guide_form
from tandem.people import services as people
from tandem.people.models import Person
from tandem.routing.models import Handoff
from tandem.routing.services_rules import create_rule
from tandem.scoring.tests.factories import active_rules, engagement, fit
from tandem.sla.services import create_sla_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_form_fill_becomes_an_mql_routed_by_territory_and_the_salesperson_accepts(
    page: Page, live_server, website, salesperson, system, settings
):
    settings.TANDEM_FORM_MIN_FILL_SECONDS = 0
    sales = Team.objects.create(name="Sales")
    salesperson.team = sales
    salesperson.save()
    create_rule(
        actor=system,
        data={"name": "DACH", "kind": "territory", "countries": ["DE"], "user": salesperson.pk},
    )
    create_sla_policy(
        actor=system,
        data={"name": "Form fill", "touchpoint_kind": "form_fill", "amount": 1, "unit": "days"},
    )
    guide = ensure_demo_guide_form(system)
    active_rules(
        [
            fit("title", "contains", "Head of", 20),
            engagement(35, touchpoint_kind="form_fill", campaign=guide.campaign_id),
        ],
        threshold=50,
    )
    lead = people.create_person(
        actor=system,
        data={"first_name": "Grace", "last_name": "Hopper", "title": "Head of IT", "country": "DE"},
        email="grace@navylabs.com",
    )
    assert not Handoff.objects.filter(person=lead).exists()  # 20 points: not an MQL yet

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

    # Past the threshold: an MQL, routed to the territory's salesperson with a due time.
    lead.refresh_from_db()
    assert lead.stage == "mql" and lead.owner == salesperson
    handoff = Handoff.objects.get(person=lead, is_current=True)
    assert handoff.routed_by == "DACH" and handoff.due_at is not None

    # The salesperson opens My leads: the lead, why, and the buttons.
    page.goto(f"{live_server.url}/leads/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("User name").fill(salesperson.username)
    page.get_by_label("Password").fill("pw-" + salesperson.username)
    page.get_by_role("button", name="Log in").click()
    card = page.locator("article, li, section").filter(has_text="Grace Hopper").first
    expect(card).to_contain_text("DACH")
    expect(card).to_contain_text("reached the MQL threshold 50")
    card.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status")).to_contain_text("Grace Hopper")
    assert Person.objects.get(pk=lead.pk).stage == "sal"
    assert Handoff.objects.get(pk=handoff.pk).status == "accepted"
