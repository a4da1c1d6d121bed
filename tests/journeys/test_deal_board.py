"""The deal board in Chromium: a salesperson drags a card to another stage and sees it
stay there after a reload, with the column totals following; then moves another card with
the keyboard alone (its "Move to" list and button) and keeps the focus on it. No inline
script: the board's drag and drop is deals/board.js under the CSP.

And J1's sales end: open a deal from an accepted lead's page and win it.

With TANDEM_SCREENSHOTS set, the board is saved as docs/screenshots/deal-board.png."""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tandem.attribution.engine import MODELS
from tandem.campaigns import services as campaigns
from tandem.capture.demo import ensure_demo_guide_form
from tandem.deals import pipelines, services
from tandem.deals.models import Deal
from tandem.people import services as people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIOLATION = re.compile(r"Content Security Policy|Refused to (execute|load|apply|frame)", re.I)
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "deal-board.png"

DEALS = [  # name, company, amount, stage index, expected close
    ("Acme rollout", "Acme", "12000", 0, "2027-01-15"),
    ("Hooli licences", "Hooli", "26000", 0, "2027-02-20"),
    ("Wayne support", "Wayne", "33000", 0, "2027-05-15"),
    ("Globex renewal", "Globex", "15500", 1, "2027-03-10"),
    ("Stark upgrade", "Stark", "29500", 1, "2027-04-01"),
    ("Initech pilot", "Initech", "19000", 2, "2027-03-31"),
    ("Umbrella expansion", "Umbrella", "22500", 3, "2027-02-28"),
]


def column(page: Page, stage_name: str):
    return page.locator("#board .column").filter(
        has=page.get_by_role("heading", name=re.compile(rf"^{stage_name}"))
    )


def test_drag_a_card_to_another_stage_then_move_one_by_keyboard(
    page: Page, live_server, salesperson, system
):
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if VIOLATION.search(m.text) else None)
    stages = list(pipelines.ensure_defaults().stages.order_by("position"))
    made = {}
    for name, company, amount, stage, close_on in DEALS:
        firm = people.create_company(actor=system, data={"name": company})
        made[name] = services.create_deal(
            actor=system,
            data={
                "name": name,
                "company": firm.pk,
                "owner": salesperson.pk,
                "amount": amount,
                "stage": stages[stage].pk,
                "expected_close_on": close_on,
            },
        )
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/deals/")
    page.get_by_label("User name").fill(salesperson.username)
    page.get_by_label("Password").fill("pw-" + salesperson.username)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Deals", exact=True)).to_be_visible()

    qualification, proposal = column(page, "Qualification"), column(page, "Proposal")
    expect(qualification.locator(".count-value")).to_have_text("3")
    expect(proposal.locator(".amount-value")).to_have_text("19,000.00 EUR")

    # Drag "Acme rollout" from Qualification to Proposal.
    acme = page.locator(f"#deal-{made['Acme rollout'].pk}")
    acme.drag_to(proposal.locator(".column-head"))
    expect(proposal.locator(f"#deal-{made['Acme rollout'].pk}")).to_be_visible()
    expect(proposal.locator(".amount-value")).to_have_text("31,000.00 EUR")
    expect(proposal.locator(".weighted-value")).to_have_text("15,500.00 EUR")
    expect(qualification.locator(".count-value")).to_have_text("2")
    expect(page.locator("#board-status")).to_have_text("Moved “Acme rollout” to Proposal.")
    assert Deal.objects.get(pk=made["Acme rollout"].pk).stage == stages[2]
    page.reload()  # persisted, not only shown
    expect(column(page, "Proposal").locator(f"#deal-{made['Acme rollout'].pk}")).to_be_visible()

    # By keyboard: focus Hooli's "Move to" list, pick Negotiation by typing, Tab, Enter.
    hooli = made["Hooli licences"]
    move_to = page.get_by_label("Move “Hooli licences” to")
    move_to.focus()
    page.keyboard.type("Negotiation")
    expect(move_to).to_have_value(str(stages[3].pk))
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Move “Hooli licences”")).to_be_focused()
    page.keyboard.press("Enter")
    negotiation = column(page, "Negotiation")
    expect(negotiation.locator(f"#deal-{hooli.pk}")).to_be_visible()
    expect(negotiation.locator(".count-value")).to_have_text("2")
    expect(page.get_by_label("Move “Hooli licences” to")).to_be_focused()  # focus kept
    assert Deal.objects.get(pk=hooli.pk).stage == stages[3]
    assert page.url.endswith("/deals/")  # swapped in place, no page load
    assert blocked == []

    if os.environ.get("TANDEM_SCREENSHOTS"):
        page.mouse.move(0, 0)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    # A card moved by someone else meanwhile: the refusal shows on the board, in place.
    umbrella = made["Umbrella expansion"]
    services.close_deal(actor=system, deal=umbrella, status="won", reason_id=None)
    page.get_by_label("Move “Umbrella expansion” to").select_option(label="Proposal")
    page.get_by_role("button", name="Move “Umbrella expansion”").click()
    expect(page.locator("#board-status")).to_contain_text("reopen it first")
    expect(page.locator(f"#deal-{umbrella.pk}")).to_have_count(0)  # won: off the board
    assert page.url.endswith("/deals/")

    # On a phone the board is one column: nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the board scrolls sideways at 390px ({width}px wide)"


def test_open_a_deal_from_an_accepted_lead_and_win_it(page: Page, live_server, salesperson, system):
    """J1's sales end in the browser: the lead's page offers "Open a deal", the deal page
    closes it won through its dialog, and the lead becomes a customer."""
    pipelines.ensure_defaults()
    acme = people.create_company(actor=system, data={"name": "Acme"})
    ann = people.create_person(
        actor=system,
        data={"first_name": "Ann", "last_name": "Archer", "company": acme, "owner": salesperson},
        stage="sal",
    )
    # Before the deal: she downloaded the guide (web form), met us at a fair's booth, and
    # filled the guide's form again.
    guide = ensure_demo_guide_form(system)
    fair = campaigns.create_campaign(actor=system, name="Fair 2026", kind="trade_show")
    now = timezone.now()
    campaigns.record_touchpoint(
        person_id=ann.pk,
        kind="form_fill",
        campaign=guide.campaign,
        form_id=guide.pk,
        occurred_at=now - dt.timedelta(days=10),
    )
    campaigns.record_touchpoint(
        person_id=ann.pk, kind="booth_scan", campaign=fair, occurred_at=now - dt.timedelta(days=5)
    )
    campaigns.record_touchpoint(  # and came back for the guide's second edition
        person_id=ann.pk,
        kind="form_fill",
        campaign=guide.campaign,
        form_id=guide.pk,
        occurred_at=now - dt.timedelta(days=1),
    )
    page.goto(f"{live_server.url}/people/{ann.pk}/")
    page.get_by_label("User name").fill(salesperson.username)
    page.get_by_label("Password").fill("pw-" + salesperson.username)
    page.get_by_role("button", name="Log in").click()

    page.locator("#deals").get_by_role("link", name="Open a deal").click()
    expect(page.get_by_role("heading", name="Open a deal with Ann Archer")).to_be_visible()
    expect(page.get_by_label("Company")).to_have_value("Acme")
    page.get_by_label("Deal name").fill("Acme rollout")
    page.get_by_label("Amount").fill("12000")
    page.get_by_role("button", name="Open the deal").click()
    expect(page.get_by_role("heading", name="Acme rollout")).to_be_visible()
    expect(page.locator("#contacts")).to_contain_text("Ann Archer")
    made = Deal.objects.get()

    page.get_by_text("Close won or lost…").click()
    page.get_by_role("radio", name="Won").check()
    page.get_by_label("Why we won").select_option(label="Product fit")
    page.get_by_role("button", name="Close the deal").click()
    expect(page.locator("#deal-status")).to_have_text("Won")
    expect(page.locator("#close-reason")).to_have_text("Product fit")
    assert Deal.objects.get(pk=made.pk).status == "won"
    ann.refresh_from_db()
    assert ann.stage == "customer"

    # J1's revenue end: the won amount is credited to the guide's campaign (the form Ann
    # filled) under every model, side by side, and each model's column adds up to it.
    page.goto(f"{live_server.url}/attribution/")
    page.get_by_role("link", name="Models side by side").click()
    table = page.locator("table.attribution")
    labels = table.locator("thead th").all_inner_texts()[1:]
    assert len(labels) == len(MODELS), labels
    guide_row = table.locator("tbody tr").filter(has_text=guide.campaign.name)
    fair_row = table.locator("tbody tr").filter(has_text="Fair 2026")
    guide_cells = guide_row.locator("td").all_inner_texts()
    fair_cells = fair_row.locator("td").all_inner_texts()
    totals = table.locator("tfoot td").all_inner_texts()
    assert totals == ["12,000.00"] * len(MODELS), totals
    for label, on_guide, on_fair in zip(labels, guide_cells, fair_cells, strict=True):
        credited = Decimal(on_guide.replace(",", ""))
        assert credited > 0, f"{label}: nothing credited to the guide's campaign"
        assert credited + Decimal(on_fair.replace(",", "")) == Decimal("12000.00"), label
    # The form was first and last: those models give it everything; linear two thirds.
    order = list(MODELS)
    assert guide_cells[order.index("first_touch")] == "12,000.00"
    assert guide_cells[order.index("last_touch")] == "12,000.00"
    assert guide_cells[order.index("linear")] == "8,000.00"
