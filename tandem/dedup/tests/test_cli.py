"""`tandem duplicates scan` and `tandem duplicates export`."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from tandem.dedup.models import DuplicateCandidate
from tandem.dedup.services import dismiss_candidate
from tandem.dedup.tests.factories import SYSTEM, person


@pytest.fixture
def two_pairs(db):
    a = person("Jon", "Miller", company_name="Acme")
    b = person("John", "Miller", company_name="Acme")
    c = person("Anna", "Berg", postcode="10115", phone="+49 30 1234567", country="DE")
    d = person("Berg", "Anna", postcode="10115", phone="030 1234567", country="DE")
    person("Zoe", "Quist", company_name="Globex")
    return (a, b), (c, d)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("duplicates", *args, stdout=out)
    return out.getvalue()


def test_scan_prints_what_it_found_and_how_long_it_took(two_pairs):
    output = run("scan")
    assert "people compared" in output and "5" in output
    assert "new candidates" in output
    assert "Done in" in output
    assert DuplicateCandidate.objects.count() == 2


def test_scan_twice_stores_each_pair_once(two_pairs):
    run("scan")
    second = run("scan")
    assert DuplicateCandidate.objects.count() == 2
    assert "open candidates unchanged" in second


def test_export_writes_id_a_id_b_score_for_open_pairs_at_the_threshold(two_pairs, tmp_path):
    (a, b), (c, d) = two_pairs
    run("scan")
    out = tmp_path / "pairs.csv"
    message = run("export", "--out", str(out))
    assert "2 pairs" in message
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "id_a,id_b,score"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(int(r["id_a"]), int(r["id_b"])) for r in rows} == {(a.pk, b.pk), (c.pk, d.pk)}
    for r in rows:
        assert int(r["id_a"]) < int(r["id_b"])
        assert 0.85 <= float(r["score"]) <= 1
    assert [float(r["score"]) for r in rows] == sorted(
        (float(r["score"]) for r in rows), reverse=True
    )


def test_export_leaves_out_dismissed_pairs_and_pairs_below_the_threshold(two_pairs, tmp_path):
    (a, b), _ = two_pairs
    run("scan")
    dismiss_candidate(
        actor=SYSTEM, candidate=DuplicateCandidate.objects.get(person_a=a, person_b=b)
    )
    out = tmp_path / "pairs.csv"
    run("export", "--out", str(out), "--threshold", "1")  # scores top out at 0.99
    assert out.read_text(encoding="utf-8").splitlines() == ["id_a,id_b,score"]
    run("export", "--out", str(out))
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_export_to_a_missing_folder_is_a_clear_error(two_pairs, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        run("export", "--out", str(tmp_path / "nope" / "pairs.csv"))


def test_a_threshold_outside_0_to_1_is_refused(db):
    with pytest.raises(CommandError, match="--threshold"):
        run("scan", "--threshold", "85")
