"""One person per human, whatever the channel."""

import threading
import uuid

import pytest
from django.db import connection

from tandem.campaigns.models import Touchpoint
from tandem.campaigns.services import create_campaign
from tandem.capture.services import TouchpointIn, capture_person
from tandem.people.models import Person


def form_fill(**extra):
    return TouchpointIn(kind="form_fill", **extra)


def test_a_new_email_makes_a_person_and_a_touchpoint(system):
    result = capture_person(
        actor=system, data={"first_name": "Ada", "email": "Ada@Example.com"}, touchpoint=form_fill()
    )
    assert result.created
    assert result.person.email == "ada@example.com"
    assert result.touchpoint.person_id == result.person.pk


def test_a_known_email_in_another_case_adds_a_touchpoint_to_the_same_person(system):
    first = capture_person(
        actor=system, data={"first_name": "Ada", "email": "ada@example.com"}, touchpoint=form_fill()
    )
    again = capture_person(
        actor=system, data={"email": "  ADA@example.COM "}, touchpoint=form_fill()
    )
    assert again.person.pk == first.person.pk and not again.created
    assert Person.objects.count() == 1
    assert Touchpoint.objects.filter(person=first.person).count() == 2


def test_empty_fields_are_filled_and_differing_ones_only_proposed(system):
    capture_person(
        actor=system,
        data={"first_name": "Ada", "title": "CTO", "email": "ada@example.com"},
        touchpoint=form_fill(),
    )
    result = capture_person(
        actor=system,
        data={
            "first_name": "Ada",
            "title": "VP Engineering",
            "city": "London",
            "email": "ada@example.com",
        },
        touchpoint=form_fill(),
    )
    person = Person.objects.get(pk=result.person.pk)
    assert person.title == "CTO"  # never silently overwritten
    assert person.city == "London"  # empty, so filled
    assert result.proposed == {"title": "VP Engineering"}
    assert result.touchpoint.detail["proposed"] == {"title": "VP Engineering"}


def test_utm_campaign_maps_to_the_campaign_key(system):
    campaign = create_campaign(actor=system, name="Spring Guide 2026")
    result = capture_person(
        actor=system,
        data={"email": "bo@example.com"},
        touchpoint=form_fill(utm={"utm_campaign": "Spring-Guide-2026", "utm_source": "linkedin"}),
    )
    assert result.touchpoint.campaign == campaign
    assert result.touchpoint.utm_source == "linkedin"


def test_a_replayed_offline_entry_writes_nothing_new(system):
    entry = str(uuid.uuid4())
    first = capture_person(
        actor=system,
        data={"last_name": "Booth"},
        touchpoint=TouchpointIn(kind="booth_scan", client_uuid=entry),
    )
    again = capture_person(
        actor=system,
        data={"last_name": "Booth"},
        touchpoint=TouchpointIn(kind="booth_scan", client_uuid=entry),
    )
    assert again.replayed and again.person.pk == first.person.pk
    assert Person.objects.count() == 1 and Touchpoint.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_of_one_email_make_one_person():
    from tandem.accounts.actor import Actor

    actor = Actor.system("test")
    errors = []
    barrier = threading.Barrier(6)

    def submit(i):
        try:
            barrier.wait()
            capture_person(
                actor=actor,
                data={
                    "first_name": f"T{i}",
                    "email": f" {'RACE' if i % 2 else 'race'}@Example.com",
                },
                touchpoint=form_fill(),
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Person.objects.count() == 1
    assert Touchpoint.objects.count() == 6


def test_touchpoints_appear_on_the_timeline_with_campaign_and_proposed_values(system):
    from tandem.people.queries import person_timeline

    campaign = create_campaign(actor=system, name="Guide")
    capture_person(
        actor=system,
        data={"email": "cy@example.com", "title": "CEO"},
        touchpoint=form_fill(campaign="guide"),
    )
    result = capture_person(
        actor=system, data={"email": "cy@example.com", "title": "CFO"}, touchpoint=form_fill()
    )
    entries = [e for e in person_timeline(result.person) if e.kind == "touchpoint"]
    assert len(entries) == 2
    assert any(campaign.name in e.title for e in entries)
    assert any("Proposed: title = CFO" in e.body for e in entries)


def test_a_capture_that_looks_like_a_known_person_is_flagged_for_review(
    system, django_capture_on_commit_callbacks
):
    from tandem.dedup.models import DuplicateCandidate

    first = capture_person(
        actor=system,
        data={
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace@navy.example",
            "phone": "+1 202 555 0143",
        },
        touchpoint=form_fill(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        second = capture_person(
            actor=system,
            data={
                "first_name": "Grace",
                "last_name": "Hopper",
                "email": "g.hopper@home.example",
                "phone": "(202) 555-0143",
            },
            touchpoint=TouchpointIn(kind="booth_scan"),
        )
    assert second.created
    pair = DuplicateCandidate.objects.get()
    assert {pair.person_a_id, pair.person_b_id} == {first.person.pk, second.person.pk}
    assert pair.found_by == "capture"
