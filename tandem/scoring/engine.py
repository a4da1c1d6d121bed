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

import datetime as dt
import json
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Max,
    Q,
    Value,
    When,
)
from django.db.models import Sum as SumOf
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Lookup
from django.utils import timezone

from tandem.campaigns.models import Touchpoint
from tandem.people.models import Activity, Person
from tandem.scoring.conditions import describe, engagement_filter, fit_condition, fit_field_choices
from tandem.scoring.extensions import Crossing, threshold_steps
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
RESCORE_THREADS = 4  # at most, and no more than the machine's cores (PostgreSQL only)


class AgeDays(Func):
    """Days from `occurred_at` to `now`, as a float (an event dated in the future: 0)."""

    output_field = FloatField()

    def __init__(self, occurred_at: Any, now: Any) -> None:
        super().__init__(F(occurred_at) if isinstance(occurred_at, str) else occurred_at)
        self.now = now

    def as_sqlite(self, compiler: Any, conn: Any, **extra: Any) -> Any:  # type: ignore[override]
        # `now` as SQLite's own julianday() gives it (whole milliseconds), passed as a number:
        # SQLite would otherwise parse the same text again for every event.
        col, params = compiler.compile(self.source_expressions[0])
        return f"MAX(%s - julianday({col}), 0)", [_julian_day(self.now), *params]

    def as_postgresql(self, compiler: Any, conn: Any, **extra: Any) -> tuple[str, list[Any]]:
        col, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"GREATEST(CAST(EXTRACT(EPOCH FROM (%s::timestamptz - {col})) AS double precision)"
            " / 86400.0, 0)"
        )
        return sql, [self.now, *params]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_JD_MS = 210_866_760_000_000  # the Unix epoch as a Julian day, in milliseconds


def _julian_day(moment: dt.datetime) -> float:
    """The Julian day of `moment`, rounded to the millisecond as SQLite's julianday() is."""
    since = moment.astimezone(dt.UTC) - _EPOCH
    ms = since.days * 86_400_000 + since.seconds * 1000 + int(since.microseconds / 1000 + 0.5)
    return (_EPOCH_JD_MS + ms) / 86_400_000.0


class DecayFactor(Func):
    """0.5 ** (age in days / half-life): what one event's points are worth now."""

    output_field = FloatField()

    def __init__(self, occurred_at: str, now: Any, half_life_days: int) -> None:
        super().__init__(AgeDays(occurred_at, now))
        self.half_life = float(half_life_days)

    def as_sql(self, compiler: Any, conn: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        age, params = compiler.compile(self.source_expressions[0])
        return f"POWER(0.5, ({age}) / %s)", [*params, self.half_life]

    def as_sqlite(self, compiler: Any, conn: Any, **extra: Any) -> Any:  # type: ignore[override]
        # Django replaces SQLite's POWER with a Python function (one call per event);
        # SQLite's own `pow` is C, where the library has its math functions.
        age, params = compiler.compile(self.source_expressions[0])
        name = "pow" if _native_pow(conn) else "POWER"
        return f"{name}(0.5, ({age}) / %s)", [*params, self.half_life]


def _native_pow(conn: Any) -> bool:
    found = getattr(conn, "_tandem_native_pow", None)
    if found is None:
        with conn.cursor() as cursor:
            cursor.execute("SELECT sqlite_compileoption_used('ENABLE_MATH_FUNCTIONS')")
            found = bool(cursor.fetchone()[0])
        conn._tandem_native_pow = found
    return found


@dataclass
class Plan:
    """The active rule set, ready to run: each rule with its words, and the statements
    compiled for it (`statements`: rescoring a batch reuses them, ~10 ms less per batch)."""

    rule_set: RuleSet | None
    fit: list[tuple[Rule, str]] = field(default_factory=list)
    engagement: list[tuple[Rule, str]] = field(default_factory=list)
    statements: dict[tuple, tuple[str, list[Any]]] = field(default_factory=dict, repr=False)


def plan_for(rule_set: RuleSet | None) -> Plan:
    rules = (
        list(rule_set.rules.select_related("campaign").order_by("kind", "position", "id"))
        if rule_set is not None
        else []
    )
    return _plan_of(rule_set, rules, dict(fit_field_choices()))


def _plan_of(rule_set: RuleSet | None, rules: list[Rule], words: dict[str, str]) -> Plan:
    plan = Plan(rule_set)
    for rule in rules:
        target = plan.fit if rule.kind == RuleKind.FIT else plan.engagement
        target.append((rule, describe(rule, words)))
    return plan


_plans: dict[tuple, tuple[float, Plan]] = {}  # (rule set, activation) -> (loaded, plan)
PLAN_WORDS_SECONDS = 60.0  # a kept plan's words (campaign names, field labels) at most this old


def active_plan(*, fresh: bool = False) -> Plan:
    """The active rule set's plan. An active set's rules never change (drafts are edited,
    then activated), so a process keeps its plan, and the statements compiled for it,
    under the activation's key: one cheap query per batch. The words the rules use
    (campaign names, custom field labels) are reloaded after PLAN_WORDS_SECONDS, or at
    once with `fresh` (the full rescore)."""
    row = (
        RuleSet.objects.filter(status=RuleSetStatus.ACTIVE)
        .values_list("pk", "activation_key")
        .first()
    )
    if row is None:
        return Plan(None)
    kept = _plans.get(row)
    now = time.time()
    if kept is not None and not fresh and now - kept[0] < PLAN_WORDS_SECONDS:
        return kept[1]
    plan = plan_for(RuleSet.objects.get(pk=row[0]))
    if kept is not None and _same_rules(kept[1], plan):
        plan.statements = kept[1].statements  # the words changed at most: same statements
    if len(_plans) > 8:
        _plans.clear()
    _plans[row] = (now, plan)
    return plan


def _same_rules(a: Plan, b: Plan) -> bool:
    def ids(plan: Plan) -> list[int]:
        return [rule.pk for rule, _ in plan.fit + plan.engagement]

    return ids(a) == ids(b)


# Statements are compiled once per plan with these stand-ins, then run with the slice's
# values put in their place (`_bind`).
_LOW, _HIGH = -7_300_000_001, -7_300_000_002  # an id range [low, high)
_THRESHOLD = -2_073_000_003  # within a 32-bit integer: Django drops a comparison outside it
_IDS = "tandem-scoring-slice-ids"  # a list of ids, as one parameter
_NOW = dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


class _AnyOf(Lookup):
    """`column = ANY(array)` (PostgreSQL). Why not `IN (SELECT unnest(array))`: that is a
    join, planned from the table's statistics, and a table not analyzed yet (a new
    database's first burst of web-form captures, or autovacuum off) was taken for one
    row, so each slice of 200 captured people walked every person 200 times: 57-190 ms a
    slice of 7,300 people, the worst statement of the capture drain on PostgreSQL. A
    filter on ANY of an array needs no estimate to stay a filter (3.5 ms)."""

    lookup_name = "tandem_any_of"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


@dataclass(frozen=True)
class Slice:
    """Whom one statement batch scores: given ids, or an id range."""

    ids: tuple[int, ...] = ()
    low: int = 0
    high: int = 0

    @property
    def shape(self) -> str:
        return "ids" if self.ids else "range"

    def q(self, column: str) -> Q:
        """The slice as a condition on `column`, with stand-ins for its values."""
        if self.ids:
            # A fixed statement; the ids are its one parameter.
            if connection.vendor == "postgresql":
                return Q(_AnyOf(F(column), RawSQL("%s::bigint[]", [_IDS])))
            sql = "SELECT value FROM json_each(%s)"
            return Q(**{f"{column}__in": RawSQL(sql, [_IDS])})  # noqa: S611
        return Q(**{f"{column}__gte": _LOW, f"{column}__lt": _HIGH})

    def bind(self, now: dt.datetime) -> dict[Any, Any]:
        ids: Any = list(self.ids) if connection.vendor == "postgresql" else json.dumps(self.ids)
        return {
            _IDS: ids,
            _LOW: self.low,
            _HIGH: self.high,
            _NOW: now,
            _julian_day(_NOW): _julian_day(now),
            connection.ops.adapt_datetimefield_value(_NOW): (
                connection.ops.adapt_datetimefield_value(now)
            ),
        }


def _bind(params: list[Any], values: dict[Any, Any] | None) -> list[Any]:
    if not values:
        return params
    out = []
    for p in params:
        try:
            out.append(values.get(p, p))
        except TypeError:  # unhashable
            out.append(p)
    return out


@dataclass
class _Person:
    """One person's scores in a slice. Fit reasons are shared by everyone meeting the same
    fit rules (`fit_items`, with its encoded JSON list in `fit_json`); engagement lines are
    the person's own."""

    fit: int
    fit_items: list[str]
    fit_json: str
    engagement: int = 0
    items: list[str] | None = None  # engagement lines, JSON objects already encoded


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


def _item(words: str, points: int, detail: str, kind: str) -> str:
    return json.dumps({"rule": words, "points": points, "detail": detail, "kind": kind})


def _rows_of(
    build: Callable[[], Any],
    *,
    plan: Plan | None = None,
    key: tuple | None = None,
    values: dict[Any, Any] | None = None,
) -> list[tuple]:
    """The rows of the queryset `build()` makes, straight from the driver (numbers only, so
    no per-value converters). With `plan` and `key`, the statement is compiled once and kept
    on the plan; `values` replace the stand-ins it was compiled with."""
    full = (connection.alias, *key) if plan is not None and key is not None else None
    cached = plan.statements.get(full) if plan is not None and full is not None else None
    if cached is None:
        cached = build().query.sql_with_params()
        if plan is not None and full is not None:
            plan.statements[full] = cached
    sql, params = cached
    with connection.cursor() as cursor:
        cursor.execute(sql, _bind(list(params), values))
        return cursor.fetchall()


_MASK_BITS = 60  # fit rules per mask column (an int64 holds them)


def _fit_masks(plan: Plan) -> dict[str, Any]:
    """One integer per person per 60 fit rules: bit i set when rule i holds (a CASE each)."""
    masks: dict[str, Any] = {}
    for start in range(0, len(plan.fit), _MASK_BITS):
        expr: Any = Value(0)
        for bit, (rule, _) in enumerate(plan.fit[start : start + _MASK_BITS]):
            expr = expr + Case(When(fit_condition(rule), then=Value(1 << bit)), default=Value(0))
        masks[f"m{start // _MASK_BITS}"] = ExpressionWrapper(expr, output_field=BigIntegerField())
    return masks


def compute_scores(
    plan: Plan,
    person_q: Q | None,
    event_q: Q | None,
    now: Any,
    *,
    explain: bool = True,
    part: Slice | None = None,
) -> dict[int, _Person]:
    """Every person of `person_q` with their fit and engagement points as of `now`, from the
    events of `event_q`; with `explain`, the engagement lines too (the backtest skips them).
    With `part` (a rescore's slice) the conditions come from it and the statements are
    compiled once per plan."""
    people: dict[int, _Person] = {}
    values: dict[Any, Any] | None = None
    at_now: Any = now
    if part is not None:
        person_q, event_q = part.q("pk"), part.q("person_id")
        values, at_now = part.bind(now), _NOW
    assert person_q is not None and event_q is not None
    shape = part.shape if part is not None else None

    def keyed(name: str) -> tuple | None:
        return (name, shape) if shape is not None else None

    def fit_query() -> Any:
        masks = _fit_masks(plan)
        return (
            Person.objects.filter(person_q, deleted_at__isnull=True)
            .order_by()
            .annotate(**masks)
            .values_list("pk", *masks)
        )

    # Query 1: who is in the slice and which fit rules each person meets (bit masks).
    rows = _rows_of(fit_query, plan=plan, key=keyed("fit"), values=values)
    by_masks: dict[tuple, tuple[int, list[str], str]] = {}  # the same rules met: the same items
    for row in rows:
        key = row[1:]
        shared = by_masks.get(key)
        if shared is None:
            fit, items = 0, []
            for index, (rule, words) in enumerate(plan.fit):
                if key[index // _MASK_BITS] >> (index % _MASK_BITS) & 1:
                    fit += rule.points
                    items.append(_item(words, rule.points, "", "fit"))
            shared = by_masks[key] = (fit, items, "[" + ", ".join(items) + "]")
        people[row[0]] = _Person(*shared)
    if not people:
        return people
    # One pass per event table (touchpoints, activities): events grouped by person, with
    # each rule's count, youngest age and decayed weight as filtered aggregates.
    for model, source in (
        (Touchpoint, EngagementSource.TOUCHPOINT),
        (Activity, EngagementSource.ACTIVITY),
    ):
        rules = [(rule, words) for rule, words in plan.engagement if rule.source == source]
        if not rules:
            continue

        def event_query(model: Any = model, rules: Any = rules) -> Any:
            aggregates: dict[str, Any] = {}
            any_rule = Q(pk__in=[])
            for i, (rule, _) in enumerate(rules):
                cond = engagement_filter(rule)
                any_rule |= cond
                aggregates[f"n{i}"] = Count(Value(1), filter=cond)  # COUNT(1): no column read
                # The youngest event's age: one date subtraction per person, not per event.
                aggregates[f"a{i}"] = AgeDays(Max("occurred_at", filter=cond), at_now)
                if rule.half_life_days is not None:
                    aggregates[f"w{i}"] = SumOf(
                        DecayFactor("occurred_at", at_now, rule.half_life_days), filter=cond
                    )
            return (
                model.objects.filter(event_q)
                .filter(any_rule)
                .order_by()
                .values("person_id")
                .annotate(**aggregates)
                .values_list("person_id", *aggregates)
            )

        # The columns, in the order event_query names them.
        names = []
        for i, (rule, _) in enumerate(rules):
            names += [f"n{i}", f"a{i}"] + ([f"w{i}"] if rule.half_life_days is not None else [])
        events = _rows_of(event_query, plan=plan, key=keyed(source), values=values)
        # Column positions per rule (count, youngest age, decayed weight or None).
        at = {name: 1 + i for i, name in enumerate(names)}
        slots = [
            (i, rule, words, at[f"n{i}"], at[f"a{i}"], at.get(f"w{i}"))
            for i, (rule, words) in enumerate(rules)
        ]
        lines: dict[tuple, tuple[int, str | None]] = {}  # the same facts: the same line
        for row in events:
            person = people.get(row[0])
            if person is None:  # deleted person
                continue
            for i, rule, words, n, a, w in slots:
                count = row[n]
                if not count:
                    continue
                weight = None if w is None else row[w]
                if not explain:
                    person.engagement += _engagement_points(rule, count, weight)
                    continue
                if weight is None:  # no decay: the points per event times the events
                    key = (i, count, int(row[a] or 0), None)
                    points = None
                else:
                    points = _engagement_points(rule, count, weight)
                    key = (i, count, int(row[a] or 0), points)
                known = lines.get(key)
                if known is None:
                    if points is None:
                        points = _engagement_points(rule, count, None)
                    known = lines[key] = _engagement_item(
                        rule, words, count, float(row[a] or 0), points, weight is not None
                    )
                if known[1] is not None:
                    person.engagement += known[0]
                    if person.items is None:
                        person.items = [known[1]]
                    else:
                        person.items.append(known[1])
    return people


def _engagement_points(rule: Rule, count: int, weight: float | None) -> int:
    """The rule's points now: points per event × Σ decay (rounded half away from 0), capped."""
    exact = rule.points * float(weight) if weight is not None else float(rule.points * count)
    points = math.floor(exact + 0.5) if exact >= 0 else -math.floor(-exact + 0.5)
    if rule.max_points is not None:
        points = min(points, rule.max_points) if rule.points >= 0 else max(points, rule.max_points)
    return points


def _engagement_item(
    rule: Rule, words: str, count: int, age: float, points: int, decays: bool
) -> tuple[int, str | None]:
    """(points, the explanation line), or (0, None) when decay left nothing to explain."""
    raw = rule.points * count
    if points == 0 and raw != 0 and decays:
        return 0, None
    detail = _engagement_detail(rule, count, age, raw, points)
    return points, _item(words, points, detail, "engagement")


def _overrides(plan: Plan, part: Slice, now: Any) -> dict[int, ScoreOverride]:
    """The override in force per person of the slice (the newest one not ended or expired).
    Few people have one: a compiled statement finds them, the ORM loads only those."""

    def in_force() -> Any:
        return (
            ScoreOverride.objects.filter(part.q("person_id"), ended_at__isnull=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=_NOW))
            .order_by()
            .values_list("pk")
        )

    ids = [
        row[0]
        for row in _rows_of(
            in_force, plan=plan, key=("overrides", part.shape), values=part.bind(now)
        )
    ]
    found: dict[int, ScoreOverride] = {}
    if ids:
        for row in ScoreOverride.objects.filter(pk__in=ids).order_by(
            "person_id", "created_at", "id"
        ):
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
        override = overrides.get(pk)
        if override is None and person.items is None:
            explanation = person.fit_json  # most people: their fit reasons only
        else:
            items = [*person.fit_items, *(person.items or ())]
            if override is not None:
                items.insert(0, json.dumps(override_item(override)))
            explanation = "[" + ", ".join(items) + "]"
        if override is not None:
            expires = override.expires_at
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
            explanation,
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
    # Only rows whose score or reasons changed are written (a daily rescore changes the few
    # whose decayed points or "N days ago" moved); `scored_at` is when they last changed.
    compared = _COLUMNS[1:-1]
    stored = ", ".join(f'"{table}"."{c}"' for c in compared)
    fresh = ", ".join(f'excluded."{c}"' for c in compared)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            adapt = connection.ops.adapt_datetimefield_value
            marks = ", ".join(["%s"] * len(_COLUMNS))
            scored_at = adapt(rows[0][9])
            cursor.executemany(
                f'INSERT INTO "{table}" ({cols}) VALUES ({marks}) '  # noqa: S608
                f'ON CONFLICT ("person_id") DO UPDATE SET {updates} WHERE '
                + " OR ".join(f'"{table}"."{c}" IS NOT excluded."{c}"' for c in compared),
                [
                    (*r[:5], int(r[5]), r[6], r[7], adapt(r[8]) if r[8] else None, scored_at)
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
                copy.write_row(r)
        cursor.execute(
            f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "scoring_stage" '  # noqa: S608
            f'ON CONFLICT ("person_id") DO UPDATE SET {updates} '
            f"WHERE ({stored}) IS DISTINCT FROM ({fresh})"
        )


def _above(plan: Plan, part: Slice, now: Any, threshold: int) -> dict[int, int]:
    """Scores at or above `threshold` in the slice (PersonScore's key is the person's)."""

    def query() -> Any:
        return (
            PersonScore.objects.filter(part.q("pk"), is_not_a_lead=False, score__gte=_THRESHOLD)
            .order_by()
            .values_list("pk", "score")
        )

    values = {**part.bind(now), _THRESHOLD: threshold}
    return dict(_rows_of(query, plan=plan, key=("above", part.shape), values=values))  # type: ignore[arg-type]


def _score_slice(plan: Plan, part: Slice, now: Any) -> int:
    steps = threshold_steps()
    threshold = plan.rule_set.mql_threshold if plan.rule_set is not None else None
    watch = bool(steps) and threshold is not None
    with transaction.atomic():
        if connection.vendor == "postgresql" and part.shape == "range":
            # A range's aggregates sort ~100k rows: in memory, not in temporary files.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64MB'")
        before = _above(plan, part, now, threshold) if watch else {}  # type: ignore[arg-type]
        people = compute_scores(plan, None, None, now, part=part)
        overrides = _overrides(plan, part, now) if people else {}
        rows = list(_rows(plan, people, overrides, now))
        _write(rows)
        if watch and rows:
            after = _above(plan, part, now, threshold)  # type: ignore[arg-type]
            crossed = {pk: score for pk, score in after.items() if pk not in before}
            if crossed:
                assert plan.rule_set is not None and threshold is not None
                crossing = Crossing(crossed, threshold, plan.rule_set.version)
                for step in steps:
                    transaction.on_commit(partial(step.crossed, crossing))
    return len(rows)


def rescore_people(person_ids: Iterable[int], *, now: Any = None, plan: Plan | None = None) -> int:
    """Rescore these people (a touchpoint, a batch, an override); returns how many."""
    ids = sorted({int(i) for i in person_ids})
    now = now or timezone.now()
    plan = plan or active_plan()
    done = 0
    for start in range(0, len(ids), ID_SLICE):
        done += _score_slice(plan, Slice(ids=tuple(ids[start : start + ID_SLICE])), now)
    return done


def rescore_everyone(
    *, now: Any = None, progress: Callable[[int, int], object] | None = None
) -> int:
    """Rescore every live person, one id range at a time; `progress(done_ids, total_ids)`
    is called after each range (the CLI's progress bar)."""
    now = now or timezone.now()
    plan = active_plan(fresh=True)
    bounds = Person.objects.filter(deleted_at__isnull=True).order_by().values_list("pk", flat=True)
    low = bounds.order_by("pk").first()
    high = bounds.order_by("-pk").first()
    if low is None or high is None:
        return 0
    parts = [
        Slice(low=start, high=start + RANGE_SIZE) for start in range(low, high + 1, RANGE_SIZE)
    ]
    total = high + 1 - low
    if _parallel():
        return _rescore_parallel(plan, parts, now, total, progress)
    done = 0
    for part in parts:
        done += _score_slice(plan, part, now)
        if progress is not None:
            progress(min(part.high, high + 1) - low, total)
    return done


def _parallel() -> bool:
    """PostgreSQL does most of a rescore's work in its server processes, so ranges are
    scored on a connection per core. Not inside a transaction (a test's): other
    connections would not see its rows. SQLite: one writer at a time, so one range."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _rescore_parallel(
    plan: Plan,
    parts: list[Slice],
    now: Any,
    total: int,
    progress: Callable[[int, int], object] | None,
) -> int:
    from concurrent.futures import ThreadPoolExecutor

    def score(part: Slice) -> int:
        try:
            return _score_slice(plan, part, now)
        finally:
            connection.close()  # this thread's own connection

    done = scanned = 0
    workers = max(1, min(RESCORE_THREADS, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rescore") as pool:
        for part, count in zip(parts, pool.map(score, parts), strict=True):
            done += count
            scanned = min(scanned + (part.high - part.low), total)
            if progress is not None:
                progress(scanned, total)
    return done


def lapse_overrides(*, now: Any = None) -> int:
    """Rescore people whose override expired since they were scored (time-driven: the
    worker's scoring loop calls it every minute)."""
    now = now or timezone.now()
    ids = list(
        PersonScore.objects.filter(override_expires_at__lte=now).values_list("person_id", flat=True)
    )
    return rescore_people(ids, now=now) if ids else 0
