"""Scoring reads: a person's score card, list conditions and export columns for people."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from tandem.core.pagination import SortSpec
from tandem.people.extensions import ListSort
from tandem.people.models import Person
from tandem.scoring.models import PersonScore, RuleSet, RuleSetStatus, ScoreOverride


@dataclass
class Reason:
    """One line of the explanation: `words` is what the person page shows."""

    rule: str
    points: int
    detail: str
    kind: str

    @property
    def words(self) -> str:
        sign = f"{self.points:+d} " if self.kind != "override" else ""
        return f"{sign}{self.rule}" + (f", {self.detail}" if self.detail else "")

    def as_api(self) -> dict[str, Any]:
        return {"rule": self.rule, "points": self.points, "detail": self.detail}


@dataclass
class ScoreCard:
    score: int = 0
    fit_score: int = 0
    engagement_score: int = 0
    grade: str = ""
    is_not_a_lead: bool = False
    reasons: list[Reason] = field(default_factory=list)
    scored_at: dt.datetime | None = None
    rule_set_version: int | None = None
    mql_threshold: int | None = None
    override: ScoreOverride | None = None
    history: list[ScoreOverride] = field(default_factory=list)
    override_url: str = ""

    @property
    def is_above_threshold(self) -> bool:
        return self.mql_threshold is not None and self.score >= self.mql_threshold

    @property
    def explanation(self) -> list[dict[str, Any]]:
        return [r.as_api() for r in self.reasons]


def active_rule_set() -> RuleSet | None:
    return RuleSet.objects.filter(status=RuleSetStatus.ACTIVE).first()


def override_in_force(person_id: int, now: dt.datetime | None = None) -> ScoreOverride | None:
    now = now or timezone.now()
    return (
        ScoreOverride.objects.filter(person_id=person_id, ended_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at", "-id")
        .first()
    )


def person_score(person: Person) -> ScoreCard:
    """The person's score card (people's `score` section and API fields, ADR 0005).

    An override that expired since the last scoring is left out here already
    (it lapses by itself; the worker's loop rewrites the stored row within a minute).
    Cached on the instance: the API's four score fields read it once.
    """
    cached = getattr(person, "_score_card", None)
    if cached is not None:
        return cached
    now = timezone.now()
    row = PersonScore.objects.filter(person_id=person.pk).first()
    rule_set = active_rule_set()
    card = ScoreCard(
        mql_threshold=rule_set.mql_threshold if rule_set else None,
        override_url=reverse("scoring:override", args=[person.pk]),
        history=list(
            ScoreOverride.objects.filter(person_id=person.pk).order_by("-created_at")[:20]
        ),
    )
    if row is not None:
        card.fit_score, card.engagement_score = row.fit_score, row.engagement_score
        card.score, card.grade, card.is_not_a_lead = row.score, row.grade, row.is_not_a_lead
        card.scored_at, card.rule_set_version = row.scored_at, row.rule_set_version
        card.reasons = [
            Reason(
                rule=str(item.get("rule", "")),
                points=int(item.get("points") or 0),
                detail=str(item.get("detail", "")),
                kind=str(item.get("kind", "")),
            )
            for item in row.explanation or []
        ]
        if row.override_expires_at is not None and row.override_expires_at <= now:
            card.reasons = [r for r in card.reasons if r.kind != "override"]
            card.score = row.fit_score + row.engagement_score
            card.grade, card.is_not_a_lead = "", False
    card.override = next(
        (
            o
            for o in card.history
            if o.ended_at is None and (o.expires_at is None or o.expires_at > now)
        ),
        None,
    )
    person._score_card = card  # type: ignore[attr-defined]
    return card


def _threshold(param: str, value: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError({param: "Give a whole number."}) from None
    if abs(number) > 10**9:
        raise ValidationError({param: "Give a number between -1000000000 and 1000000000."})
    return number


def _scored(param: str, column: str, value: str) -> Q:
    number = _threshold(param, value)
    return Q(pk__in=PersonScore.objects.filter(**{f"{column}__gte": number}).values("person_id"))


def min_score_condition(value: str) -> Q:
    return _scored("min_score", "score", value)


def min_fit_condition(value: str) -> Q:
    return _scored("min_fit_score", "fit_score", value)


def min_engagement_condition(value: str) -> Q:
    return _scored("min_engagement_score", "engagement_score", value)


def score_choices() -> list[tuple[str, str]]:
    """The list's score filter steps (fixed, so the list page asks no more queries)."""
    return [(str(m), f"{m} or more") for m in (10, 25, 50, 75, 100)]


def score_export_columns() -> list[tuple[str, Any]]:
    def column(name: str) -> Subquery:
        return Subquery(PersonScore.objects.filter(person_id=OuterRef("pk")).values(name)[:1])

    return [
        ("score", column("score")),
        ("fit_score", column("fit_score")),
        ("engagement_score", column("engagement_score")),
    ]


SORTED_SCORES = (
    ("score", "Score"),
    ("fit_score", "Fit score"),
    ("engagement_score", "Engagement score"),
)


def score_sorts() -> list[ListSort]:
    """The people list's sorts by score (people's `sort`, ADR 0005), highest first and lowest
    first. People not scored yet come last either way: a flag column (scored or not) leads
    the order, then the score (0 for the unscored, never NULL, so a cursor can carry it), then
    the id. The score is read through the LEFT JOIN to the person's score row."""
    sorts = []
    for column, noun in SORTED_SCORES:
        value = (f"{column}_sorted", Coalesce(F(f"score_row__{column}"), Value(0)))
        for descending in (True, False):
            # Descending: scored = 1 comes first; ascending: scored = 0 comes first.
            scored, unscored = (1, 0) if descending else (0, 1)
            flag = (
                f"{column}_unscored_last",
                Case(When(score_row__isnull=True, then=Value(unscored)), default=Value(scored)),
            )
            sorts.append(
                ListSort(
                    key=("-" if descending else "") + column,
                    label=f"{noun}, {'highest' if descending else 'lowest'} first",
                    spec=SortSpec(
                        (flag[0], value[0]), descending=descending, annotations=(flag, value)
                    ),
                )
            )
    return sorts


def rule_sets() -> QuerySet[RuleSet]:
    return RuleSet.objects.order_by("-version")
