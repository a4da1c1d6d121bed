"""The unfiltered funnel reads monthly rollups kept by deltas (ADR 0014): whoever changes
people or their history, it must say exactly what the per-person path says.

The tests run outside a test transaction (transaction=True), as in use: the watermarks
move on, so a person is only folded again if the rule under test finds them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from tandem.accounts.actor import Actor
from tandem.dedup.services import merge_people, unmerge
from tandem.people.models import Person, StageChange
from tandem.people.services import (
    change_stage,
    create_person,
    delete_person,
    erase_person,
    update_person,
)
from tandem.reports import funnel, funnel_facts
from tandem.reports.models import FunnelCell, FunnelFact, FunnelPersonChange
from tandem.reports.tests.funnel_history import person_with_history

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("test")
TODAY = dt.date(2026, 4, 15)
UTC = dt.UTC
RANGES = [
    ("2025-11", "2026-04"),
    ("2025-12", "2026-01"),
    ("2026-02", "2026-02"),
    ("2026-01", "2026-03"),
]
STAGES = [
    "subscriber",
    "lead",
    "mql",
    "sal",
    "opportunity",
    "customer",
    "advocate",
    "disqualified",
    "recycled",
]


def figures(start: str, end: str, *, per_person: bool = False) -> dict:
    filters = funnel.parse_filters({"from": start, "to": end}, today=TODAY)
    return funnel.as_dict(funnel.build(filters, per_person=per_person))


def assert_same(ranges=RANGES) -> None:
    for start, end in ranges:
        assert figures(start, end) == figures(start, end, per_person=True), (start, end)


def entered(month: str = "2026-01") -> int:
    return figures(month, month)["total"]["entered"]


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def when(rng: random.Random) -> dt.datetime:
    """Somewhere in Nov 2025 .. Mar 2026, often within an hour of a month's end."""
    month = rng.choice([(2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3)])
    if rng.random() < 0.3:
        start = dt.datetime(month[0] + month[1] // 12, month[1] % 12 + 1, 1, tzinfo=UTC)
        return start - dt.timedelta(minutes=rng.randrange(1, 120))
    return dt.datetime(*month, rng.randrange(1, 28), rng.randrange(24), tzinfo=UTC)


def random_history(rng: random.Random, name: str) -> Person:
    start = when(rng)
    moves, t = [], start
    for stage in rng.sample(STAGES, rng.randrange(1, 5)):
        moves.append((stage, t))
        t += dt.timedelta(hours=rng.randrange(1, 400))
    return person_with_history(name, moves)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_after_any_writes_the_rollup_says_what_the_per_person_path_says(seed, zone, settings):
    settings.TIME_ZONE = zone
    rng = random.Random(seed)
    people: list[Person] = [random_history(rng, f"H{i}") for i in range(12)]
    assert_same()
    merges = []
    for step in range(40):
        live = list(Person.objects.filter(deleted_at__isnull=True).order_by("pk"))
        person = rng.choice(live)
        op = rng.choice(
            [
                "history", "bare", "service_stage", "raw_change", "owner_source", "raw_stage",
                "soft_delete", "hard_delete", "merge", "unmerge", "created_at",
            ]
        )  # fmt: skip
        if op == "history":
            people.append(random_history(rng, f"N{step}"))
        elif op == "bare":  # no stage change at all: counted by their stage today
            bare = Person.objects.create(first_name=f"B{step}", stage=rng.choice(STAGES))
            Person.objects.filter(pk=bare.pk).update(created_at=when(rng))
        elif op == "service_stage":
            target = rng.choice([s for s in STAGES if s != person.stage])
            change_stage(person=person, to_stage=target, actor=SYSTEM, reason="test")
        elif op == "raw_change":  # an import's insert: history only, stage today unchanged
            StageChange.objects.create(
                person=person, from_stage=person.stage, to_stage=rng.choice(STAGES),
                changed_at=when(rng), actor_label="x",
            )  # fmt: skip
        elif op == "owner_source":
            update_person(actor=SYSTEM, person=person, data={"source": f"s{step}"})
        elif op == "raw_stage":
            raw(
                "UPDATE people_person SET stage = %s WHERE id = %s", [rng.choice(STAGES), person.pk]
            )
        elif op == "soft_delete":
            delete_person(actor=SYSTEM, person=person)
        elif op == "hard_delete":  # a bulk delete (the ORM's cascade, no service)
            try:
                with transaction.atomic():
                    Person.objects.filter(pk=person.pk).delete()
            except (ProtectedError, IntegrityError):  # kept by a merge's record
                pass
        elif op == "created_at":
            Person.objects.filter(pk=person.pk).update(created_at=when(rng))
        elif op == "merge" and len(live) > 1:
            other = rng.choice([p for p in live if p.pk != person.pk])
            merges.append(merge_people(actor=SYSTEM, survivor=person, merged=other, choices={}))
        elif op == "unmerge" and merges:
            merge = merges.pop(rng.randrange(len(merges)))
            # A person of it merged again or gone since: the undo refuses, nothing changes.
            with contextlib.suppress(ValidationError):
                unmerge(actor=SYSTEM, merge=merge)
        if step % 5 == 4:
            assert_same()
    assert_same()


def test_a_raw_stage_update_moves_the_person_today():
    """The UPDATE trigger on stage: no stage change is written, only the person."""
    ann = person_with_history("Ann", [("lead", dt.datetime(2026, 1, 5, tzinfo=UTC))])
    assert figures("2026-01", "2026-01")["total"]["today"]["lead"] == 1
    raw("UPDATE people_person SET stage = 'customer' WHERE id = %s", [ann.pk])
    after = figures("2026-01", "2026-01")["total"]
    assert (after["today"]["lead"], after["today"]["customer"], after["reached"]["customer"]) == (
        0,
        1,
        1,
    )
    assert_same()


def test_a_raw_soft_delete_takes_the_person_out():
    """The UPDATE trigger on deleted_at."""
    ann = person_with_history("Ann", [("lead", dt.datetime(2026, 1, 5, tzinfo=UTC))])
    assert entered() == 1
    raw("UPDATE people_person SET deleted_at = created_at WHERE id = %s", [ann.pk])
    assert entered() == 0
    raw("UPDATE people_person SET deleted_at = NULL WHERE id = %s", [ann.pk])
    assert entered() == 1
    assert_same()


def test_a_changed_created_at_moves_the_person_to_another_cohort():
    """The UPDATE trigger on created_at."""
    ann = person_with_history("Ann", [("lead", dt.datetime(2026, 1, 5, tzinfo=UTC))])
    assert (entered("2026-01"), entered("2026-02")) == (1, 0)
    Person.objects.filter(pk=ann.pk).update(created_at=dt.datetime(2026, 2, 3, tzinfo=UTC))
    assert (entered("2026-01"), entered("2026-02")) == (0, 1)
    assert_same()


def test_a_raw_hard_delete_takes_the_person_out():
    """The DELETE trigger: the history goes with the person, nothing else says so."""
    ann = person_with_history("Ann", [("lead", dt.datetime(2026, 1, 5, tzinfo=UTC))])
    person_with_history("Bob", [("lead", dt.datetime(2026, 1, 6, tzinfo=UTC))])
    assert entered() == 2
    raw("DELETE FROM people_stagechange WHERE person_id = %s", [ann.pk])
    raw("DELETE FROM people_person WHERE id = %s", [ann.pk])
    assert entered() == 1
    assert not FunnelFact.objects.filter(person_id=ann.pk).exists()  # the refresh dropped it
    assert_same()


def test_a_person_created_without_history_counts_by_their_stage_today():
    """New people are found by the person id watermark (there is no INSERT trigger)."""
    person_with_history("Ann", [("lead", dt.datetime(2026, 1, 5, tzinfo=UTC))])
    assert entered() == 1
    bare = Person.objects.create(first_name="Bare", stage="mql")
    Person.objects.filter(pk=bare.pk).update(created_at=dt.datetime(2026, 1, 9, tzinfo=UTC))
    after = figures("2026-01", "2026-01")["total"]
    assert (after["entered"], after["reached"]["mql"], after["today"]["mql"]) == (2, 1, 1)
    assert_same()


def test_only_the_watched_columns_queue_a_person():
    """Capture writes people all day: an edit of another field costs no queue row."""
    ann = create_person(actor=SYSTEM, data={"first_name": "Ann"})
    FunnelPersonChange.objects.all().delete()
    update_person(actor=SYSTEM, person=ann, data={"source": "fair", "title": "CEO"})
    raw("UPDATE people_person SET stage = stage WHERE id = %s", [ann.pk])  # not a change
    assert not FunnelPersonChange.objects.exists()
    change_stage(person=ann, to_stage="mql", actor=SYSTEM)
    assert list(FunnelPersonChange.objects.values_list("person_id", flat=True)) == [ann.pk]


def test_erasing_takes_the_persons_contribution_out_at_once():
    ann = person_with_history("Ann", [("lead", dt.datetime(2026, 1, 5, tzinfo=UTC))])
    assert entered() == 1
    erase_person(actor=SYSTEM, person=Person.objects.get(pk=ann.pk))
    assert not FunnelFact.objects.filter(person_id=ann.pk).exists()
    assert not FunnelCell.objects.exists()  # before any refresh
    assert entered() == 0
    assert_same()


def test_a_new_time_zone_rebuilds_the_cohort_months(settings):
    # 23:30 UTC on 31 January is February in Berlin.
    person_with_history("Ann", [("lead", dt.datetime(2026, 1, 31, 23, 30, tzinfo=UTC))])
    assert (entered("2026-01"), entered("2026-02")) == (1, 0)
    settings.TIME_ZONE = "Europe/Berlin"
    assert (entered("2026-01"), entered("2026-02")) == (0, 1)
    assert funnel_facts.refresh().people == 0  # rebuilt once, then nothing new
    assert_same()


def test_the_unfiltered_funnel_reads_the_rollups_and_a_filtered_one_the_people():
    person_with_history("Ann", [("lead", dt.datetime(2026, 1, 5, tzinfo=UTC))], source="web")
    figures("2026-01", "2026-01")  # built
    for params, table, other in (
        ({}, "reports_funnelcell", "people_person"),
        ({"source": "web"}, "people_person", "reports_funnelcell"),
    ):
        filters = funnel.parse_filters({"from": "2026-01", "to": "2026-01", **params}, today=TODAY)
        with CaptureQueriesContext(connection) as queries:
            assert funnel.build(filters).total.entered == 1
        report = next(q["sql"] for q in queries if "SELECT 'c'" in q["sql"])
        assert table in report and other not in report


def test_the_triggers_survive_every_migration():
    """SQLite drops a table's triggers when a migration rebuilds the table (Django's
    AlterField on SQLite copies people_person into a new one): a later people migration
    would silently stop the queue. If this fails, add a reports migration that creates
    the triggers again (0002's SQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'people_person'::regclass"
                " AND NOT tgisinternal"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'people_person'"
            )
        names = {row[0] for row in cursor.fetchall()}
    assert {"reports_funnel_person_update", "reports_funnel_person_delete"} <= names
