"""Consent where staff can see it, in a real browser: the person page's consent card with
its proof, and the people list narrowed to those who may be emailed (issue 17, point 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tandem.capture import consent as consents
from tandem.capture.demo import ensure_demo_guide_form
from tandem.people import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path("/tmp/tandem-journeys/consent-390.png")  # for people to look at; not in the repo


def test_a_salesperson_sees_consent_with_its_proof_and_filters_by_it(
    page: Page, live_server, salesperson, other_salesperson, system
):
    guide = ensure_demo_guide_form(system)
    text = guide.consent_texts.get()
    ada = services.create_person(
        actor=system,
        data={"first_name": "Ada", "last_name": "Lovelace", "owner": other_salesperson},
        email="ada@example.com",
    )
    consent = consents.record_consent(
        person=ada,
        text=text,
        proof=consents.Proof(method="form", form=guide, ip="203.0.113.7"),
        double_opt_in=True,
    )
    token = consents.confirmation_token(ada.pk, [consent.pk])
    consents.confirm_consents(
        token=token, proof=consents.Proof(method="email_link", ip="198.51.100.1")
    )
    services.create_person(
        actor=system, data={"first_name": "Bob", "last_name": "Pending"}, email="bob@example.com"
    )

    page.goto(live_server.url + "/login/")
    page.get_by_label("User name").fill(salesperson.username)
    page.get_by_label("Password").fill("pw-" + salesperson.username)
    page.get_by_role("button", name="Log in").click()

    # The list narrows to the people who may be emailed for the newsletter.
    page.goto(live_server.url + "/people/")
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("May be emailed for").select_option(label=text.purpose.name)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada Lovelace")
    rows.first.get_by_role("link", name="Ada Lovelace").click()

    # Her page shows the state and the proof of the latest step, the rest folded away.
    card = page.get_by_role("region", name="Consent")
    newsletter = card.locator(f'li[data-purpose="{text.purpose.key}"]')
    expect(newsletter).to_contain_text("Granted")
    expect(newsletter).to_contain_text("IP 198.51.100.1")
    history = newsletter.locator("details ol")
    expect(history).to_be_hidden()
    newsletter.get_by_text("Proof: 2 steps").click()
    expect(history).to_be_visible()
    expect(history).to_contain_text("Asked to confirm")
    expect(history).to_contain_text("IP 203.0.113.7")

    page.set_viewport_size({"width": 390, "height": 844})
    card.scroll_into_view_if_needed()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the person page scrolls sideways at 390px ({width}px wide)"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(SCREENSHOT))
