"""Business time as a sales manager reads it: the SLA clock runs only while the team is
open, in its time zone, and stops over evenings, weekends, public holidays, closing days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from tandem.accounts.models import Team
from tandem.sla import services
from tandem.sla.business_time import Calendar
from tandem.sla.models import default_hours
from tandem.sla.tests.factories import EVERY_DAY, WITH_LUNCH, calendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(name="Inside sales")


@pytest.fixture
def berlin_team(team) -> Team:
    calendar(team, time_zone="Europe/Berlin", country="DE", subdivision="BY")
    return team


def test_a_lead_arriving_friday_evening_is_due_monday_morning(berlin_team):
    due = services.add_business_minutes(berlin_team.pk, berlin(2026, 12, 4, 18, 0), 15)
    assert due == berlin(2026, 12, 7, 9, 15)


def test_a_public_holiday_monday_moves_it_to_tuesday(berlin_team):
    # Whit Monday, 25 May 2026, is a public holiday in Germany.
    due = services.add_business_minutes(berlin_team.pk, berlin(2026, 5, 22, 18, 0), 15)
    assert due == berlin(2026, 5, 26, 9, 15)


def test_a_start_inside_hours_counts_from_the_start(berlin_team):
    assert services.add_business_minutes(berlin_team.pk, berlin(2026, 12, 8, 10, 7), 15) == (
        berlin(2026, 12, 8, 10, 22)
    )


def test_the_evening_is_skipped(berlin_team):
    due = services.add_business_minutes(berlin_team.pk, berlin(2026, 12, 8, 16, 50), 15)
    assert due == berlin(2026, 12, 9, 9, 5)


def test_the_lunch_break_is_skipped(team):
    calendar(team, hours=WITH_LUNCH)
    due = services.add_business_minutes(team.pk, berlin(2026, 12, 8, 11, 55), 15)
    assert due == berlin(2026, 12, 8, 13, 10)


def test_easter_closes_four_days(berlin_team):
    # Good Friday 3 April and Easter Monday 6 April 2026, around a weekend.
    due = services.add_business_minutes(berlin_team.pk, berlin(2026, 4, 2, 16, 50), 15)
    assert due == berlin(2026, 4, 7, 9, 5)


def test_a_regional_holiday_counts_only_in_its_region(team, db):
    # Epiphany (6 January) is a holiday in Bavaria, not in Berlin.
    other = Team.objects.create(name="Berlin office")
    calendar(team, country="DE", subdivision="BY")
    calendar(other, country="DE", subdivision="BE")
    start = berlin(2026, 1, 5, 17, 0)
    assert services.add_business_minutes(team.pk, start, 60) == berlin(2026, 1, 7, 10, 0)
    assert services.add_business_minutes(other.pk, start, 60) == berlin(2026, 1, 6, 10, 0)


def test_the_companys_closing_days_are_skipped(team):
    calendar(team, closing_days=[{"date": "2026-12-24", "name": "Christmas Eve"}])
    due = services.add_business_minutes(team.pk, berlin(2026, 12, 23, 16, 30), 60)
    # 24th closed, 25th and 26th public holidays (26th a Saturday), 27th Sunday.
    assert due == berlin(2026, 12, 28, 9, 30)


def test_the_count_follows_the_teams_time_zone_across_a_dst_change(team):
    calendar(team, time_zone="Europe/Berlin", country="")
    # Clocks go forward on Sunday 29 March 2026: Friday 16:00 CET + 2 business hours is
    # Monday 10:00 CEST, one hour less in UTC than a week earlier.
    due = services.add_business_minutes(team.pk, berlin(2026, 3, 27, 16, 0), 120)
    assert due == berlin(2026, 3, 30, 10, 0)
    assert due.utcoffset() == dt.timedelta(0)
    assert due == dt.datetime(2026, 3, 30, 8, 0, tzinfo=dt.UTC)


def test_a_dst_day_is_as_long_as_the_clocks_say(team):
    calendar(team, hours=EVERY_DAY, country="")
    spring = services.business_seconds_between(team.pk, berlin(2026, 3, 29), berlin(2026, 3, 30))
    autumn = services.business_seconds_between(team.pk, berlin(2026, 10, 25), berlin(2026, 10, 26))
    assert (spring, autumn) == (23 * 3600, 25 * 3600)
    # 24 business hours from Saturday noon end at 13:00 on Sunday (one hour was skipped).
    assert services.add_business_minutes(team.pk, berlin(2026, 3, 28, 12, 0), 24 * 60) == (
        berlin(2026, 3, 29, 13, 0)
    )


def test_another_teams_hours_in_its_own_time_zone(berlin_team, db):
    east = Team.objects.create(name="US East")
    calendar(east, time_zone="America/New_York", country="US")
    start = dt.datetime(2026, 12, 8, 16, 0, tzinfo=dt.UTC)  # 17:00 Berlin, 11:00 New York
    assert services.add_business_minutes(berlin_team.pk, start, 30) == berlin(2026, 12, 9, 9, 30)
    assert services.add_business_minutes(east.pk, start, 30) == (
        dt.datetime(2026, 12, 8, 11, 30, tzinfo=NEW_YORK)
    )


def test_without_its_own_hours_a_team_works_the_company_default(team):
    calendar(None, time_zone="America/New_York", country="US")
    start = dt.datetime(2026, 7, 3, 8, 0, tzinfo=NEW_YORK)  # Independence Day observed
    assert services.add_business_minutes(team.pk, start, 15) == (
        dt.datetime(2026, 7, 6, 9, 15, tzinfo=NEW_YORK)
    )
    assert services.add_business_minutes(None, start, 15) == (
        dt.datetime(2026, 7, 6, 9, 15, tzinfo=NEW_YORK)
    )


def test_with_no_calendar_at_all_it_is_weekdays_nine_to_five_in_the_server_zone(db, settings):
    settings.TIME_ZONE = "Europe/Lisbon"
    lisbon = ZoneInfo("Europe/Lisbon")
    start = dt.datetime(2026, 12, 5, 12, 0, tzinfo=lisbon)  # a Saturday
    assert services.add_business_minutes(None, start, 90) == (
        dt.datetime(2026, 12, 7, 10, 30, tzinfo=lisbon)
    )


def test_business_seconds_between_skips_the_weekend(berlin_team):
    seconds = services.business_seconds_between(
        berlin_team.pk, berlin(2026, 12, 4, 16, 0), berlin(2026, 12, 7, 10, 0)
    )
    assert seconds == 2 * 3600
    assert (
        services.business_seconds_between(
            berlin_team.pk, berlin(2026, 12, 7, 10, 0), berlin(2026, 12, 4, 16, 0)
        )
        == 0
    )


def test_the_batch_form_answers_as_the_single_one(berlin_team):
    start = berlin(2026, 3, 20, 8, 0)
    pairs = [
        (start + dt.timedelta(hours=7 * i), start + dt.timedelta(hours=7 * i + 5 * (i % 13)))
        for i in range(300)
    ]
    many = services.business_seconds_between_many(berlin_team.pk, pairs)
    assert many == [services.business_seconds_between(berlin_team.pk, a, b) for a, b in pairs]
    assert services.business_seconds_between_many(berlin_team.pk, []) == []


def test_the_batch_form_reads_the_calendar_once(berlin_team, django_assert_num_queries):
    start = berlin(2026, 1, 1)
    pairs = [
        (start + dt.timedelta(hours=i), start + dt.timedelta(hours=i + 30)) for i in range(10_000)
    ]
    with django_assert_num_queries(1):  # the team's calendar, with the company default
        assert len(services.business_seconds_between_many(berlin_team.pk, pairs)) == 10_000


def test_there_is_one_company_default(db):
    from django.db import IntegrityError, transaction

    from tandem.sla.models import BusinessCalendar

    calendar(None)
    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessCalendar.objects.create(team=None)


def test_business_days_end_at_the_same_clock_time(berlin_team):
    # Trade-show lead on Wednesday 1 April 2026 at 11:00; Easter closes 3 and 6 April.
    due = services.add_business_days(berlin_team.pk, berlin(2026, 4, 1, 11, 0), 5)
    assert due == berlin(2026, 4, 10, 11, 0)
    # Arriving Friday evening, one business day runs from Monday's opening.
    assert services.add_business_days(berlin_team.pk, berlin(2026, 12, 4, 18, 0), 1) == (
        berlin(2026, 12, 8, 9, 0)
    )


def test_business_days_onto_a_shorter_day_end_at_its_closing(team):
    hours = {**default_hours(), "fri": [["09:00", "13:00"]]}
    calendar(team, hours=hours, country="")
    due = services.add_business_days(team.pk, berlin(2026, 12, 3, 15, 30), 1)
    assert due == berlin(2026, 12, 4, 13, 0)


@time_machine.travel(dt.datetime(2026, 12, 4, 17, 30, tzinfo=BERLIN), tick=False)
def test_now_on_a_friday_evening(berlin_team):
    from django.utils import timezone

    assert services.add_business_minutes(berlin_team.pk, timezone.now(), 60) == (
        berlin(2026, 12, 7, 10, 0)
    )


# --- Properties, over calendars built in memory (the services' own engine) ----------

CALENDARS = [
    Calendar.build("Europe/Berlin", WITH_LUNCH, "DE", "BY"),
    Calendar.build("America/New_York", default_hours(), "US", "CA"),
    Calendar.build("Europe/Berlin", EVERY_DAY),  # every DST hour counts
    Calendar.build(
        "Australia/Sydney",
        {"mon": [["08:30", "12:00"], ["12:30", "18:00"]], "sat": [["10:00", "14:00"]]},
        "AU",
        "NSW",
        frozenset({dt.date(2026, 12, 28)}),
    ),
]
moments = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),
    max_value=dt.datetime(2027, 12, 31),
    timezones=st.just(dt.UTC),
)
calendars = st.sampled_from(CALENDARS)
minutes = st.integers(min_value=0, max_value=30 * 8 * 60)


def _between(calendar: Calendar, a: dt.datetime, b: dt.datetime) -> float:
    from tandem.sla.business_time import seconds_between_many

    return seconds_between_many(calendar, [(a, b)])[0]


def _is_open(calendar: Calendar, moment: dt.datetime) -> bool:
    """Inside an open interval, its closing instant included."""
    day = moment.astimezone(calendar.tz).date()
    for d in (day - dt.timedelta(days=1), day):
        if any(a <= moment <= b for a, b in calendar.day_intervals(d)):
            return True
    return False


@examples(max_examples=300, deadline=None)
@given(calendar=calendars, start=moments, amount=minutes)
def test_adding_then_measuring_gives_back_the_minutes(calendar, start, amount):
    due = calendar.add_seconds(start, amount * 60)
    assert _between(calendar, start, due) == amount * 60


@examples(max_examples=300, deadline=None)
@given(calendar=calendars, start=moments, a=minutes, b=minutes)
def test_more_minutes_never_end_earlier(calendar, start, a, b):
    low, high = sorted((a, b))
    assert calendar.add_seconds(start, low * 60) <= calendar.add_seconds(start, high * 60)
    assert calendar.add_seconds(start, high * 60) >= start


@examples(max_examples=300, deadline=None)
@given(calendar=calendars, start=moments, a=moments, b=moments)
def test_a_later_end_never_measures_less(calendar, start, a, b):
    early, late = sorted((a, b))
    assert _between(calendar, start, early) <= _between(calendar, start, late)
    # The walked single pair and the batch's prefix sums agree to the microsecond.
    assert calendar.seconds_between(early, late) == _between(calendar, early, late)
    assert _between(calendar, early, late) <= (late - early).total_seconds()


@examples(max_examples=300, deadline=None)
@given(calendar=calendars, start=moments, amount=minutes)
def test_a_due_time_is_never_outside_open_hours(calendar, start, amount):
    assert _is_open(calendar, calendar.add_seconds(start, amount * 60))


@examples(max_examples=200, deadline=None)
@given(calendar=calendars, start=moments, days=st.integers(min_value=0, max_value=30))
def test_business_days_land_in_open_hours_and_grow(calendar, start, days):
    due = calendar.add_days(start, days)
    assert _is_open(calendar, due)
    assert due >= start
    assert calendar.add_days(start, days + 1) > due
