"""Backtest a rule set against the last N months of outcomes, before it applies.

How scores are replayed (ADR 0011, "Backtest"): the window (now - N months, now]
is cut into weeks. At the window's start and at the end of every week the
engine's own evaluation runs once for everyone who existed then: fit rules on
the person's fields, engagement rules on the touchpoints and activities that had
happened by that moment, with decay measured from that moment. A few set-based
statements per checkpoint, the same ones a rescore runs; nothing is written.

- A person *becomes MQL* at the first checkpoint where their replayed score is
  at or above the set's MQL threshold while still open (not yet opportunity,
  customer, advocate or disqualified by then, from the stage history). People
  already above it when the window opens are counted apart (`mql_before`).
- *Precision*: of the new MQLs, how many reached opportunity or later after it.
- *Recall*: of the people who reached opportunity or later inside the window,
  how many the set had flagged before they did.

Not replayed: fields as they were (fit rules read today's fields: history of
field values is not kept) and overrides (a person's judgement, not the rules').
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Min, Q
from django.utils import timezone
from pydantic import ValidationError as PydanticError

from tandem.people.models import Person, Stage, StageChange
from tandem.scoring.conditions import describe, fit_field_choices
from tandem.scoring.engine import Plan, compute_scores, plan_for
from tandem.scoring.models import Rule, RuleKind, RuleSet, RuleSetStatus

DEFAULT_MONTHS = 6
MAX_MONTHS = 36
POSITIVE: list[str] = [Stage.OPPORTUNITY, Stage.CUSTOMER, Stage.ADVOCATE]
CLOSED: list[str] = [*POSITIVE, Stage.DISQUALIFIED]


@dataclass
class Week:
    starts: dt.date
    mql: int


@dataclass
class Result:
    """One set's figures over the window."""

    label: str
    version: int | None
    mql_threshold: int
    mql: int  # became MQL inside the window
    mql_before: int  # already at or above the threshold when the window opened
    converted: int  # of `mql`, reached opportunity or later afterwards
    precision: float | None
    positives: int  # reached opportunity or later inside the window
    caught: int  # of `positives`, flagged MQL before they got there
    recall: float | None
    weeks: list[Week] = field(default_factory=list)


@dataclass
class Comparison:
    months: int
    starts: dt.datetime
    ends: dt.datetime
    people: int  # people who existed at the end of the window
    draft: Result
    current: Result | None
    seconds: float = 0.0

    def week_rows(self) -> list[tuple[Week, Week | None]]:
        """The draft's weeks beside the current set's (the same weeks)."""
        other = self.current.weeks if self.current else [None] * len(self.draft.weeks)
        return list(zip(self.draft.weeks, other, strict=True))

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["starts"] = self.starts.isoformat()
        out["ends"] = self.ends.isoformat()
        for key in ("draft", "current"):
            if out[key] is not None:
                for week in out[key]["weeks"]:
                    week["starts"] = week["starts"].isoformat()
        return out


def months_back(now: dt.datetime, months: int) -> dt.datetime:
    """The same day `months` calendar months before (clamped to the month's end)."""
    index = now.year * 12 + now.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    day = now.day
    while True:
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def check_months(months: Any) -> int:
    try:
        value = int(months)
    except (TypeError, ValueError):
        raise ValidationError({"months": "Give a whole number of months."}) from None
    if not 1 <= value <= MAX_MONTHS:
        raise ValidationError({"months": f"Between 1 and {MAX_MONTHS}."})
    return value


def _checkpoints(starts: dt.datetime, ends: dt.datetime) -> list[dt.datetime]:
    points = [starts]
    at = starts
    while at < ends:
        at = min(at + dt.timedelta(days=7), ends)
        points.append(at)
    return points


def _first_moves(stages: list[str]) -> dict[int, dt.datetime]:
    """Per person, when they first reached one of `stages` (stage history; a person in
    such a stage without a recorded move: their stage date, else their creation)."""
    moves = dict(
        StageChange.objects.filter(to_stage__in=stages)
        .order_by()
        .values("person_id")
        .annotate(at=Min("changed_at"))
        .values_list("person_id", "at")
    )
    rest = (
        Person.objects.filter(stage__in=stages, deleted_at__isnull=True)
        .exclude(pk__in=StageChange.objects.filter(to_stage__in=stages).values("person_id"))
        .values_list("pk", "stage_changed_at", "created_at")
    )
    for pk, changed, created in rest:
        moves[pk] = changed or created
    return moves


@dataclass
class _History:
    checkpoints: list[dt.datetime]
    positive_at: dict[int, dt.datetime]
    closed_at: dict[int, dt.datetime]


def _replay(plan: Plan, threshold: int, label: str, history: _History) -> Result:
    points = history.checkpoints
    starts = points[0]
    first_mql: dict[int, dt.datetime] = {}
    before: set[int] = set()
    for index, at in enumerate(points):
        scores = compute_scores(
            plan, Q(created_at__lte=at), Q(occurred_at__lte=at), at, explain=False
        )
        for pk, person in scores.items():
            if pk in first_mql or pk in before or person.fit + person.engagement < threshold:
                continue
            closed = history.closed_at.get(pk)
            if closed is not None and closed <= at:
                continue
            if index == 0:
                before.add(pk)
            else:
                first_mql[pk] = at
    weeks = [Week(starts=p.date(), mql=0) for p in points[:-1]]
    for at in first_mql.values():
        weeks[points.index(at) - 1].mql += 1
    converted = sum(
        1 for pk, at in first_mql.items() if (p := history.positive_at.get(pk)) and p > at
    )
    in_window = {pk for pk, at in history.positive_at.items() if starts < at <= points[-1]}
    caught = sum(
        1
        for pk in in_window
        if pk in before or (pk in first_mql and first_mql[pk] < history.positive_at[pk])
    )
    rule_set = plan.rule_set
    return Result(
        label=label,
        version=rule_set.version if rule_set and rule_set.pk else None,
        mql_threshold=threshold,
        mql=len(first_mql),
        mql_before=len(before),
        converted=converted,
        precision=round(converted / len(first_mql), 4) if first_mql else None,
        positives=len(in_window),
        caught=caught,
        recall=round(caught / len(in_window), 4) if in_window else None,
        weeks=weeks,
    )


def run(
    draft: Plan,
    threshold: int,
    *,
    months: Any = DEFAULT_MONTHS,
    now: dt.datetime | None = None,
    label: str = "",
) -> Comparison:
    """Backtest `draft` and, beside it, the active set (unless the draft is the active one)."""
    import time

    began = time.perf_counter()
    months = check_months(months)
    ends = now or timezone.now()
    starts = months_back(ends, months)
    history = _History(
        checkpoints=_checkpoints(starts, ends),
        positive_at=_first_moves(POSITIVE),
        closed_at=_first_moves(CLOSED),
    )
    result = _replay(draft, threshold, label or _label(draft.rule_set), history)
    active = RuleSet.objects.filter(status=RuleSetStatus.ACTIVE).first()
    current = None
    if active is not None and (draft.rule_set is None or draft.rule_set.pk != active.pk):
        current = _replay(plan_for(active), active.mql_threshold, _label(active), history)
    people = Person.objects.filter(deleted_at__isnull=True, created_at__lte=ends).count()
    return Comparison(
        months=months,
        starts=starts,
        ends=ends,
        people=people,
        draft=result,
        current=current,
        seconds=round(time.perf_counter() - began, 3),
    )


def _label(rule_set: RuleSet | None) -> str:
    if rule_set is None or rule_set.pk is None:
        return "File"
    return f"v{rule_set.version} ({rule_set.get_status_display().lower()})"


def backtest_rule_set(
    rule_set: RuleSet, *, months: int = DEFAULT_MONTHS, now: dt.datetime | None = None
) -> Comparison:
    return run(plan_for(rule_set), rule_set.mql_threshold, months=months, now=now)


# What `GET /api/v1/scoring/rule-sets/{id}` returns besides the settings: a saved set's
# response can be given as it is.
_READ_ONLY_SET = {"id", "version", "status", "created_at", "activated_at"}


def plan_from_data(data: Any) -> tuple[Plan, int]:
    """A rule set given as data (the API's shape: `{"name", "mql_threshold", "rules":
    [rule, ...]}`, or a set as the API returns it), checked like the API checks it; nothing
    is saved. A bad field
    raises ValidationError naming it (`rules[2].points`)."""
    from tandem.scoring.schemas import RuleIn
    from tandem.scoring.services.rules import clean_rule

    if not isinstance(data, dict):
        raise ValidationError({"rules": "Give an object with a list of rules under `rules`."})
    data = {k: v for k, v in data.items() if k not in _READ_ONLY_SET}
    unknown = set(data) - {"name", "mql_threshold", "notes", "rules"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not a rule set setting."})
    threshold = data.get("mql_threshold", 50)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise ValidationError({"mql_threshold": "Give a whole number, at least 0."})
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        raise ValidationError({"rules": "Give a non-empty list of rules."})
    plan = Plan(RuleSet(version=0, name=str(data.get("name") or ""), mql_threshold=threshold))
    words = dict(fit_field_choices())
    for index, raw in enumerate(rules):
        where = f"rules[{index}]"
        if isinstance(raw, dict):  # a rule as the API returns it: its read-only keys go
            raw = {k: v for k, v in raw.items() if k not in ("id", "words")}
            if raw.get("kind") == RuleKind.FIT and raw.get("source") == "":
                raw.pop("source")
        try:
            checked = RuleIn.model_validate(raw).model_dump()
        except PydanticError as exc:
            error = exc.errors()[0]
            name = ".".join(str(p) for p in error["loc"])
            raise ValidationError({f"{where}.{name}" if name else where: error["msg"]}) from None
        try:
            clean = clean_rule(checked, None)
        except ValidationError as exc:
            fields = getattr(exc, "message_dict", {"": exc.messages})
            name, messages = next(iter(fields.items()))
            raise ValidationError({f"{where}.{name}": messages[0]}) from None
        rule = Rule(**clean)
        rule.pk = None
        target = plan.fit if rule.kind == RuleKind.FIT else plan.engagement
        target.append((rule, describe(rule, words)))
    return plan, threshold
