"""Which pairs are held to be one human, and why."""

from __future__ import annotations

import pytest

from tandem.dedup.matching import Record, candidate_pairs, mailbox, score_pair, street_key
from tandem.dedup.models import DuplicateCandidate
from tandem.dedup.services import duplicate_threshold, find_candidates_for
from tandem.dedup.tests.factories import person

THRESHOLD = 0.85


def rec(pk: int, first: str, last: str, **extra) -> Record:
    return Record.build(id=pk, first_name=first, last_name=last, **extra)


def pairs_of(person_id: int) -> set[tuple[int, int]]:
    return set(
        DuplicateCandidate.objects.filter(person_a_id=person_id).values_list(
            "person_a_id", "person_b_id"
        )
    ) | set(
        DuplicateCandidate.objects.filter(person_b_id=person_id).values_list(
            "person_a_id", "person_b_id"
        )
    )


def test_the_default_threshold_is_085_and_comes_from_settings(settings):
    assert duplicate_threshold() == 0.85
    settings.TANDEM_DUPLICATE_THRESHOLD = 0.9
    assert duplicate_threshold() == 0.9


def test_swapped_first_and_last_name_at_the_same_company_match():
    match = score_pair(rec(1, "Anna", "Berg", company_id=7), rec(2, "Berg", "Anna", company_id=7))
    assert match.score >= THRESHOLD
    assert "same company" in match.reasons


def test_an_initial_matches_the_full_first_name_at_the_same_company():
    match = score_pair(rec(1, "J.", "Smith", company_id=3), rec(2, "John", "Smith", company_id=3))
    assert match.score >= THRESHOLD


def test_similar_names_at_the_same_company_match_with_reasons():
    match = score_pair(
        rec(1, "Jonathan", "Miller", company_id=3), rec(2, "Jonathon", "Miller", company_id=3)
    )
    assert match.score >= THRESHOLD
    assert "same company" in match.reasons
    assert any(r.startswith("name 0.9") for r in match.reasons)


def test_different_first_names_at_the_same_company_do_not_match():
    match = score_pair(rec(1, "John", "Smith", company_id=3), rec(2, "Mary", "Smith", company_id=3))
    assert match.score < THRESHOLD


def test_the_same_name_alone_is_not_enough():
    match = score_pair(rec(1, "John", "Smith", company_id=3), rec(2, "John", "Smith", company_id=4))
    assert match.score < THRESHOLD


def test_a_shared_phone_with_different_names_is_a_shared_line_not_a_duplicate():
    a = rec(1, "Peter", "Olsen", phones={"+4930123456"})
    b = rec(2, "Maria", "Olsen", phones={"+4930123456"})
    assert score_pair(a, b).score < THRESHOLD


def test_the_same_address_with_a_similar_name_matches():
    a = rec(1, "Sofia", "Lindqvist", street="12 Main Street", postcode="SW1A 1AA")
    b = rec(2, "Sophia", "Lindqvist", street="12 main st.", postcode="sw1a1aa")
    match = score_pair(a, b)
    assert match.score >= THRESHOLD
    assert "same street address" in match.reasons


def test_street_spellings_compare_equal():
    assert street_key("Hauptstraße 5") == street_key("Hauptstr. 5")
    assert street_key("12 Main Street") == street_key("12 main st")


def test_the_same_gmail_mailbox_matches_whatever_the_name():
    assert mailbox("Jane.Doe+news@googlemail.com") == mailbox("janedoe@gmail.com")
    a = rec(1, "Jane", "Doe", emails=["jane.doe+news@gmail.com"])
    b = rec(2, "", "", emails=["janedoe@gmail.com"])
    assert score_pair(a, b).score >= THRESHOLD


def test_blocking_only_compares_people_who_share_a_key():
    records = [
        rec(1, "Anna", "Berg", company_id=1),
        rec(2, "Berg", "Anna", company_id=1),
        rec(3, "Anna", "Berg", company_id=2),
        rec(4, "Zoe", "Quist", postcode="10115"),
    ]
    assert candidate_pairs(records) == {(1, 2)}


def test_same_phone_in_another_format_is_found_on_capture(db):
    first = person("Jon", "Miller", phone="+49 30 1234567", country="DE")
    second = person("John", "Miller", phone="030 1234567", country="DE")
    assert first.phone == second.phone == "+49301234567"
    result = find_candidates_for([second.pk], "capture")
    assert result.created == 1
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.person_a_id, candidate.person_b_id) == (first.pk, second.pk)
    assert candidate.found_by == "capture"
    assert "same phone" in candidate.reasons
    assert candidate.score >= THRESHOLD


def test_similar_names_at_the_same_company_are_found_on_capture(db):
    first = person("Katherine", "Olsen", company_name="Acme")
    second = person("Catherine", "Olsen", company_name="ACME")
    find_candidates_for([second.pk], "import")
    assert pairs_of(second.pk) == {(first.pk, second.pk)}


def test_swapped_names_in_the_same_postcode_are_found_on_capture(db):
    first = person("Anna", "Berg", postcode="10115", country="DE")
    second = person("Berg", "Anna", postcode="10115", country="DE")
    find_candidates_for([second.pk], "capture")
    assert pairs_of(second.pk) == {(first.pk, second.pk)}


def test_same_name_at_different_companies_is_not_found(db):
    person("John", "Smith", company_name="Acme", email="john@acme.example")
    second = person("John", "Smith", company_name="Globex", email="jsmith@globex.example")
    assert find_candidates_for([second.pk], "capture").created == 0
    assert not DuplicateCandidate.objects.exists()


@pytest.mark.parametrize("found_by", ["capture", "import"])
def test_finding_again_does_not_duplicate_the_pair(db, found_by):
    person("Jon", "Miller", company_name="Acme")
    second = person("John", "Miller", company_name="Acme")
    find_candidates_for([second.pk], found_by)
    again = find_candidates_for([second.pk], found_by)
    assert again.created == 0 and again.unchanged == 1
    assert DuplicateCandidate.objects.count() == 1


def test_family_members_sharing_a_line_and_an_address_do_not_match():
    home = {"street": "Lindenweg 4", "postcode": "10115", "phones": {"+4930123456"}}
    match = score_pair(rec(1, "Fiona", "Lausen", **home), rec(2, "Simon", "Lausen", **home))
    assert match.score < THRESHOLD
    assert "same phone" in match.reasons  # the evidence is shown, it just is not enough


def test_names_that_sound_alike_count_as_similar():
    a = rec(1, "Stefan", "Meyer", company_id=5)
    b = rec(2, "Stephan", "Meyer", company_id=5)
    assert score_pair(a, b).score >= THRESHOLD


def test_an_email_name_made_of_the_name_alone_is_no_evidence():
    a = rec(1, "Jane", "Doe", emails=["jane.doe@acme.example"])
    b = rec(2, "Jane", "Doe", emails=["jane.doe@globex.example"])
    assert score_pair(a, b).score < THRESHOLD
    assert candidate_pairs([a, b]) == set()


def test_a_distinctive_email_name_at_two_providers_matches():
    a = rec(1, "Jane", "Doe", emails=["jane.doe81@acme.example"])
    b = rec(2, "Jane", "Doe", emails=["jane.doe81@web.de"])
    match = score_pair(a, b)
    assert match.score >= THRESHOLD
    assert "same email name" in match.reasons


def test_blocking_finds_the_planted_pairs_among_thousands_while_comparing_few():
    from bench.dedup_scan import generate

    data = generate(3000, seed=11)
    records = {
        r.id: Record.build(
            id=r.id,
            first_name=r.first,
            last_name=r.last,
            company_id=r.company,
            postcode=r.postcode,
            country=r.country,
            street=r.street,
            city=r.city,
            phones=[r.phone] if r.phone else [],
            emails=[r.email] if r.email else [],
        )
        for r in data.rows
    }
    findable = {(min(p), max(p)) for p, kind in data.planted.items() if kind != "name_only"}
    pairs = candidate_pairs(records.values())
    assert findable <= pairs
    all_pairs = len(records) * (len(records) - 1) // 2
    assert len(pairs) < all_pairs / 100  # blocking compares under 1% of all pairs

    from tandem.dedup.matching import find_matches

    found = find_matches(records, threshold=THRESHOLD)
    assert findable <= set(found)
    decoys = {(min(p), max(p)) for p in data.decoys}
    assert len(decoys & set(found)) <= len(decoys) // 50
