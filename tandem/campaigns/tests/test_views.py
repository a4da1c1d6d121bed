"""Campaign pages: everyone sees them, marketing roles create and edit them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tandem.campaigns.models import Campaign
from tandem.campaigns.services import create_campaign, record_touchpoint
from tandem.capture.demo import ensure_demo_guide_form
from tandem.capture.services import TouchpointIn, capture_person
from tandem.core.models import AuditEvent
from tandem.people import services as people

ROLES = ["admin", "manager", "marketer", "salesperson"]
MANAGES = {"admin": True, "manager": True, "marketer": True, "salesperson": False}


@pytest.fixture
def campaign(system) -> Campaign:
    return create_campaign(actor=system, name="Spring fair", key="spring-fair", kind="event")


@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_the_list_and_a_campaign(client, users_by_role, campaign, role):
    client.force_login(users_by_role[role])
    listing = client.get(reverse("campaigns:list"))
    assert listing.status_code == 200 and "Spring fair" in listing.text
    assert ("New campaign" in listing.text) is MANAGES[role]
    assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_only_marketing_roles_create_and_edit(client, users_by_role, campaign, role):
    client.force_login(users_by_role[role])
    expected = 200 if MANAGES[role] else 403
    assert client.get(reverse("campaigns:create")).status_code == expected
    assert client.get(reverse("campaigns:edit", args=[campaign.pk])).status_code == expected
    response = client.post(reverse("campaigns:create"), {"name": "Sneaky", "kind": "other"})
    assert response.status_code == (302 if MANAGES[role] else 403)
    assert Campaign.objects.filter(name="Sneaky").exists() is MANAGES[role]


def test_anonymous_visitors_log_in_first(client, campaign):
    response = client.get(reverse("campaigns:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_marketer_creates_a_campaign_with_dates_and_a_key_from_the_name(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:create"),
        {
            "name": "Buyer's Guide 2026",
            "key": "",
            "kind": "content",
            "starts_on": "2026-03-01",
            "ends_on": "2026-06-30",
            "description": "Gated guide.",
            "is_active": "on",
        },
    )
    campaign = Campaign.objects.get()
    assert response["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert (campaign.key, campaign.kind, campaign.starts_on, campaign.ends_on) == (
        "buyers-guide-2026",
        "content",
        dt.date(2026, 3, 1),
        dt.date(2026, 6, 30),
    )


def test_editing_changes_the_campaign_and_is_audited(client, marketer, campaign):
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:edit", args=[campaign.pk]),
        {"name": "Spring fair 2026", "key": "spring-fair", "kind": "trade_show"},
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.kind, campaign.is_active) == (
        "Spring fair 2026",
        "trade_show",
        False,
    )
    event = AuditEvent.objects.filter(target_type="campaigns.campaign", event="changed").get()
    assert event.changes["name"] == ["Spring fair", "Spring fair 2026"]
    assert event.actor == marketer


def test_an_end_before_the_start_is_named_next_to_the_end(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:create"),
        {"name": "Backwards", "kind": "other", "starts_on": "2026-05-01", "ends_on": "2026-04-01"},
    )
    assert response.status_code == 400
    assert "cannot end before it starts" in response.text
    assert 'value="Backwards"' in response.text


def test_a_taken_key_is_named_next_to_the_key(client, marketer, campaign):
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:create"), {"name": "Another", "key": "spring-fair", "kind": "other"}
    )
    assert response.status_code == 400
    assert "taken by another campaign" in response.text


def test_the_campaign_page_shows_its_forms_and_recent_touchpoints(client, salesperson, system):
    form = ensure_demo_guide_form(system)
    capture_person(
        actor=system,
        data={"first_name": "Ada", "email": "ada@example.com"},
        touchpoint=TouchpointIn(
            kind="form_fill", campaign=form.campaign, form_id=form.pk, utm={"utm_source": "ads"}
        ),
    )
    client.force_login(salesperson)
    html = client.get(reverse("campaigns:detail", args=[form.campaign_id])).text
    assert "Buyer&#x27;s guide 2026 download" in html
    assert "Ada" in html and "ads" in html
    assert "1 touchpoint" in html


def test_the_list_pages_by_50_and_the_next_link_shows_the_rest(client, salesperson, system):
    for i in range(55):
        create_campaign(actor=system, name=f"Campaign {i:03d}", key=f"c-{i:03d}")
    client.force_login(salesperson)
    first = client.get(reverse("campaigns:list"), {"sort": "name"})
    assert first.status_code == 200
    assert "Campaign 000" in first.text and "Campaign 049" in first.text
    assert "Campaign 050" not in first.text and "1–50 of 55" in first.text
    next_url = first.context["next_url"]
    rest = client.get(reverse("campaigns:list") + next_url)
    assert "Campaign 050" in rest.text and "Campaign 054" in rest.text
    assert "Campaign 049" not in rest.text and "51–55 of 55" in rest.text


def test_the_list_filters_by_kind_and_names_a_bad_filter(client, salesperson, system):
    create_campaign(actor=system, name="Spring fair", kind="event")
    create_campaign(actor=system, name="Guide", kind="content")
    client.force_login(salesperson)
    response = client.get(reverse("campaigns:list"), {"kind": "event"})
    assert "Spring fair" in response.text and "Guide" not in response.text
    response = client.get(reverse("campaigns:list"), {"kind": "party"})
    assert response.status_code == 400
    assert 'id="err-kind">' in response.text and "Input should be" in response.text


@pytest.mark.parametrize("n", [1, 50])
def test_the_list_costs_the_same_queries_for_1_or_50_campaigns(
    client, salesperson, system, n, django_assert_num_queries
):
    person = people.create_person(actor=system, data={"last_name": "Lovelace"})
    for i in range(n):
        campaign = create_campaign(actor=system, name=f"Campaign {i:03d}")
        record_touchpoint(person_id=person.pk, kind="page_visit", campaign=campaign)
    client.force_login(salesperson)
    # 1 session, 2 user, 3 capped count, 4 page with owner and parent joined,
    # 5 their UTM mappings, 6 cost totals, 7 touchpoints and people per listed campaign,
    # 8 forms per listed campaign
    with django_assert_num_queries(8):
        response = client.get(reverse("campaigns:list"))
    assert response.text.count('data-label="Touchpoints">1<') == n
