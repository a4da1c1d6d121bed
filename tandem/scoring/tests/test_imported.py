"""People an import brings in or changes are scored when it finishes, not at the next
daily rescore: a trade-show list's MQLs are routed the day it is imported."""

from __future__ import annotations

import pytest

from tandem.imports.tests.factories import run_file, write_csv
from tandem.people import services as people
from tandem.people.models import Person
from tandem.scoring.models import PersonScore
from tandem.scoring.tests.factories import active_rules, fit

pytestmark = pytest.mark.django_db

HEADER = ["First Name", "Last Name", "Email", "Job Title"]


def _fit_scores() -> dict[str, int]:
    return dict(PersonScore.objects.values_list("person__email", "fit_score"))


def test_an_import_scores_the_people_it_creates_and_rescores_the_ones_it_changes(
    tmp_path, system, django_capture_on_commit_callbacks
):
    active_rules([fit("title", "contains", "Head of", 20)])
    with django_capture_on_commit_callbacks(execute=True):
        known = people.create_person(
            actor=system, data={"first_name": "Lin", "title": "Analyst"}, email="lin@acme.example"
        )
    assert _fit_scores() == {"lin@acme.example": 0}
    path = write_csv(
        tmp_path / "show.csv",
        [
            HEADER,
            ["Ada", "Lovelace", "ada@acme.example", "Head of Engines"],
            ["Grace", "Hopper", "grace@navy.example", "Admiral"],
            ["Lin", "Wu", "lin@acme.example", "Head of Data"],
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = run_file(path, actor=system, policy="overwrite")
    assert (job.created_count, job.updated_count) == (2, 1)
    assert _fit_scores() == {
        "ada@acme.example": 20,
        "grace@navy.example": 0,
        "lin@acme.example": 20,  # her new title counts at once
    }
    assert Person.objects.get(pk=known.pk).title == "Head of Data"
