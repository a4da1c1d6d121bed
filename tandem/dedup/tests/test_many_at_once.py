"""A big batch of new people (an import's 500-id slice) is checked in one task without
hitting SQLite's limit on expression depth."""

from __future__ import annotations

import pytest

from tandem.dedup.models import DuplicateCandidate
from tandem.dedup.tasks import find_duplicates
from tandem.people.models import Person, PersonEmail


@pytest.mark.django_db
def test_five_hundred_new_people_are_checked_at_once_and_their_pair_is_found():
    people = Person.objects.bulk_create(
        [Person(first_name=f"First{i}", last_name=f"Last{i}") for i in range(500)]
        + [Person(first_name="First7", last_name="Last7")]
    )
    PersonEmail.objects.bulk_create(
        [
            PersonEmail(person=p, email=f"first.last{i}@example.com", is_primary=True,
                        email_normalized=f"first.last{i}@example.com")
            for i, p in enumerate(people[:500])
        ]
        + [PersonEmail(person=people[500], email="first.last7+fair@example.com", is_primary=True,
                       email_normalized="first.last7+fair@example.com")]
    )  # fmt: skip
    find_duplicates.call(person_ids=[p.pk for p in people], found_by="import")
    pairs = set(DuplicateCandidate.objects.values_list("person_a_id", "person_b_id"))
    assert (people[7].pk, people[500].pk) in pairs


@pytest.mark.django_db
def test_more_than_a_thousand_pairs_found_at_once_are_all_stored():
    twins = Person.objects.bulk_create(
        [Person(first_name=f"Twin{i}", last_name=f"Same{i}", postcode=f"{10000 + i}")
         for i in range(600) for _ in range(3)]
    )  # fmt: skip
    stored = find_duplicates.call(person_ids=[p.pk for p in twins], found_by="import")
    assert stored == DuplicateCandidate.objects.count() > 1000  # up to three pairs a trio
