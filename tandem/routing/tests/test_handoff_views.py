"""The inbox ("My leads"), the Accept / Send back buttons on it and on the person page,
and the reasons admin: what a salesperson, their manager and an admin see and do."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tandem.accounts.models import Role
from tandem.core.models import AuditEvent
from tandem.people import services as people
from tandem.routing.models import Handoff, SendBackReason
from tandem.routing.tests.handoff_factories import (
    SYSTEM,
    campaign,
    make_user,
    routed_lead,
    team_with,
    touch,
)

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _order(html: str, names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: html.index(f">{n}<"))


def test_my_leads_lists_open_hand_offs_overdue_first_with_their_context(client, salesperson):
    with time_machine.travel(NOW - dt.timedelta(hours=3), tick=False):
        late, _ = routed_lead(salesperson, last_name="Late", due_in=dt.timedelta(hours=1))
        touch(late, campaign("Guide download"), NOW - dt.timedelta(hours=4))
        people.log_activity(actor=SYSTEM, kind="note", person=late, body="Asked for pricing.")
        # Called within the SLA, not yet accepted or sent back: waiting, not overdue.
        _, called = routed_lead(salesperson, last_name="Called", due_in=dt.timedelta(hours=1))
        Handoff.objects.filter(pk=called.pk).update(first_contact_at=timezone.now())
    with time_machine.travel(NOW, tick=False):
        routed_lead(salesperson, last_name="Soon", due_in=dt.timedelta(hours=2))
        routed_lead(salesperson, last_name="Later", due_in=dt.timedelta(days=2))
        routed_lead(salesperson, last_name="Nodue", due_in=None)
        _, h = routed_lead(salesperson, last_name="Answered")
        Handoff.objects.filter(pk=h.pk).update(status="accepted")
        client.force_login(salesperson)
        response = client.get("/leads/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _order(html, ["Later", "Nodue", "Soon", "Late"]) == ["Late", "Soon", "Later", "Nodue"]
    assert ">Answered<" not in html
    assert html.count("Overdue</span>") == 1 and "1 overdue" in html
    assert ">Called<" in html
    assert f'id="lead-{late.handoffs.get().pk}"' in html
    # Context: why, who routed, what they did, notes.
    assert "Score 72 reached the MQL threshold 60" in html
    assert "Rule “Territory DACH”" in html
    assert "Guide download" in html and "Asked for pricing." in html
    assert "Accept</button>" in html and "Send back to marketing</button>" in html


def test_a_full_inbox_counts_every_lead_and_no_overdue_one_hides_on_a_later_page(
    client, salesperson
):
    """Seen in the demo: 69 open hand-offs, the page said "25 waiting · 4 overdue" (its own
    25), and the fifth overdue lead sat on a page no link reached, below leads called in
    time months ago and never answered."""
    from tandem.routing.inbox import PAGE_SIZE

    called_ids = []
    with time_machine.travel(NOW - dt.timedelta(days=30), tick=False):
        for i in range(PAGE_SIZE + 2):
            _, h = routed_lead(salesperson, last_name=f"Called{i}", due_in=dt.timedelta(hours=4))
            called_ids.append(h.pk)
        Handoff.objects.filter(pk__in=called_ids).update(first_contact_at=timezone.now())
    with time_machine.travel(NOW - dt.timedelta(hours=5), tick=False):
        routed_lead(salesperson, last_name="Forgotten", due_in=dt.timedelta(hours=1))
    with time_machine.travel(dt.datetime(2025, 8, 12, 15, 0, tzinfo=dt.UTC), tick=False):
        _, old = routed_lead(salesperson, last_name="Lastyear", due_in=dt.timedelta(hours=17))
        Handoff.objects.filter(pk=old.pk).update(first_contact_at=timezone.now())
    with time_machine.travel(NOW, tick=False):
        client.force_login(salesperson)
        first = client.get("/leads/").content.decode()
        second = client.get("/leads/?page=2").content.decode()
        past = client.get("/leads/?page=9")
        bad = client.get("/leads/?page=abc")
    assert f"{PAGE_SIZE + 4} waiting" in first and "1 overdue" in first
    # A lead due more than a year ago says its year (it read "Wed 13 Aug" in the demo).
    assert "Wed 13 Aug 2025, 08:00" in first and "Tue 12 Aug 2025, 15:00" in first
    assert ">Forgotten<" in first
    assert first.index(">Forgotten<") < first.index(">Called0<")  # the late one on top
    assert f"1–{PAGE_SIZE} shown" in first and 'href="/leads/?page=2"' in first
    assert f"Called{PAGE_SIZE + 1}<" in second and ">Forgotten<" not in second
    assert f"{PAGE_SIZE + 1}–{PAGE_SIZE + 4} shown" in second and 'rel="prev"' in second
    assert past.status_code == 200 and "past the last" in past.content.decode()
    assert bad.status_code == 400 and "page: a whole number" in bad.content.decode()


def test_a_manager_opens_a_team_members_inbox_but_not_another_teams(client, salesperson, manager):
    team_with("DACH", salesperson, manager)
    other = make_user("olga", Role.SALESPERSON)
    routed_lead(salesperson, last_name="Samslead")
    client.force_login(manager)
    page = client.get("/leads/")
    assert "No leads are waiting for you" in page.content.decode()
    assert f'<option value="{salesperson.pk}"' in page.content.decode()  # the switch
    theirs = client.get(f"/leads/?owner={salesperson.pk}")
    assert theirs.status_code == 200 and ">Samslead<" in theirs.content.decode()
    assert client.get(f"/leads/?owner={other.pk}").status_code == 403
    assert client.get("/leads/?owner=abc").status_code == 400
    assert client.get("/leads/?owner=99999").status_code == 404


def test_accept_from_the_inbox_without_javascript(client, salesperson):
    person, _ = routed_lead(salesperson)
    client.force_login(salesperson)
    response = client.post(f"/people/{person.pk}/handoff/accept/", {"next": "/leads/"})
    assert response.status_code == 302 and response["Location"] == "/leads/"
    person.refresh_from_db()
    assert person.stage == "sal"
    again = client.post(f"/people/{person.pk}/handoff/accept/", {"next": "https://evil.example/"})
    assert again["Location"] == f"/people/{person.pk}/"  # no open redirect; the error is shown
    page = client.get(again["Location"])
    assert "has no open hand-off" in page.content.decode()


def test_accept_with_htmx_swaps_the_buttons_for_the_answer(client, salesperson):
    person, _ = routed_lead(salesperson)
    client.force_login(salesperson)
    response = client.post(f"/people/{person.pk}/handoff/accept/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "now sales accepted" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_accept_with_htmx_on_the_person_page_reloads_it_with_the_answer(client, salesperson):
    """The person page's hand-off card said "Waiting for the owner" above the answer: the
    page is loaded again instead, the message with it."""
    person, _ = routed_lead(salesperson)
    client.force_login(salesperson)
    response = client.post(
        f"/people/{person.pk}/handoff/accept/",
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver/people/{person.pk}/"},
    )
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    page = client.get(f"/people/{person.pk}/").content.decode()
    assert "now sales accepted" in page
    assert "Waiting for the owner" not in page and "Accepted</span>" in page


def test_send_back_form_keeps_values_and_names_the_missing_reason(client, salesperson):
    person, _ = routed_lead(salesperson)
    client.force_login(salesperson)
    page = client.get(f"/people/{person.pk}/handoff/send-back/")
    assert page.status_code == 200 and "Not the decision maker" in page.content.decode()
    refused = client.post(f"/people/{person.pk}/handoff/send-back/", {"note": "Keep me"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "This field is required" in html and "Keep me" in html
    htmx = client.post(
        f"/people/{person.pk}/handoff/send-back/",
        {"note": "Keep me"},
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 200 and "This field is required" in htmx.content.decode()
    assert "<html" not in htmx.content.decode()
    sent = client.post(
        f"/people/{person.pk}/handoff/send-back/",
        {"reason": "bad_timing", "note": "Next budget year.", "next": "/leads/"},
    )
    assert sent.status_code == 302 and sent["Location"] == "/leads/"
    person.refresh_from_db()
    assert (person.stage, person.owner) == ("recycled", None)
    follow = client.get("/leads/")
    assert "Sent" in follow.content.decode() and "Bad timing" in follow.content.decode()


def test_the_person_page_shows_the_hand_off_and_buttons_only_to_who_may_answer(
    client, salesperson, other_salesperson, admin
):
    person, _ = routed_lead(salesperson)
    client.force_login(other_salesperson)
    html = client.get(f"/people/{person.pk}/").content.decode()
    assert 'id="handoff"' in html and "Waiting for the owner" in html
    assert "Accept</button>" not in html
    client.force_login(admin)
    html = client.get(f"/people/{person.pk}/").content.decode()
    assert "Accept</button>" in html and f"/people/{person.pk}/handoff/send-back/" in html
    client.force_login(salesperson)
    client.post(
        f"/people/{person.pk}/handoff/send-back/", {"reason": "not_a_fit", "note": "Too small."}
    )
    html = client.get(f"/people/{person.pk}/").content.decode()
    assert "Sent back" in html and "Not a fit" in html and "Too small." in html
    assert "Accept</button>" not in html


def test_a_person_never_routed_has_no_hand_off_card(client, salesperson):
    person = people.create_person(actor=SYSTEM, data={"last_name": "Plain"})
    client.force_login(salesperson)
    assert 'id="handoff"' not in client.get(f"/people/{person.pk}/").content.decode()


def test_the_menu_links_my_leads_for_everyone_and_send_backs_for_marketing(
    client, salesperson, marketer
):
    client.force_login(salesperson)
    html = client.get("/leads/").content.decode()
    assert 'href="/leads/"' in html and 'href="/reports/send-backs/"' not in html
    client.force_login(marketer)
    html = client.get("/leads/").content.decode()
    assert 'href="/reports/send-backs/"' in html


def test_an_admin_adds_renames_and_retires_a_reason(client, admin):
    client.force_login(admin)
    assert "Not the decision maker" in client.get("/admin/send-back-reasons/").content.decode()
    bad = client.post("/admin/send-back-reasons/new/", {"key": "spam", "label": "Spam again"})
    assert bad.status_code == 400 and "already" in bad.content.decode()
    made = client.post(
        "/admin/send-back-reasons/new/",
        {"key": "no_project", "label": "No project", "is_active": "on"},
    )
    assert made.status_code == 302
    reason = SendBackReason.objects.get(key="no_project")
    assert reason.position == 80 and reason.is_active
    client.post(
        f"/admin/send-back-reasons/{reason.pk}/", {"label": "No project yet", "position": "5"}
    )
    reason.refresh_from_db()
    assert (reason.label, reason.position, reason.is_active) == ("No project yet", 5, False)
    assert list(
        AuditEvent.objects.filter(target_type="routing.sendbackreason", target_id=reason.pk)
        .order_by("id")
        .values_list("event", flat=True)
    ) == ["created", "changed"]
    assert timezone.now()


def test_a_leads_score_explanation_and_consent_are_on_its_card(
    client, salesperson, django_capture_on_commit_callbacks
):
    from tandem.scoring.tests.factories import active_rules, fit

    active_rules([fit("title", "contains", "Head", 10)])
    person, _ = routed_lead(salesperson)
    with django_capture_on_commit_callbacks(execute=True):  # scoring rescores on commit
        people.update_person(actor=SYSTEM, person=person, data={"title": "Head of IT"})
    client.force_login(salesperson)
    html = client.get("/leads/").content.decode()
    assert '<span class="score-total">10</span>' in html
    assert "+10 " in html  # the rule's words, as on the person page
    assert f'hx-get="/leads/{person.pk}/consent/"' in html
    consent = client.get(f"/leads/{person.pk}/consent/")
    assert consent.status_code == 200
    assert "consents" in consent.content.decode()  # capture's section, through people's registry
