"""The stored credit is never stale: a report asked right after a change reflects it.

Each test computes a report (which stores the deal's credit), changes something the
way the app does, and asks again. Each covers one staleness rule of store.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tandem.attribution import store
from tandem.attribution.engine import MODELS, attribute, credit_paths, period_bounds
from tandem.attribution.models import DealCredit
from tandem.attribution.paths import deal_filter, load_paths
from tandem.attribution.tests.factories import at, campaign, deal, person, touch
from tandem.campaigns.models import Touchpoint
from tandem.core.tests.threads import left_open
from tandem.deals import services as deals
from tandem.deals.models import DealStatus
from tandem.dedup.services import merge_people, unmerge
from tandem.imports.models import ImportJob, ImportStatus
from tandem.imports.undo import undo_import
from tandem.people import services as people
from tandem.people.services import change_stage, erase_person

NOV = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}


def revenue(model: str = "linear", **period) -> dict[str, Decimal]:
    report = attribute(model=model, **(period or NOV))
    by_label = {i.label: i.revenue for i in report.items if i.revenue}
    assert sum(by_label.values()) == report.total_revenue
    return by_label


def pipeline(**period) -> dict[str, Decimal]:
    report = attribute(model="linear", **period)
    return {i.label: i.pipeline for i in report.items if i.pipeline}


@pytest.fixture
def camps(system):
    return {k: campaign(system, k) for k in ("c1", "c2", "c3")}


@pytest.fixture
def ann(system, camps):
    ann = person(system, "Ann", lead_at=at("2026-10-01"))
    touch(ann, at("2026-11-01"), camps["c1"])
    return ann


@pytest.fixture
def bob(system, camps):
    bob = person(system, "Bob", lead_at=at("2026-10-01"))
    touch(bob, at("2026-11-02"), camps["c2"])
    return bob


def won(contacts, amount: str = "1000.00"):
    return deal(contacts, amount=amount, created=at("2026-11-10"), closed=at("2026-11-20"))


def test_a_backdated_touchpoint_recorded_later_counts(ann, camps):
    won([ann])
    assert revenue() == {"C1": Decimal("1000.00")}
    assert DealCredit.objects.count() == 4  # stored, one row per grouping
    # Written as a bulk path would (no hook): found by the touchpoint watermark.
    Touchpoint.objects.create(
        person=ann, kind="call", occurred_at=at("2026-11-05"), campaign=camps["c2"]
    )
    assert revenue() == {"C1": Decimal("500.00"), "C2": Decimal("500.00")}


@pytest.mark.django_db(transaction=True)  # outside a transaction, as in use: ids settle
def test_touchpoints_after_the_path_keep_the_stored_rows(ann, camps):
    won([ann])
    revenue()
    Touchpoint.objects.create(
        person=ann, kind="call", occurred_at=at("2026-11-25"), campaign=camps["c2"]
    )
    store.sync()
    assert DealCredit.objects.count() == 4  # after the close: on no model's path
    Touchpoint.objects.create(
        person=ann, kind="call", occurred_at=at("2026-11-12"), campaign=camps["c2"]
    )
    assert revenue() == {"C1": Decimal("1000.00")}  # linear stops at the deal's creation
    # First, lead and opportunity touch C1 (67.5), close touch C2 (22.5), the rest 5 each.
    assert revenue("full_path") == {"C1": Decimal("725.00"), "C2": Decimal("275.00")}


def test_adding_and_removing_a_contact(system, ann, bob):
    made = won([ann])
    assert revenue() == {"C1": Decimal("1000.00")}
    deals.add_contact(actor=system, deal=made, person_id=bob.pk, role="champion")
    assert revenue() == {"C1": Decimal("500.00"), "C2": Decimal("500.00")}
    deals.remove_contact(actor=system, deal=made, person_id=ann.pk)
    assert revenue() == {"C2": Decimal("1000.00")}


def test_changing_the_amount(system, ann):
    made = won([ann])
    assert revenue() == {"C1": Decimal("1000.00")}
    deals.update_deal(actor=system, deal=made, data={"amount": "2500.00"})
    assert revenue() == {"C1": Decimal("2500.00")}


def test_winning_and_reopening(system, camps):
    now = timezone.now()
    period = {"start": timezone.localdate() - dt.timedelta(days=30), "end": timezone.localdate()}
    cy = person(system, "Cy", lead_at=now - dt.timedelta(days=20))
    touch(cy, now - dt.timedelta(days=15), camps["c3"])
    touch(cy, now - dt.timedelta(days=5), camps["c1"])  # after the creation: full_path's
    made = deal([cy], amount="800.00", created=now - dt.timedelta(days=10), status=DealStatus.OPEN)
    assert pipeline(**period) == {"C3": Decimal("800.00")}
    assert revenue(**period) == {}
    deals.close_deal(actor=system, deal=made, status=DealStatus.WON, reason_id=None)
    assert revenue(**period) == {"C3": Decimal("800.00")}
    assert pipeline(**period) == {}
    # Closed, full_path runs on to the close: C3 first, lead and opportunity (67.5 + 5),
    # C1 the close touch (22.5 + 5).
    assert revenue("full_path", **period) == {"C3": Decimal("580.00"), "C1": Decimal("220.00")}
    deals.reopen_deal(actor=system, deal=made)
    assert revenue(**period) == {}
    assert pipeline(**period) == {"C3": Decimal("800.00")}


def test_a_merge_moving_touchpoints_onto_a_contact_and_its_undo(system, ann, camps):
    won([ann])
    twin = person(system, "Annie", lead_at=at("2026-10-01"))
    touch(twin, at("2026-11-03"), camps["c3"])
    assert revenue() == {"C1": Decimal("1000.00")}
    merge = merge_people(actor=system, survivor=ann, merged=twin, choices={})
    assert revenue() == {"C1": Decimal("500.00"), "C3": Decimal("500.00")}
    unmerge(actor=system, merge=merge)
    assert revenue() == {"C1": Decimal("1000.00")}


def test_erasing_a_contact(system, ann, bob):
    won([ann, bob])
    assert revenue() == {"C1": Decimal("500.00"), "C2": Decimal("500.00")}
    erase_person(actor=system, person=bob)
    assert revenue() == {"C1": Decimal("1000.00")}


@pytest.mark.django_db(transaction=True)  # outside a transaction, as in use: ids settle
def test_undoing_an_import_that_brought_touchpoints(system, ann, camps):
    won([ann])
    job = ImportJob.objects.create(
        entity="people", file_path="x.csv", original_name="x.csv", status=ImportStatus.DONE
    )
    Touchpoint.objects.create(
        person=ann,
        kind="event_visit",
        occurred_at=at("2026-11-04"),
        campaign=camps["c2"],
        import_job_id=job.pk,
    )
    assert revenue() == {"C1": Decimal("500.00"), "C2": Decimal("500.00")}
    undo_import(actor=system, job=job)  # deletes the touchpoint: no id to see, the job says
    assert revenue() == {"C1": Decimal("1000.00")}
    assert store.sync() == 0  # seen once: the next reports read the rows again


def test_a_contact_becoming_a_lead_later_moves_the_w_shaped_lead_touch(system, camps):
    # Dee was created a subscriber: her lead moment is her creation until she becomes one.
    dee = people.create_person(
        actor=system,
        data={"first_name": "Dee", "last_name": "Lovelace"},
        stage="subscriber",
        created_at=at("2026-10-01"),
    )
    for day, camp in (("2026-10-05", "c1"), ("2026-10-10", "c2"), ("2026-10-15", "c3")):
        touch(dee, at(day), camps[camp])
    touch(dee, at("2026-10-20"), camps["c1"])
    won([dee])
    before = revenue("w_shaped")
    change_stage(
        person=dee,
        to_stage="lead",
        actor=system,
        reason="Replied",
        changed_at=at("2026-10-16"),
    )
    after = revenue("w_shaped")
    # The lead touch went from the first (C1 on 10-05) to C3 (10-15).
    assert before != after
    assert after["C3"] == Decimal("300.00")


@pytest.mark.parametrize("model", list(MODELS))
def test_the_stored_credit_is_what_the_paths_give(system, ann, bob, camps, model):
    won([ann, bob], amount="1000.01")
    deal([bob], amount="333.33", created=at("2026-11-12"), status=DealStatus.OPEN)
    deal([ann], amount="77.00", created=at("2026-11-11"), closed=at("2026-11-25"), status="lost")
    touch(bob, at("2026-11-15"), camps["c3"])
    first, after = period_bounds(NOV["start"], NOV["end"])
    for group_by in ("campaign", "kind"):
        where, params = deal_filter(first, after, lost=model == "markov", filters={})
        store.refresh(where, params, group_by)
        stored = store.read(model, group_by, where, params)
        live = credit_paths(
            model,
            load_paths(
                start=first,
                end=after,
                group_by=group_by,
                to_close=model == "full_path",
                lost=model == "markov",
                lead_moments=model in ("w_shaped", "full_path"),
            ),
        )
        assert stored.cents == dict(live.cents)
        assert {k: pytest.approx(v) for k, v in stored.counts.items()} == dict(live.counts)
        assert (stored.won_cents, stored.open_cents) == (live.won_cents, live.open_cents)


@pytest.mark.django_db(transaction=True)
def test_a_backdated_touch_committed_late_with_a_lower_id_is_not_skipped(system, ann, camps):
    """PostgreSQL hands out ids before commit: a bulk path's touchpoint can commit after
    a later one was seen. The watermark must not pass it (core.watermarks). On SQLite the
    other writer waits for the lock, and the same assertions hold."""
    from django.db import connection

    won([ann])
    assert revenue() == {"C1": Decimal("1000.00")}

    def bulk_touch() -> None:  # the lower id, committed last, no hook
        Touchpoint.objects.create(
            person=ann, kind="event", occurred_at=at("2026-11-05"), campaign=camps["c2"]
        )

    with left_open(bulk_touch):
        if connection.vendor == "postgresql":
            other = person(system, "Other")  # a higher id, committed first
            Touchpoint.objects.create(person=other, kind="call", occurred_at=at("2026-11-06"))
            assert revenue() == {"C1": Decimal("1000.00")}  # the late one is not visible yet
    assert revenue() == {"C1": Decimal("500.00"), "C2": Decimal("500.00")}
