"""The funnel by cohort, with its velocity (issue 21, point 8).

A cohort is the month a person entered the database (`created_at`, in the
site's time zone: a person created at 23:30 on 31 January in Berlin belongs to
January even though it is already February in UTC; creating a person records
their first stage change at the same moment, so it is also the first change).

Reached: a person has reached a stage when their stage history (people's
StageChange) ever took them there *or further*: someone who went from lead
straight to opportunity has passed MQL and SAL too. Their stage today counts
as well, for people whose history is incomplete. `advocate` is past customer.

Velocity: the days a person spent in a stage, from the first time they entered
that very stage to the first time they reached any later one; people who
skipped the stage or have not moved on are not in its figures. Durations are
counted in whole hours, so both databases give the same median and 90th
percentile (linear interpolation between closest ranks, like PostgreSQL's
`percentile_cont`).

The figures come from one statement (funnel_sql.py), after funnel_facts.refresh()
has brought the folded stage history up to date (so they are never behind). With a
filter it is a pass over the people of the chosen cohorts with their folded history
(reports.FunnelFact, one row a person), grouped by cohort and, for the velocity, by
stage; without one it sums the monthly rollups kept with the facts (FunnelCell,
FunnelHours: a few thousand rows for 36 months instead of a million people), with
the same arithmetic (ADR 0014).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from tandem.accounts.models import User
from tandem.campaigns.models import Campaign
from tandem.people.models import CompanySize, Stage

from . import funnel_facts, funnel_sql

# The funnel's steps, in order; advocate counts as past customer (funnel_sql.RANKS).
STEPS: tuple[Stage, ...] = (
    Stage.SUBSCRIBER,
    Stage.LEAD,
    Stage.MQL,
    Stage.SAL,
    Stage.OPPORTUNITY,
    Stage.CUSTOMER,
)
# Where people are today: the steps, then the end of the funnel and its side exits.
TODAY: tuple[Stage, ...] = (*STEPS, Stage.ADVOCATE, Stage.DISQUALIFIED, Stage.RECYCLED)
DEFAULT_MONTHS = 12
MAX_MONTHS = 60
MAX_ID = 2**63 - 1
FILTER_FIELDS = ("from", "to", "source", "campaign", "owner", "industry", "size", "country")


@dataclass(frozen=True)
class Filters:
    """What the funnel is cut by. `start` and `end` are first days of months, both included."""

    start: dt.date
    end: dt.date
    source: str | None = None
    campaign: int | None = None
    owner: int | str | None = None  # a user id, or "none" for unowned people
    industry: str | None = None
    size: str | None = None
    country: str | None = None

    @property
    def months(self) -> list[dt.date]:
        months, month = [], self.start
        while month <= self.end:
            months.append(month)
            month = _next_month(month)
        return months

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters (months as YYYY-MM), the empty ones left out."""
        params = {"from": f"{self.start:%Y-%m}", "to": f"{self.end:%Y-%m}"}
        for name in FILTER_FIELDS[2:]:
            value = getattr(self, name)
            if value not in (None, ""):
                params[name] = str(value)
        return params


@dataclass
class CohortRow:
    month: dt.date
    entered: int
    reached: list[int]  # per step of STEPS
    today: dict[str, int]  # people per stage of TODAY, where they are now

    @property
    def percents(self) -> list[float | None]:
        return [percent(n, self.entered) for n in self.reached]


@dataclass
class Step:
    from_stage: Stage
    to_stage: Stage
    reached_from: int
    reached_to: int

    @property
    def percent(self) -> float | None:
        return percent(self.reached_to, self.reached_from)


@dataclass
class Velocity:
    stage: Stage
    next_stage: Stage
    people: int  # who entered the stage and moved on
    median_days: float | None
    p90_days: float | None


@dataclass
class Funnel:
    filters: Filters
    cohorts: list[CohortRow]
    total: CohortRow
    steps: list[Step]
    velocity: list[Velocity]
    stages: tuple[Stage, ...] = STEPS
    today_stages: tuple[Stage, ...] = TODAY
    notes: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.total.entered == 0


def percent(part: int, whole: int) -> float | None:
    return None if not whole else round(part * 100 / whole, 1)


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month(raw: str, name: str) -> dt.date:
    """YYYY-MM or YYYY-MM-DD, as the first day of that month."""
    text = raw.strip()
    try:
        if len(text) == 7:
            return dt.datetime.strptime(text, "%Y-%m").date()
        return dt.date.fromisoformat(text).replace(day=1)
    except ValueError:
        raise ValidationError(
            {name: "Write a month as YYYY-MM (or a date as YYYY-MM-DD)."}
        ) from None


def _id(raw: str, name: str) -> int:
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise ValidationError({name: "Choose from the list (an id)."})
    return int(text)


def _text(raw: str, name: str, limit: int) -> str | None:
    text = raw.strip()
    if "\x00" in text:
        raise ValidationError({name: "Remove the control characters."})
    if len(text) > limit:
        raise ValidationError({name: f"At most {limit} characters."})
    return text or None


def _owner(raw: str) -> int | str | None:
    """A user id or user name; "none" for unowned people."""
    text = _text(raw, "owner", 150)  # a user name's longest
    if not text:
        return None
    if text == "none":
        return "none"
    if text.isascii() and text.isdigit():
        user_id = _id(text, "owner")
        if not User.objects.filter(pk=user_id).exists():
            raise ValidationError({"owner": f"There is no user {user_id}."})
        return user_id
    found = User.objects.filter(username=text).values_list("pk", flat=True).first()
    if found is None:
        raise ValidationError({"owner": f"There is no user {text!r}."})
    return found


def _campaign(raw: str) -> int | None:
    """A campaign id or key."""
    text = _text(raw, "campaign", 100)  # a campaign key's longest
    if not text:
        return None
    if text.isascii() and text.isdigit():
        found = Campaign.objects.filter(pk=_id(text, "campaign")).values_list("pk", flat=True)
    else:
        found = Campaign.objects.filter(key=text).values_list("pk", flat=True)
    campaign = found.first()
    if campaign is None:
        raise ValidationError({"campaign": "No such campaign."})
    return campaign


def parse_filters(params: Mapping[str, Any], *, today: dt.date | None = None) -> Filters:
    """The filters from query parameters; ValidationError naming the first bad field.

    Without `from` and `to`: the last 12 months, this one included.
    """
    today = today or timezone.localdate()
    raw = {name: str(params.get(name) or "") for name in FILTER_FIELDS}
    end = _month(raw["to"], "to") if raw["to"].strip() else today.replace(day=1)
    if raw["from"].strip():
        start = _month(raw["from"], "from")
    else:
        start = end
        for _ in range(DEFAULT_MONTHS - 1):
            start = (start - dt.timedelta(days=1)).replace(day=1)
    if start > end:
        raise ValidationError({"from": "The first month comes before the last one (to)."})
    if (end.year - start.year) * 12 + end.month - start.month + 1 > MAX_MONTHS:
        raise ValidationError({"from": f"Choose at most {MAX_MONTHS} months."})
    owner = _owner(raw["owner"])
    campaign = _campaign(raw["campaign"])
    size = _text(raw["size"], "size", 10)
    if size and size not in CompanySize.values:
        raise ValidationError({"size": "Choose one of " + ", ".join(CompanySize.values) + "."})
    country = _text(raw["country"], "country", 2)
    if country and not (len(country) == 2 and country.isalpha()):
        raise ValidationError({"country": "A two-letter country code (DE, FR, ...)."})
    return Filters(
        start=start,
        end=end,
        source=_text(raw["source"], "source", 100),
        campaign=campaign,
        owner=owner,
        industry=_text(raw["industry"], "industry", 100),
        size=size,
        country=country.upper() if country else None,
    )


def month_bounds(months: list[dt.date], zone: dt.tzinfo | None = None) -> list[dt.datetime]:
    """Each month's first instant in the site's time zone, then the end of the last, in UTC."""
    zone = zone or timezone.get_current_timezone()
    firsts = [*months, _next_month(months[-1])]
    return [
        dt.datetime(m.year, m.month, 1, tzinfo=zone).astimezone(ZoneInfo("UTC")) for m in firsts
    ]


def campaign_ids(campaign: int) -> list[int]:
    """The campaign and every campaign under it (a programme's touchpoints are its parts')."""
    ids, frontier = {campaign}, [campaign]
    while frontier:
        children = list(
            Campaign.objects.filter(parent_id__in=frontier)
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)
        )
        ids.update(children)
        frontier = children
    return sorted(ids)


def build(filters: Filters, *, per_person: bool = False) -> Funnel:
    """The funnel for `filters`: one statement, a row per cohort and one per velocity stage.

    Without a filter it sums the monthly rollups (funnel_facts.py keeps them with the
    facts); with one, or with `per_person` (the tests compare the two), it reads each
    person of the cohorts with their facts.
    """
    funnel_facts.refresh()
    months = filters.months
    unfiltered = all(getattr(filters, name) is None for name in FILTER_FIELDS[2:])
    if (
        unfiltered
        and not per_person
        and timezone.get_current_timezone_name() == funnel_facts.rollup_zone()
    ):
        sql, params = funnel_sql.rollup_statement(first=months[0], last=months[-1])
    else:
        bounds = month_bounds(months)
        campaigns = campaign_ids(filters.campaign) if filters.campaign else None
        sql, params = funnel_sql.statement(
            bounds=[connection.ops.adapt_datetimefield_value(b) for b in bounds],
            source=filters.source,
            campaigns=campaigns,
            owner=filters.owner,
            industry=filters.industry,
            size=filters.size,
            country=filters.country,
        )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Compiling this statement took 2.4 s of its 19.8 on 1M people, when it still
            # grouped the stage history itself.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    by_month: dict[int, CohortRow] = {}
    medians: dict[int, tuple[int, float | None, float | None]] = {}
    width = len(STEPS)
    for row in rows:
        kind, key, count = row[0], int(row[1]), int(row[2] or 0)
        if kind == "c":
            reached = [int(n or 0) for n in row[3 : 3 + width]]
            today = {
                str(stage): int(n or 0)
                for stage, n in zip(TODAY, row[3 + width : 3 + width + len(TODAY)], strict=True)
            }
            by_month[key] = CohortRow(months[key], count, reached, today)
        else:
            median, p90 = row[-2], row[-1]
            medians[key] = (
                count,
                None if median is None else round(float(median) / 24, 1),
                None if p90 is None else round(float(p90) / 24, 1),
            )
    cohorts = [
        by_month.get(i) or CohortRow(m, 0, [0] * width, {str(s): 0 for s in TODAY})
        for i, m in enumerate(months)
    ]
    total = CohortRow(
        month=months[0],
        entered=sum(c.entered for c in cohorts),
        reached=[sum(c.reached[i] for c in cohorts) for i in range(width)],
        today={str(s): sum(c.today[str(s)] for c in cohorts) for s in TODAY},
    )
    steps = [
        Step(STEPS[i], STEPS[i + 1], total.reached[i], total.reached[i + 1])
        for i in range(width - 1)
    ]
    velocity = [
        Velocity(STEPS[i], STEPS[i + 1], *medians.get(i + 1, (0, None, None)))
        for i in range(width - 1)
    ]
    return Funnel(filters=filters, cohorts=cohorts, total=total, steps=steps, velocity=velocity)


def as_dict(funnel: Funnel) -> dict[str, Any]:
    """The figures for the API (funnel_schemas.FunnelOut)."""
    f = funnel.filters

    def cohort(row: CohortRow) -> dict[str, Any]:
        return {
            "month": f"{row.month:%Y-%m}",
            "entered": row.entered,
            "reached": {str(s): n for s, n in zip(STEPS, row.reached, strict=True)},
            "reached_percent": {str(s): p for s, p in zip(STEPS, row.percents, strict=True)},
            "today": row.today,
        }

    total = cohort(funnel.total)
    total.pop("month")
    return {
        "filters": {
            "from": f"{f.start:%Y-%m}",
            "to": f"{f.end:%Y-%m}",
            "source": f.source,
            "campaign": f.campaign,
            "owner": None if f.owner is None else str(f.owner),
            "industry": f.industry,
            "size": f.size,
            "country": f.country,
        },
        "stages": [str(s) for s in STEPS],
        "cohorts": [cohort(c) for c in funnel.cohorts],
        "total": total,
        "steps": [
            {
                "from_stage": str(s.from_stage),
                "to_stage": str(s.to_stage),
                "reached_from": s.reached_from,
                "reached_to": s.reached_to,
                "percent": s.percent,
            }
            for s in funnel.steps
        ],
        "velocity": [
            {
                "stage": str(v.stage),
                "next_stage": str(v.next_stage),
                "people": v.people,
                "median_days": v.median_days,
                "p90_days": v.p90_days,
            }
            for v in funnel.velocity
        ],
    }
