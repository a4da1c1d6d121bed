"""The scoring engine: set-based, a few statements per rule for any number of people.

For a slice of people (an id range of a full rescore, or the ids a capture batch
touched) it runs one query for all fit rules (a CASE per rule), one aggregate
per engagement rule (events grouped by person, each weighted by its decay
0.5^(age_days / half_life)), one for the overrides in force, then upserts
every PersonScore of the slice in one statement batch (PostgreSQL: COPY into a
temporary table, then one INSERT ... ON CONFLICT). The explanation is built from
the same per-rule results, so it always says what gave the points.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Case, Count, FloatField, Func, Max, Q, Value, When
from django.db.models import Sum as SumOf
from django.utils import timezone

from tandem.campaigns.models import Touchpoint
from tandem.people.models import Activity, Person
from tandem.scoring.conditions import describe, engagement_filter, fit_condition, fit_field_choices
from tandem.scoring.models import (
    EngagementSource,
    OverrideKind,
    PersonScore,
    Rule,
    RuleKind,
    RuleSet,
    RuleSetStatus,
    ScoreOverride,
)

# People per slice of a full rescore (an id range): big enough that per-statement cost
# vanishes, small enough that a slice's rows sit comfortably in memory.
RANGE_SIZE = 50_000
ID_SLICE = 500  # ids per `IN (...)` when rescoring given people


class DecayFactor(Func):
    """0.5 ** (age in days / half-life) of an event at `occurred_at`, as of `now`
    (an event dated in the future counts as new)."""

    output_field = FloatField()

    def __init__(self, occurred_at: str, now: Any, half_life_days: int) -> None:
        super().__init__(occurred_at)
        self.now, self.half_life = now, float(half_life_days)

    def as_sqlite(self, compiler: Any, conn: Any, **extra: Any) -> tuple[str, list[Any]]:
        col, params = compiler.compile(self.source_expressions[0])
        now = conn.ops.adapt_datetimefield_value(self.now)
        sql = f"POWER(0.5, MAX(julianday(%s) - julianday({col}), 0) / %s)"
        return sql, [now, *params, self.half_life]

    def as_postgresql(self, compiler: Any, conn: Any, **extra: Any) -> tuple[str, list[Any]]:
        col, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"POWER(0.5, GREATEST(EXTRACT(EPOCH FROM (%s::timestamptz - {col})) / 86400.0, 0) / %s)"
        )
        return sql, [self.now, *params, self.half_life]


@dataclass
class Plan:
    """The active rule set, ready to run: each rule with its words."""

    rule_set: RuleSet | None
    fit: list[tuple[Rule, str]] = field(default_factory=list)
    engagement: list[tuple[Rule, str]] = field(default_factory=list)


def plan_for(rule_set: RuleSet | None) -> Plan:
    plan = Plan(rule_set)
    if rule_set is None:
        return plan
    words = dict(fit_field_choices())
    for rule in rule_set.rules.select_related("campaign").order_by("kind", "position", "id"):
        target = plan.fit if rule.kind == RuleKind.FIT else plan.engagement
        target.append((rule, describe(rule, words)))
    return plan


def active_plan() -> Plan:
    return plan_for(RuleSet.objects.filter(status=RuleSetStatus.ACTIVE).first())


@dataclass
class _Person:
    fit: int = 0
    engagement: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)


def _ago(days: float) -> str:
    whole = int(days)
    if whole <= 0:
        return "today"
    return "1 day ago" if whole == 1 else f"{whole} days ago"


def _engagement_detail(rule: Rule, count: int, last_days: float, raw: int, points: int) -> str:
    parts = [f"{count} times, last {_ago(last_days)}" if count > 1 else _ago(last_days)]
    notes = []
    if raw != points:
        notes.append(f"was {raw:+d}")
    if rule.max_points is not None and points == rule.max_points and raw > rule.max_points:
        notes.append(f"capped at {rule.max_points}")
    return parts[0] + (f" ({', '.join(notes)})" if notes else "")


def _compute(plan: Plan, person_q: Q, event_q: Q, now: Any) -> dict[int, _Person]:
    people: dict[int, _Person] = {}
    cases = {
        f"r{i}": Case(
            When(fit_condition(rule), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        for i, (rule, _) in enumerate(plan.fit)
    }
    # Query 1: who is in the slice and which fit rules each person meets.
    rows = (
        Person.objects.filter(person_q, deleted_at__isnull=True)
        .annotate(**cases)
        .values_list("pk", *cases)
    )
    for row in rows.iterator(chunk_size=10_000):
        person = people[row[0]] = _Person()
        for hit, (rule, words) in zip(row[1:], plan.fit, strict=True):
            if hit:
                person.fit += rule.points
                person.items.append(
                    {"rule": words, "points": rule.points, "detail": "", "kind": "fit"}
                )
    if not people:
        return people
    # One aggregate per engagement rule: matching events grouped by person.
    for rule, words in plan.engagement:
        model = Activity if rule.source == EngagementSource.ACTIVITY else Touchpoint
        weight = (
            DecayFactor("occurred_at", now, rule.half_life_days) if rule.half_life_days else None
        )
        aggregates: dict[str, Any] = {"n": Count("id"), "last": Max("occurred_at")}
        if weight is not None:
            aggregates["w"] = SumOf(weight)
        events = (
            model.objects.filter(event_q, engagement_filter(rule))
            .order_by()
            .values("person_id")
            .annotate(**aggregates)
        )
        for ev in events:
            person = people.get(ev["person_id"])
            if person is None:  # deleted person
                continue
            raw = rule.points * ev["n"]
            exact = rule.points * ev["w"] if weight is not None else float(raw)
            points = math.floor(exact + 0.5) if exact >= 0 else -math.floor(-exact + 0.5)
            if rule.max_points is not None:
                points = (
                    min(points, rule.max_points)
                    if rule.points >= 0
                    else max(points, rule.max_points)
                )
            if points == 0 and raw != 0 and weight is not None:
                continue  # decayed away: nothing left to explain
            last_days = max((now - ev["last"]).total_seconds() / 86400, 0)
            person.engagement += points
            person.items.append(
                {
                    "rule": words,
                    "points": points,
                    "detail": _engagement_detail(rule, ev["n"], last_days, raw, points),
                    "kind": "engagement",
                }
            )
    return people


def _overrides(person_q: Q, now: Any) -> dict[int, ScoreOverride]:
    """The override in force per person of the slice (the newest one not ended or expired)."""
    found: dict[int, ScoreOverride] = {}
    rows = (
        ScoreOverride.objects.filter(person_q, ended_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("person_id", "created_at", "id")
    )
    for row in rows:
        found[row.person_id] = row
    return found


def override_item(override: ScoreOverride) -> dict[str, Any]:
    what = {
        OverrideKind.SCORE: f"Score set to {override.score}",
        OverrideKind.GRADE: f"Grade set to {override.grade}",
        OverrideKind.NOT_A_LEAD: "Marked not a lead",
    }[OverrideKind(override.kind)]
    detail = f"by {override.created_by_label}: {override.reason}"
    if override.expires_at:
        detail += f" (until {timezone.localtime(override.expires_at):%Y-%m-%d %H:%M})"
    return {
        "rule": f"Override: {what}",
        "points": override.score if override.kind == OverrideKind.SCORE else 0,
        "detail": detail,
        "kind": "override",
    }


def _rows(plan: Plan, people: dict[int, _Person], overrides: dict[int, ScoreOverride], now: Any):
    version = plan.rule_set.version if plan.rule_set else None
    for pk, person in people.items():
        score, grade, not_lead, expires = person.fit + person.engagement, "", False, None
        items = person.items
        override = overrides.get(pk)
        if override is not None:
            expires = override.expires_at
            items = [override_item(override), *items]
            if override.kind == OverrideKind.SCORE:
                score = override.score or 0
            elif override.kind == OverrideKind.GRADE:
                grade = override.grade
            else:
                not_lead, score = True, 0
        yield (
            pk,
            person.fit,
            person.engagement,
            score,
            grade,
            not_lead,
            items,
            version,
            expires,
            now,
        )


_COLUMNS = (
    "person_id", "fit_score", "engagement_score", "score", "grade", "is_not_a_lead",
    "explanation", "rule_set_version", "override_expires_at", "scored_at",
)  # fmt: skip


def _write(rows: list[tuple]) -> None:
    if not rows:
        return
    table = PersonScore._meta.db_table
    cols = ", ".join(f'"{c}"' for c in _COLUMNS)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in _COLUMNS[1:])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            adapt = connection.ops.adapt_datetimefield_value
            marks = ", ".join(["%s"] * len(_COLUMNS))
            cursor.executemany(
                f'INSERT INTO "{table}" ({cols}) VALUES ({marks}) '  # noqa: S608
                f'ON CONFLICT ("person_id") DO UPDATE SET {updates}',
                [
                    (*r[:5], int(r[5]), json.dumps(r[6]), r[7], adapt(r[8]), adapt(r[9]))
                    for r in rows
                ],
            )
            return
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "scoring_stage" (LIKE "{table}") ON COMMIT DELETE ROWS'
        )
        cursor.execute('TRUNCATE "scoring_stage"')  # an outer transaction may hold old rows
        with cursor.cursor.copy(f'COPY "scoring_stage" ({cols}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row((*r[:6], json.dumps(r[6]), *r[7:]))
        cursor.execute(
            f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "scoring_stage" '  # noqa: S608
            f'ON CONFLICT ("person_id") DO UPDATE SET {updates}'
        )


def _score_slice(plan: Plan, person_q: Q, event_q: Q, override_q: Q, now: Any) -> int:
    with transaction.atomic():
        people = _compute(plan, person_q, event_q, now)
        overrides = _overrides(override_q, now) if people else {}
        rows = list(_rows(plan, people, overrides, now))
        _write(rows)
    return len(rows)


def rescore_people(person_ids: Iterable[int], *, now: Any = None, plan: Plan | None = None) -> int:
    """Rescore these people (a touchpoint, a batch, an override); returns how many."""
    ids = sorted({int(i) for i in person_ids})
    now = now or timezone.now()
    plan = plan or active_plan()
    done = 0
    for start in range(0, len(ids), ID_SLICE):
        part = ids[start : start + ID_SLICE]
        done += _score_slice(
            plan, Q(pk__in=part), Q(person_id__in=part), Q(person_id__in=part), now
        )
    return done


def rescore_everyone(
    *, now: Any = None, progress: Callable[[int, int], object] | None = None
) -> int:
    """Rescore every live person, one id range at a time; `progress(done_ids, total_ids)`
    is called after each range (the CLI's progress bar)."""
    now = now or timezone.now()
    plan = active_plan()
    bounds = Person.objects.filter(deleted_at__isnull=True).order_by().values_list("pk", flat=True)
    low = bounds.order_by("pk").first()
    high = bounds.order_by("-pk").first()
    if low is None or high is None:
        return 0
    done = 0
    for start in range(low, high + 1, RANGE_SIZE):
        end = start + RANGE_SIZE
        span = Q(pk__gte=start, pk__lt=end)
        event_span = Q(person_id__gte=start, person_id__lt=end)
        done += _score_slice(plan, span, event_span, event_span, now)
        if progress is not None:
            progress(min(end, high + 1) - low, high + 1 - low)
    return done


def lapse_overrides(*, now: Any = None) -> int:
    """Rescore people whose override expired since they were scored (time-driven: the
    worker's scoring loop calls it every minute)."""
    now = now or timezone.now()
    ids = list(
        PersonScore.objects.filter(override_expires_at__lte=now).values_list("person_id", flat=True)
    )
    return rescore_people(ids, now=now) if ids else 0
