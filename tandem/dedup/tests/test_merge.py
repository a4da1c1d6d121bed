"""Merging two people field by field, and undoing it exactly."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.campaigns.models import Touchpoint
from tandem.campaigns.services import record_touchpoint
from tandem.capture.consent import Proof, ensure_text, record_consent, withdraw_consent
from tandem.capture.models import Consent, ConsentEvent, ConsentPurpose, ConsentStatus
from tandem.core.models import AuditEvent
from tandem.dedup.models import CandidateStatus, DuplicateCandidate, Merge
from tandem.dedup.services import (
    default_choices,
    dismiss_candidate,
    find_candidates_for,
    merge_people,
    scan_all,
    unmerge,
)
from tandem.dedup.tests.factories import SYSTEM, company, person
from tandem.people import services as people
from tandem.people.models import (
    Activity,
    CustomField,
    Person,
    PersonEmail,
    PersonPhone,
    StageChange,
)
from tandem.people.queries import person_detail


def state_of(person: Person) -> dict:
    """Everything a merge may touch of one person, for exact before/after comparisons."""
    person = Person.objects.get(pk=person.pk)
    fields = {
        f.attname: getattr(person, f.attname)
        for f in Person._meta.concrete_fields
        if f.attname not in ("updated_at",)
    }
    return {
        "fields": fields,
        "emails": sorted(
            PersonEmail.objects.filter(person=person).values_list("id", "email", "is_primary")
        ),
        "phones": sorted(
            PersonPhone.objects.filter(person=person).values_list("id", "number", "is_primary")
        ),
        "touchpoints": sorted(
            Touchpoint.objects.filter(person=person).values_list("id", flat=True)
        ),
        "activities": sorted(Activity.objects.filter(person=person).values_list("id", flat=True)),
        "stage_changes": sorted(
            StageChange.objects.filter(person=person).values_list("id", "from_stage", "to_stage")
        ),
        "consents": sorted(
            Consent.objects.filter(person=person).values_list("id", "purpose_id", "status")
        ),
        "consent_events": sorted(
            ConsentEvent.objects.filter(consent__person=person).values_list("id", "consent_id")
        ),
    }


@pytest.fixture
def newsletter(db) -> ConsentPurpose:
    return ConsentPurpose.objects.create(key="newsletter", name="Newsletter")


@pytest.fixture
def pair(db, newsletter):
    """Two records of one human, each with its own history."""
    CustomField.objects.create(entity="person", key="budget", label="Budget", field_type="number")
    CustomField.objects.create(entity="person", key="vip", label="VIP", field_type="bool")
    acme = company("Acme")
    survivor = person(
        "Jon",
        "Miller",
        email="jon@acme.example",
        phone="+49 30 1234567",
        company_name="Acme",
        title="",
        city="Berlin",
        custom_fields={"budget": 5000},
    )
    merged = person(
        "John",
        "Miller",
        email="john.miller@gmail.com",
        phone="+49 170 1234567",
        title="Head of IT",
        city="Potsdam",
        custom_fields={"vip": True},
    )
    people.add_email(actor=SYSTEM, person=merged, email="jm@old.example")
    people.add_phone(actor=SYSTEM, person=merged, phone="+49 30 1234567")  # shared with survivor
    for target in (survivor, merged):
        record_touchpoint(person_id=target.pk, kind="form_fill")
        people.log_activity(actor=SYSTEM, kind="note", person=target, body=f"note on {target}")
    people.change_stage(actor=SYSTEM, person=merged, to_stage="mql")
    text = ensure_text(purpose=newsletter, text="Send me the newsletter.")
    record_consent(person=survivor, text=text, proof=Proof(method="form"), double_opt_in=False)
    # The merged record withdrew later: the more recent decision wins.
    record_consent(person=merged, text=text, proof=Proof(method="form"), double_opt_in=False)
    withdraw_consent(person=merged, purpose=newsletter, proof=Proof(method="unsubscribe"))
    Consent.objects.filter(person=survivor).update(updated_at=timezone.now() - dt.timedelta(days=3))
    assert acme.pk == Person.objects.get(pk=survivor.pk).company_id
    return Person.objects.get(pk=survivor.pk), Person.objects.get(pk=merged.pk)


def test_merge_moves_everything_to_the_survivor_and_hides_the_merged_person(pair, newsletter):
    survivor, merged = pair
    merged_emails = set(PersonEmail.objects.filter(person=merged).values_list("id", flat=True))
    merged_touchpoints = set(Touchpoint.objects.filter(person=merged).values_list("id", flat=True))
    merged_activities = set(Activity.objects.filter(person=merged).values_list("id", flat=True))
    merged_changes = set(StageChange.objects.filter(person=merged).values_list("id", flat=True))

    merge = merge_people(actor=SYSTEM, survivor=survivor, merged=merged, choices={})

    survivor = Person.objects.get(pk=survivor.pk)
    assert merged_emails <= set(
        PersonEmail.objects.filter(person=survivor).values_list("id", flat=True)
    )
    assert set(PersonEmail.objects.filter(person=survivor).values_list("email", flat=True)) == {
        "jon@acme.example",
        "john.miller@gmail.com",
        "jm@old.example",
    }
    assert PersonEmail.objects.filter(person=survivor, is_primary=True).count() == 1
    assert set(PersonPhone.objects.filter(person=survivor).values_list("number", flat=True)) == {
        "+49301234567",
        "+491701234567",
    }
    assert merged_touchpoints <= set(
        Touchpoint.objects.filter(person=survivor).values_list("id", flat=True)
    )
    assert merged_activities <= set(
        Activity.objects.filter(person=survivor).values_list("id", flat=True)
    )
    assert merged_changes <= set(
        StageChange.objects.filter(person=survivor).values_list("id", flat=True)
    )
    # One consent per purpose; the more recent decision (withdrawn) is kept, with all the proof.
    consent = Consent.objects.get(person=survivor, purpose=newsletter)
    assert consent.status == ConsentStatus.WITHDRAWN
    assert consent.events.count() == 3
    # Custom fields of both.
    assert survivor.custom_fields == {"budget": 5000, "vip": True}

    merged = Person.objects.get(pk=merged.pk)
    assert merged.deleted_at is not None and merged.merged_into_id == survivor.pk
    assert not Person.objects.live().filter(pk=merged.pk).exists()
    with pytest.raises(Person.DoesNotExist):
        person_detail(merged.pk)
    assert merge.before["merged"]["first_name"] == "John"
    assert sorted(merge.moved["emails"]) == sorted(merged_emails)
    assert {e.event for e in AuditEvent.objects.filter(target_id=survivor.pk)} >= {"merged"}
    assert AuditEvent.objects.filter(target_id=merged.pk, event="merged_into").exists()


def test_each_field_takes_the_picked_value(pair):
    survivor, merged = pair
    merge_people(
        actor=SYSTEM,
        survivor=survivor,
        merged=merged,
        choices={
            "first_name": "merged",
            "title": "merged",
            "city": "Hamburg",
            "email": "merged",
            "stage": "merged",
            "company": "survivor",
        },
    )
    survivor = Person.objects.get(pk=survivor.pk)
    assert survivor.first_name == "John" and survivor.first_name_key == "john"
    assert survivor.title == "Head of IT"
    assert survivor.city == "Hamburg"
    assert survivor.email == "john.miller@gmail.com"
    assert (
        PersonEmail.objects.get(person=survivor, is_primary=True).email == "john.miller@gmail.com"
    )
    assert survivor.stage == "mql"
    assert StageChange.objects.filter(person=survivor, to_stage="mql").count() == 2


def test_defaults_take_the_non_empty_value_and_the_stage_further_along(pair):
    survivor, merged = pair
    choices = default_choices(survivor, merged)
    assert choices["title"] == "merged"  # the survivor's is empty
    assert choices["company"] == "survivor"  # the merged person has none
    assert choices["stage"] == "merged"  # MQL is further than lead
    assert choices["custom:vip"] == "merged" and choices["custom:budget"] == "survivor"


def test_bad_choices_name_the_field(pair):
    survivor, merged = pair
    with pytest.raises(ValidationError) as err:
        merge_people(
            actor=SYSTEM,
            survivor=survivor,
            merged=merged,
            choices={"owner": "somebody", "country": "Germany", "shoe_size": "merged"},
        )
    assert set(err.value.message_dict) == {"owner", "country", "shoe_size"}
    assert Person.objects.get(pk=merged.pk).deleted_at is None


def test_unmerge_restores_both_people_exactly(pair):
    survivor, merged = pair
    before = (state_of(survivor), state_of(merged))
    merge = merge_people(
        actor=SYSTEM,
        survivor=survivor,
        merged=merged,
        choices={"email": "merged", "phone": "merged", "stage": "merged", "title": "merged"},
    )
    assert state_of(survivor) != before[0]

    unmerge(actor=SYSTEM, merge=merge)

    assert (state_of(survivor), state_of(merged)) == before
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert Person.objects.live().filter(pk=merged.pk).exists()
    assert AuditEvent.objects.filter(target_id=merged.pk, event="unmerged").exists()
    with pytest.raises(ValidationError):
        unmerge(actor=SYSTEM, merge=merge)


def test_a_survivor_field_changed_after_the_merge_keeps_its_new_value_on_unmerge(pair):
    survivor, merged = pair
    merge = merge_people(actor=SYSTEM, survivor=survivor, merged=merged, choices={})
    people.update_person(actor=SYSTEM, person=survivor, data={"city": "Leipzig"})
    unmerge(actor=SYSTEM, merge=merge)
    assert Person.objects.get(pk=survivor.pk).city == "Leipzig"
    assert Person.objects.get(pk=merged.pk).city == "Potsdam"


def test_a_merged_person_cannot_be_merged_again(pair):
    survivor, merged = pair
    merge_people(actor=SYSTEM, survivor=survivor, merged=merged)
    other = person("Jonny", "Miller", company_name="Acme")
    with pytest.raises(ValidationError) as err:
        merge_people(actor=SYSTEM, survivor=other, merged=merged)
    assert "merged" in err.value.message_dict


def test_merging_resolves_the_candidate_and_unmerge_reopens_it(pair):
    survivor, merged = pair
    find_candidates_for([survivor.pk, merged.pk], "scan")
    candidate = DuplicateCandidate.objects.get()
    merge = merge_people(actor=SYSTEM, survivor=survivor, merged=merged)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.MERGED and candidate.resolved_at
    unmerge(actor=SYSTEM, merge=merge)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.OPEN


def test_not_duplicates_is_never_reopened_by_a_scan(db):
    first = person("Jon", "Miller", company_name="Acme")
    second = person("John", "Miller", company_name="Acme")
    scan_all()
    candidate = DuplicateCandidate.objects.get()
    dismiss_candidate(actor=SYSTEM, candidate=candidate)
    result = scan_all()
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.DISMISSED
    assert result.store.resolved == 1 and result.store.created == 0
    assert DuplicateCandidate.objects.count() == 1
    assert (candidate.person_a_id, candidate.person_b_id) == (first.pk, second.pk)


def test_scanning_twice_stores_each_pair_once(db):
    person("Jon", "Miller", company_name="Acme")
    person("John", "Miller", company_name="Acme")
    person("Anna", "Berg", postcode="10115")
    person("Berg", "Anna", postcode="10115")
    first = scan_all()
    second = scan_all()
    assert first.store.created == 2
    assert second.store.created == 0 and second.store.unchanged == 2
    assert DuplicateCandidate.objects.count() == 2


def test_a_salesperson_merges_only_people_they_may_edit(db, salesperson, other_salesperson):
    mine = person("Jon", "Miller", owner=salesperson)
    theirs = person("John", "Miller", owner=other_salesperson)
    unowned = person("Johnny", "Miller")
    actor = Actor.for_user(salesperson)
    with pytest.raises(PermissionDenied):
        merge_people(actor=actor, survivor=mine, merged=theirs)
    merge = merge_people(actor=actor, survivor=mine, merged=unowned)
    assert merge.actor == salesperson
    with pytest.raises(PermissionDenied):
        unmerge(actor=Actor.for_user(other_salesperson), merge=merge)


@pytest.mark.django_db(transaction=True)
def test_two_merges_of_the_same_people_at_once_leave_one_merge():
    first = person("Jon", "Miller", email="jon@acme.example")
    second = person("John", "Miller", email="john@acme.example")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def run(survivor_id: int, merged_id: int) -> None:
        try:
            barrier.wait()
            merge_people(
                actor=Actor.system("test"),
                survivor=Person.objects.get(pk=survivor_id),
                merged=Person.objects.get(pk=merged_id),
            )
            outcomes.append("merged")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(first.pk, second.pk)),
        threading.Thread(target=run, args=(second.pk, first.pk)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["merged", "refused"]
    assert Merge.objects.count() == 1
    assert Person.objects.live().count() == 1
    live = Person.objects.live().get()
    assert PersonEmail.objects.filter(person=live).count() == 2
