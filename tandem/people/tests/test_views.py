"""The people and company pages do what a user asks, show errors where they type, and escape."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tandem.core.pagination import Page
from tandem.people import services
from tandem.people.models import (
    Activity,
    Company,
    CustomField,
    Person,
    Stage,
    StageChange,
)
from tandem.people.views.common import page_summary


@pytest.fixture
def ada(system, salesperson) -> Person:
    acme = services.create_company(actor=system, data={"name": "Acme Robotics"})
    return services.create_person(
        actor=system,
        data={"first_name": "Ada", "last_name": "Lovelace", "company": acme, "owner": salesperson},
        email="ada@example.com",
        phone="+49 30 1234567",
    )


@pytest.fixture
def signed_in(client, marketer):
    client.force_login(marketer)
    return client


def field_error(html: str, field_id: str) -> str:
    """The text of the error list linked to an input, or "" when there is none."""
    match = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def input_tag(html: str, field_id: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)[^>]*id="{field_id}"[^>]*>', html)
    assert match, field_id
    return match.group(0)


# --- the people list ------------------------------------------------------------------


@pytest.mark.parametrize("q", ["ada", "LOVE", "ada@exa", "acme"])
def test_people_list_finds_a_person_by_name_email_or_company_prefix(signed_in, ada, q):
    html = signed_in.get(reverse("people:list"), {"q": q}).content.decode()
    assert "Ada Lovelace" in html
    assert "1–1 of 1" in html


def test_live_search_answers_with_the_list_fragment_only(signed_in, ada):
    response = signed_in.get(
        reverse("people:list"), {"q": "ada"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    html = response.content.decode()
    assert "<html" not in html and "Ada Lovelace" in html
    # The filter errors next to the inputs are refreshed out of band.
    assert 'id="err-q" hx-swap-oob="true"' in html


def test_people_list_filters_by_stage_owner_and_unowned(signed_in, ada, system, salesperson):
    services.create_person(actor=system, data={"last_name": "Nobody"})
    url = reverse("people:list")
    assert "Nobody" not in signed_in.get(url, {"owner": str(salesperson.pk)}).content.decode()
    unowned = signed_in.get(url, {"owner": "none"}).content.decode()
    assert "Nobody" in unowned and "Ada Lovelace" not in unowned
    assert "No people match" in signed_in.get(url, {"stage": "customer"}).content.decode()


def test_a_bad_filter_value_is_shown_next_to_its_field(signed_in, ada):
    response = signed_in.get(reverse("people:list"), {"stage": "hot"})
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(r'<p class="error filter-error" id="err-stage">(.*?)</p>', html, re.S)
    assert error and error.group(1).strip()
    assert 'aria-describedby="err-stage"' in html


def test_next_page_link_walks_the_list_by_cursor(signed_in, system):
    for i in range(51):
        services.create_person(actor=system, data={"last_name": f"Person{i:02d}"})
    first = signed_in.get(reverse("people:list"), {"sort": "name"}).content.decode()
    assert "1–50 of 51" in first and "Person49" in first and "Person50" not in first
    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = signed_in.get(reverse("people:list") + next_url).content.decode()
    assert "51–51 of 51" in second and "Person50" in second and "Person49" not in second


def test_a_tampered_cursor_asks_to_start_again(signed_in, ada):
    html = signed_in.get(reverse("people:list"), {"cursor": "garbage"}).content.decode()
    assert "not valid" in html and "Start again" in html


def test_counts_beyond_the_cap_read_as_a_floor():
    page = Page(items=[object()] * 50, count=10_000, count_exact=False, next_cursor="x", limit=50)
    assert page_summary(page, 0) == {
        "first": 1,
        "last": 50,
        "total": "10,000+",
        "is_capped": True,
        "is_empty": False,
    }


# --- creating and editing people -------------------------------------------------------


def test_creating_a_person_with_a_new_company_name_adds_the_company(signed_in):
    response = signed_in.post(
        reverse("people:create"),
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "Grace@Navy.example",
            "phone": "+1 202 555 0143",
            "company": "Navy Labs",
            "country": "us",
            "stage": "mql",
        },
    )
    person = Person.objects.get(last_name="Hopper")
    assert response.status_code == 302 and response["Location"] == reverse(
        "people:detail", args=[person.pk]
    )
    assert person.company.name == "Navy Labs"
    assert (person.email, person.stage, person.country) == ("grace@navy.example", "mql", "US")


def test_creating_a_person_picks_an_existing_company_by_name(signed_in, ada):
    signed_in.post(
        reverse("people:create"),
        {"last_name": "Babbage", "company": "acme robotics", "stage": "lead"},
    )
    assert Person.objects.get(last_name="Babbage").company_id == ada.company_id
    assert Company.objects.count() == 1


def test_form_errors_sit_next_to_their_field_and_values_are_kept(signed_in):
    response = signed_in.post(
        reverse("people:create"),
        {"first_name": "Grace", "email": "not-an-email", "phone": "12", "stage": "lead"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "not a valid email" in field_error(html, "id_email")
    email_input = input_tag(html, "id_email")
    assert 'aria-describedby="id_email_error"' in email_input
    assert 'aria-invalid="true"' in email_input
    assert 'value="not-an-email"' in email_input
    assert 'value="Grace"' in input_tag(html, "id_first_name")
    assert not Person.objects.exists()


def test_a_duplicate_email_links_to_the_person_who_has_it(signed_in, ada):
    response = signed_in.post(
        reverse("people:create"),
        {
            "first_name": "Ada",
            "email": " ADA@example.com ",
            "company": "Brand New Co",
            "stage": "lead",
        },
    )
    html = response.content.decode()
    error = re.search(r'<ul class="errorlist" id="id_email_error">(.*?)</ul>', html, re.S).group(1)
    assert "already belongs to" in error
    assert f'href="{reverse("people:detail", args=[ada.pk])}"' in error
    # The company typed alongside was not left behind by the refused create.
    assert not Company.objects.filter(name="Brand New Co").exists()


def test_a_person_needs_a_name_or_an_email(signed_in):
    html = signed_in.post(reverse("people:create"), {"stage": "lead"}).content.decode()
    assert "at least a name or an email" in field_error(html, "id_last_name")


def test_editing_records_what_changed_from_what_to_what(signed_in, ada, marketer):
    url = reverse("people:edit", args=[ada.pk])
    form = signed_in.get(url).content.decode()
    assert 'value="Acme Robotics"' in input_tag(form, "id_company")
    response = signed_in.post(
        url,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "+49 30 1234567",
            "title": "Analyst",
            "company": "Acme Robotics",
            "owner": str(ada.owner_id),
        },
    )
    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.title == "Analyst" and ada.email == "ada@example.com"
    page = signed_in.get(reverse("people:detail", args=[ada.pk])).content.decode()
    audit = page[page.index('id="audit"') :]
    assert "Changed" in audit and "Job title" in audit and "Analyst" in audit
    assert marketer.get_full_name() in audit


def test_the_audit_trail_names_owners_and_companies_not_ids(signed_in, ada):
    page = signed_in.get(reverse("people:detail", args=[ada.pk])).content.decode()
    audit = page[page.index('id="audit"') :]
    assert "Sam Sales" in audit and "Acme Robotics" in audit


@pytest.fixture
def custom_fields(db):
    CustomField.objects.create(
        entity="person", key="budget", label="Budget", field_type="number", position=1
    )
    CustomField.objects.create(
        entity="person", key="met_on", label="Met on", field_type="date", position=2
    )
    CustomField.objects.create(
        entity="person",
        key="tier",
        label="Tier",
        field_type="choice",
        choices=["Gold", "Silver"],
        required=True,
        position=3,
    )
    CustomField.objects.create(
        entity="person", key="vip", label="VIP", field_type="bool", position=4
    )
    CustomField.objects.create(
        entity="person", key="notes", label="Notes & quirks", field_type="text", position=5
    )


def test_custom_fields_render_by_type_with_required_marks(signed_in, custom_fields):
    html = signed_in.get(reverse("people:create")).content.decode()
    assert 'type="number"' in input_tag(html, "id_cf_budget")
    assert 'type="date"' in input_tag(html, "id_cf_met_on")
    assert input_tag(html, "id_cf_tier").startswith("<select")
    assert '<option value="Gold">Gold</option>' in html
    assert input_tag(html, "id_cf_vip").startswith("<select")
    assert re.search(r'for="id_cf_tier">Tier <span class="req"', html)
    assert not re.search(r'for="id_cf_budget">Budget <span class="req"', html)
    assert "Notes &amp; quirks" in html


def test_custom_field_values_are_checked_and_saved(signed_in, custom_fields):
    bad = signed_in.post(
        reverse("people:create"),
        {"last_name": "Lamarr", "stage": "lead", "cf_budget": "lots", "cf_tier": ""},
    ).content.decode()
    assert "number" in field_error(bad, "id_cf_budget")
    assert "Tier is required" in field_error(bad, "id_cf_tier")
    signed_in.post(
        reverse("people:create"),
        {
            "last_name": "Lamarr",
            "stage": "lead",
            "cf_budget": "1200.5",
            "cf_met_on": "2024-05-01",
            "cf_tier": "Gold",
            "cf_vip": "true",
        },
    )
    person = Person.objects.get(last_name="Lamarr")
    assert person.custom_fields == {
        "budget": 1200.5,
        "met_on": "2024-05-01",
        "tier": "Gold",
        "vip": True,
    }
    page = signed_in.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "<dt>Tier</dt><dd>Gold</dd>" in page and "<dt>VIP</dt><dd>Yes</dd>" in page


# --- the stage ------------------------------------------------------------------------


def test_going_back_in_the_funnel_without_a_reason_shows_the_error_at_the_reason(
    signed_in, ada, system
):
    services.change_stage(person=ada, to_stage="mql", actor=system)
    response = signed_in.post(
        reverse("people:change_stage", args=[ada.pk]),
        {"stage-to_stage": "lead", "stage-reason": "  "},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Say why" in field_error(html, "id_stage-reason")
    ada.refresh_from_db()
    assert ada.stage == Stage.MQL


def test_disqualifying_with_a_reason_records_it_and_shows_it_on_the_timeline(
    signed_in, ada, marketer
):
    response = signed_in.post(
        reverse("people:change_stage", args=[ada.pk]),
        {"stage-to_stage": "disqualified", "stage-reason": "Not the decision maker"},
    )
    assert response.status_code == 302
    change = StageChange.objects.filter(person=ada).first()
    assert (change.from_stage, change.to_stage, change.reason, change.actor) == (
        "lead",
        "disqualified",
        "Not the decision maker",
        marketer,
    )
    page = signed_in.get(reverse("people:detail", args=[ada.pk])).content.decode()
    timeline = page[page.index('id="timeline-list"') :]
    assert "Lead → Disqualified" in timeline and "Not the decision maker" in timeline


def test_moving_forward_needs_no_reason(signed_in, ada):
    response = signed_in.post(
        reverse("people:change_stage", args=[ada.pk]), {"stage-to_stage": "sal"}
    )
    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.stage == Stage.SAL


def test_changing_the_stage_by_htmx_swaps_the_panel_and_refreshes_the_timeline(signed_in, ada):
    response = signed_in.post(
        reverse("people:change_stage", args=[ada.pk]),
        {"stage-to_stage": "mql", "stage-reason": "Downloaded the guide"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="stage-panel"')
    assert "Moved to Marketing qualified." in html
    assert 'id="timeline-list" hx-swap-oob="true"' in html
    assert 'id="stage-badge" class="badge stage-mql" hx-swap-oob="true"' in html
    assert "Downloaded the guide" in html


def test_a_refused_stage_change_by_htmx_comes_back_with_the_error(signed_in, ada):
    response = signed_in.post(
        reverse("people:change_stage", args=[ada.pk]),
        {"stage-to_stage": "recycled"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Say why" in field_error(response.content.decode(), "id_stage-reason")


# --- timeline, emails, phones --------------------------------------------------------------


def test_logging_a_call_puts_it_on_the_timeline(signed_in, ada):
    response = signed_in.post(
        reverse("people:log_activity", args=[ada.pk]),
        {
            "activity-kind": "call",
            "activity-subject": "Discovery call",
            "activity-outcome": "Booked a demo",
            "activity-occurred_at": "2025-03-04T10:30",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "Discovery call" in html and "Outcome: Booked a demo" in html
    assert "4 Mar 2025, 10:30" in html
    assert Activity.objects.get(person=ada).kind == "call"


def test_an_empty_note_is_refused_next_to_the_notes(signed_in, ada):
    html = signed_in.post(
        reverse("people:log_activity", args=[ada.pk]), {"activity-kind": "note"}
    ).content.decode()
    assert "Write what happened" in field_error(html, "id_activity-body")
    assert '<details class="log-form" open>' in html


def test_emails_are_added_made_primary_and_removed(signed_in, ada):
    signed_in.post(
        reverse("people:add_email", args=[ada.pk]), {"email-address": "ada@work.example"}
    )
    work = ada.emails.get(email="ada@work.example")
    assert not work.is_primary
    signed_in.post(reverse("people:make_primary_email", args=[ada.pk, work.pk]))
    ada.refresh_from_db()
    assert ada.email == "ada@work.example"
    old = ada.emails.get(email="ada@example.com")
    response = signed_in.post(
        reverse("people:remove_email", args=[ada.pk, old.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="emails"')
    assert "ada@example.com" not in html[: html.index('id="audit"')]
    assert list(ada.emails.values_list("email", flat=True)) == ["ada@work.example"]


def test_adding_an_email_someone_else_has_links_to_them(signed_in, ada, system):
    grace = services.create_person(actor=system, data={"last_name": "Hopper"})
    html = signed_in.post(
        reverse("people:add_email", args=[grace.pk]), {"email-address": "ADA@example.com"}
    ).content.decode()
    error = field_error(html, "id_email-address")
    assert "already belongs to Ada Lovelace" in error
    assert f'href="{reverse("people:detail", args=[ada.pk])}"' in html


def test_phones_show_international_format_and_what_was_typed(signed_in, ada):
    signed_in.post(
        reverse("people:add_phone", args=[ada.pk]),
        {"phone-number": "020 7946 0958", "phone-kind": "mobile"},
    )
    # Read in the default region: without a + a number needs the person's country.
    html = signed_in.get(reverse("people:detail", args=[ada.pk])).content.decode()
    assert "+49 30 1234567" in html
    bad = signed_in.post(
        reverse("people:add_phone", args=[ada.pk]), {"phone-number": "12", "phone-kind": "work"}
    ).content.decode()
    assert "phone number" in field_error(bad, "id_phone-number")


def test_a_gb_number_is_shown_with_the_original(signed_in, system):
    person = services.create_person(
        actor=system, data={"last_name": "Turing", "country": "GB"}, phone="020 7946 0958"
    )
    html = signed_in.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "+44 20 7946 0958" in html and "Entered as “020 7946 0958”" in html


# --- companies ------------------------------------------------------------------------


def test_company_page_lists_its_people_and_their_activities(signed_in, ada, system):
    services.log_activity(actor=system, person=ada, kind="meeting", subject="Site visit")
    html = signed_in.get(reverse("people:company_detail", args=[ada.company_id])).content.decode()
    assert "Ada Lovelace" in html and "Site visit" in html
    assert f"{reverse('people:create')}?company={ada.company_id}" in html


def test_company_search_and_suggestions(signed_in, ada):
    listed = signed_in.get(reverse("people:company_list"), {"q": "acm"}).content.decode()
    assert "Acme Robotics" in listed and "1–1 of 1" in listed
    options = signed_in.get(reverse("people:company_suggest"), {"company": "ac"}).content.decode()
    assert '<option value="Acme Robotics">' in options


def test_company_form_errors_sit_next_to_their_field(signed_in):
    html = signed_in.post(
        reverse("people:company_create"), {"name": "Initech", "domain": "not a domain"}
    ).content.decode()
    assert "not a domain name" in field_error(html, "id_domain")
    assert 'value="Initech"' in input_tag(html, "id_name")


# --- escaping ---------------------------------------------------------------------------

PAYLOAD = '<script>alert("x")</script>'


def test_markup_typed_into_names_and_notes_is_shown_as_text(signed_in, system):
    company = services.create_company(actor=system, data={"name": f"Evil {PAYLOAD} Inc"})
    person = services.create_person(
        actor=system,
        data={
            "first_name": PAYLOAD,
            "last_name": '"><img src=x onerror=alert(1)>',
            "company": company,
        },
    )
    services.log_activity(actor=system, person=person, kind="note", body=PAYLOAD)
    services.change_stage(person=person, to_stage="recycled", actor=system, reason=PAYLOAD)
    pages = [
        reverse("people:list"),
        reverse("people:list") + "?q=%3Cscript",
        reverse("people:detail", args=[person.pk]),
        reverse("people:edit", args=[person.pk]),
        reverse("people:company_list"),
        reverse("people:company_detail", args=[company.pk]),
        reverse("people:company_suggest") + "?company=evil",
    ]
    for url in pages:
        html = signed_in.get(url).content.decode()
        assert PAYLOAD not in html, url
        assert "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url
