"""The funnel's per-person facts follow the stage history, whoever writes it (ADR 0014).

Each test asks for the funnel once (so the facts are built), changes the history by
another way than the report knows of, and asks again: the second report must show
the change. Without the rule under test the facts would be stale and it would not.
"""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tandem.accounts.actor import Actor
from tandem.core.tests.threads import left_open
from tandem.dedup.services import merge_people, unmerge
from tandem.people.models import Person, StageChange
from tandem.people.services import erase_person
from tandem.reports import funnel, funnel_facts
from tandem.reports.models import FunnelFact, FunnelFactState
from tandem.reports.tests.funnel_history import at, person_with_history

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 15)
SYSTEM = Actor.system("test")


def report() -> funnel.Funnel:
    return funnel.build(funnel.parse_filters({"from": "2026-01", "to": "2026-02"}, today=TODAY))


def mql_velocity(result: funnel.Funnel) -> tuple[int, float | None]:
    row = next(v for v in result.velocity if str(v.stage) == "mql")
    return row.people, row.median_days


def change(person: Person, to_stage: str, when: dt.datetime) -> StageChange:
    """A stage change written straight to the table, as a bulk path (an import) does."""
    return StageChange.objects.create(
        person=person, from_stage=person.stage, to_stage=to_stage, changed_at=when, actor_label="x"
    )


def test_a_stage_change_written_after_a_report_shows_in_the_next_one():
    ann = person_with_history("Ann", [("lead", at(1, 5)), ("mql", at(1, 7))])
    first = report()
    assert first.total.reached[3] == 0  # nobody sales-accepted yet
    assert mql_velocity(first) == (0, None)

    change(ann, "sal", at(1, 10))  # stage today stays mql: only the history knows
    second = report()
    assert second.total.reached[3] == 1
    assert mql_velocity(second) == (1, 3.0)
    assert FunnelFact.objects.get(person=ann).reached == 4


@pytest.mark.django_db(transaction=True)  # outside a transaction, as in use: ids settle
def test_the_facts_are_built_once_then_only_the_people_with_new_history_are_folded():
    people = [
        person_with_history(f"P{i}", [("lead", at(1, 5 + i)), ("mql", at(1, 6 + i))])
        for i in range(3)
    ]
    first = funnel_facts.refresh()
    assert first.full and first.people == 3
    with CaptureQueriesContext(connection) as queries:
        assert funnel_facts.refresh().people == 0  # nothing new: no lock, no write
    assert not [
        q["sql"] for q in queries if q["sql"].lstrip().split()[0].upper() not in ("SELECT",)
    ]

    change(people[1], "sal", at(1, 20))
    again = funnel_facts.refresh()
    assert (again.full, again.people) == (False, 1)
    assert FunnelFact.objects.get(person=people[1]).hours_mql == (at(1, 20) - at(1, 7)).days * 24


def test_a_merge_folds_the_survivors_new_history_and_its_undo_folds_it_back():
    survivor = person_with_history("Sue", [("lead", at(1, 10))])
    merged = person_with_history("Sam", [("lead", at(1, 3)), ("mql", at(1, 5))])
    before = report()
    assert before.total.entered == 2
    assert before.total.reached[2] == 1  # Sam reached mql

    merge = merge_people(actor=SYSTEM, survivor=survivor, merged=merged, choices={})
    after = report()
    # Sam is gone into Sue, and Sue's history now holds Sam's lead → mql (2 days).
    assert after.total.entered == 1
    assert after.total.reached[2] == 1
    assert FunnelFact.objects.get(person=survivor).reached == 3
    assert FunnelFact.objects.get(person=survivor).hours_lead == 48

    unmerge(actor=SYSTEM, merge=merge)
    undone = report()
    assert undone.total.entered == 2
    assert FunnelFact.objects.get(person=survivor).reached == 2
    assert FunnelFact.objects.get(person=merged).reached == 3


def test_erasing_a_person_erases_their_folded_history():
    ann = person_with_history("Ann", [("lead", at(1, 5)), ("mql", at(1, 7))])
    report()
    assert FunnelFact.objects.filter(person_id=ann.pk).exists()
    erase_person(actor=SYSTEM, person=ann)
    assert not FunnelFact.objects.filter(person_id=ann.pk).exists()
    assert report().total.entered == 0


def test_a_rebuild_folds_everyone_again():
    ann = person_with_history("Ann", [("lead", at(1, 5)), ("mql", at(1, 7))])
    funnel_facts.refresh()
    FunnelFact.objects.filter(person=ann).update(reached=1, hours_lead=None)  # damaged
    assert funnel_facts.rebuild().people == 1
    fact = FunnelFact.objects.get(person=ann)
    assert (fact.reached, fact.hours_lead) == (3, 48)


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_late_with_a_lower_id_is_not_skipped():
    """PostgreSQL hands out ids before commit: a change can commit after one with a
    higher id. The watermark must not pass it (SQLite has one writer: the other
    transaction waits, and the same assertions hold)."""
    early = person_with_history("Early", [("lead", at(1, 5))])
    late = person_with_history("Late", [("lead", at(1, 6))])
    funnel_facts.refresh()
    with left_open(lambda: change(late, "mql", at(1, 8))):  # the lower id, committed last
        if connection.vendor == "postgresql":
            change(early, "mql", at(1, 7))  # a higher id, committed first
            funnel_facts.refresh()  # the late writer holds the table: the lock is not had
            assert FunnelFact.objects.get(person=early).reached == 3
    funnel_facts.refresh()
    assert FunnelFact.objects.get(person=late).reached == 3
    state = FunnelFactState.objects.get(pk=1)
    assert (
        state.last_change_id == StageChange.objects.order_by("-id").values_list("id", flat=True)[0]
    )


def _percentile(values: list[int], q: float) -> float:
    """percentile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@pytest.mark.parametrize("people", [1, 2, 3, 7, 10, 11, 40])
def test_velocity_is_percentile_cont_of_the_whole_hours(people):
    """The median and p90 come from a histogram of hours on both databases; they must
    equal percentile_cont over the durations (repeated hours included)."""
    rng = random.Random(people)
    hours = [rng.choice([1, 5, 5, 30, 31, 200, 777]) + rng.randrange(0, 3) for _ in range(people)]
    for i, h in enumerate(hours):
        start = at(1, 2) + dt.timedelta(hours=i)
        person_with_history(f"V{i}", [("lead", start), ("mql", start + dt.timedelta(hours=h))])
    lead = next(v for v in report().velocity if str(v.stage) == "lead")
    assert lead.people == people
    assert lead.median_days == round(_percentile(hours, 0.5) / 24, 1)
    assert lead.p90_days == round(_percentile(hours, 0.9) / 24, 1)


@pytest.mark.django_db(transaction=True)
def test_the_workers_beat_folds_new_history_before_anyone_asks():
    ann = person_with_history("Ann", [("lead", at(1, 5)), ("mql", at(1, 7))])
    stop = threading.Event()
    beat = threading.Thread(
        target=funnel_facts.refresh_loop, args=(stop,), kwargs={"poll_seconds": 0.05}
    )
    beat.start()
    try:
        for _ in range(100):
            if FunnelFact.objects.filter(person=ann, reached=3).exists():
                break
            stop.wait(0.05)
        assert FunnelFact.objects.get(person=ann).hours_lead == 48
    finally:
        stop.set()
        beat.join(5)
    assert not beat.is_alive()
