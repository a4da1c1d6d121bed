"""Duplicates that share only a (misspelt) name and address: no email, no phone (ADR 0006)."""

from __future__ import annotations

import numpy as np
import pytest

from tandem.dedup import linkage
from tandem.dedup.matching import Record
from tandem.dedup.models import DuplicateCandidate, MatchWeights
from tandem.dedup.services import find_candidates_for, scan_all
from tandem.dedup.tests.factories import person

# A labelled set: each key is one human; the rows under it are how they were typed.
HUMANS = {
    "margaret": [
        ("Margaret", "Thompson", "12 Oak Street", "30301", "Springfield"),
        ("Thompson", "Margaret", "12 Oak St.", "30301", "Springfield"),  # swapped, St
    ],
    "william": [
        ("William", "Carter", "48 Maple Avenue", "60614", "Riverton"),
        ("Bill", "Carter", "48 Maple Ave", "60641", "Riverton"),  # nickname, postcode digits
    ],
    "katherine": [
        ("Katherine", "Oduya", "7 Birch Lane", "10027", "Salem"),
        ("Kathryn", "Oduya", "7 Birch Ln", "10028", "Salem"),  # said alike, postcode digit
    ],
    "jonathan": [
        ("Jonathan", "Whitfield", "221 Cedar Road", "02139", "Dover"),
        ("J.", "Whitfield", "221 Cedar Rd", "02139", "Dover"),  # initial
        ("Jonathan", "Whitfeild", "212 Cedar Road", "", "Dover"),  # typo, number, no postcode
    ],
    # Different people: a common name in one town, and a household.
    "john_smith_1": [("John", "Smith", "5 Elm Street", "30301", "Springfield")],
    "john_smith_2": [("John", "Smith", "90 Lake Drive", "30305", "Springfield")],
    "john_smith_3": [("John", "Smith", "14 Pine Road", "60614", "Riverton")],
    "mary_carter": [("Mary", "Carter", "48 Maple Avenue", "60614", "Riverton")],
}


@pytest.fixture
def labelled(db) -> dict[int, str]:
    """Person id -> the human it is."""
    ids = {}
    for human, rows in HUMANS.items():
        for first, last, street, postcode, city in rows:
            p = person(first, last, street=street, postcode=postcode, city=city, country="US")
            ids[p.pk] = human
    return ids


def truth(ids: dict[int, str]) -> set[tuple[int, int]]:
    return {(a, b) for a in ids for b in ids if a < b and ids[a] == ids[b]}


def stored_pairs() -> set[tuple[int, int]]:
    return set(DuplicateCandidate.objects.values_list("person_a_id", "person_b_id"))


def test_the_scan_finds_name_and_address_duplicates_and_no_one_else(labelled):
    scan_all()
    assert stored_pairs() == truth(labelled)


def test_the_reasons_say_what_agreed(labelled):
    scan_all()
    by_human = {
        labelled[c.person_a_id]: c.reasons
        for c in DuplicateCandidate.objects.all()
        if labelled[c.person_a_id] == "william"
    }
    reasons = by_human["william"]
    assert "nickname" in reasons
    assert "postcode one character off" in reasons
    assert any(r.startswith("name and address weight") for r in reasons)


def test_a_captured_person_is_checked_against_name_and_address_too(labelled):
    new = person("Maggie", "Thompson", street="12 Oak Street", postcode="30310", city="Springfield")
    find_candidates_for([new.pk], "capture")
    paired = {labelled.get(a) or labelled.get(b) for a, b in stored_pairs() if new.pk in (a, b)}
    assert paired == {"margaret"}


def test_a_capture_check_finds_the_same_human_in_town_with_a_mistyped_postcode(db):
    first = person("Katherine", "Oduya", street="7 Birch Lane", postcode="10027", city="Salem")
    person("Kate", "Miller", street="7 Birch Lane", postcode="10027", city="Salem")
    new = person("Kathryn", "Oduya", street="7 Birch Ln.", postcode="10072", city="Salem")
    find_candidates_for([new.pk], "capture")
    assert stored_pairs() == {(first.pk, new.pk)}


def test_a_common_name_alone_in_one_town_is_not_a_duplicate(db):
    a = person("John", "Smith", city="Springfield", country="US")
    b = person("John", "Smith", city="Springfield", country="US")
    scan_all()
    assert (a.pk, b.pk) not in stored_pairs()


def _features(first: str, last: str, street: str = "", postcode: str = "", city: str = ""):
    record = Record.build(
        id=1, first_name=first, last_name=last, street=street, postcode=postcode, city=city
    )
    return linkage.features_of(record)


def test_levels_read_swapped_names_nicknames_initials_and_street_abbreviations():
    levels = dict(
        zip(
            linkage.FIELD_NAMES,
            linkage.compare(
                _features("Bill", "Carter", "48 Maple Ave.", "60641", "Riverton"),
                _features("Carter", "William", "48 Maple Avenue", "60614", "Riverton"),
            ),
            strict=True,
        )
    )
    named = {name: linkage.FIELDS[name][level] for name, level in levels.items()}
    assert named == {
        "first": "nickname",
        "last": "exact",
        "house": "exact",
        "road": "exact",
        "area": "postcode one character off",
    }
    first = linkage.compare(_features("R.", "Gomez"), _features("Bob", "Gomez"))[0]
    assert linkage.FIELDS["first"][first] == "initial"


def test_a_common_name_weighs_less_than_a_rare_one():
    model = linkage.Model(tf={"last": {"smith": 0.02, "quennell": 0.0002}})
    smiths = linkage.score(
        model, _features("Ann", "Smith", "", "30301"), _features("Ann", "Smith", "", "30301")
    )
    rare = linkage.score(
        model,
        _features("Ann", "Quennell", "", "30301"),
        _features("Ann", "Quennell", "", "30301"),
    )
    assert rare.weight - smiths.weight == pytest.approx(np.log2(0.02 / 0.0002))


def test_em_learns_the_m_values_the_data_was_made_with():
    """Pairs drawn from known m and u: EM over them gives back m within a few points."""
    rng = np.random.default_rng(3)
    true_m = {
        "first": [0, 0.6, 0.1, 0.1, 0.05, 0.15, 0, 0],
        "last": [0, 0.7, 0.2, 0.06, 0.04, 0],
        "house": [0, 0.8, 0.15, 0.05],
        "road": [0, 0.8, 0.15, 0.04, 0.01],
        "area": [0, 0.7, 0.2, 0.05, 0.03, 0.02],
    }
    model = linkage.Model()
    rows = []
    for n in range(20_000):
        source = true_m if n < 6_000 else model.u
        rows.append(
            [rng.choice(len(source[f]), p=np.array(source[f]) / sum(source[f])) for f in true_m]
        )
    trained = linkage.train(linkage.Model(), np.array(rows), people=1_000)
    for name in ("house", "road", "area"):
        assert trained.m[name] == pytest.approx(true_m[name], abs=0.06)
    # 6,000 of the 20,000 pairs match, of the 499,500 pairs of 1,000 people.
    assert trained.prior == pytest.approx(6_000 / 499_500, rel=0.15)


def test_a_large_scan_keeps_its_weights_for_the_capture_checks(db, settings):
    """With enough people the scan learns weights and keeps them; later checks use them."""
    settings.TANDEM_DUPLICATE_THRESHOLD = 0.85
    assert not MatchWeights.objects.exists()
    model = linkage.Model(trained_on={"candidate pairs": 1})
    from tandem.dedup.scan import current_weights, keep_weights

    keep_weights(model, people=10)
    assert current_weights().trained_on == {"candidate pairs": 1}
