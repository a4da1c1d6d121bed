"""What the model learns from: each lead's outcome, and what was known at its decision time.

The outcome is the furthest stage a person reached (issue 19, point 6):

- positive: reached opportunity, customer or advocate;
- negative: disqualified, or no move forward in the funnel for `window_days`
  after their last one (so a lead who sat untouched for the window, or a
  sales-accepted lead that went nowhere);
- left out: everyone else, still inside the window; people who never were a lead
  (subscribers), and people who entered the funnel at opportunity or later (an
  imported customer base: nobody ever decided anything about them as leads).

No feature measures time up to the decision (days since the last touch, days
from a date field): the decision time is set by the outcome, so such a feature
would read the label. Features are counted up to each person's *decision time*: the first move out of
the lead stage (to MQL, sales accepted, opportunity, disqualified...) or, for a
lead who never moved, the end of the window. Touchpoints and activities after it
are what sales did with the lead (calls, meetings, the deal), and they would
leak the label: a model that learned "meetings make customers" would be
useless on the leads it is asked about, who have had no meeting yet. A person
scored today is counted up to now, which is the same moment: before the decision.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Count

from tandem.campaigns.models import Campaign, Touchpoint, TouchpointKind
from tandem.people.models import (
    FUNNEL_ORDER,
    Activity,
    ActivityKind,
    Company,
    CustomField,
    CustomFieldEntity,
    CustomFieldType,
    Person,
    Stage,
    StageChange,
)

POSITIVE_STAGES = {Stage.OPPORTUNITY, Stage.CUSTOMER, Stage.ADVOCATE}
# People scored today: those a decision about them is still to come.
SCORED_STAGES = [Stage.SUBSCRIBER, Stage.LEAD, Stage.MQL, Stage.SAL, Stage.RECYCLED]
LEAD_RANK = FUNNEL_ORDER[Stage.LEAD]
POSITIVE_RANK = FUNNEL_ORDER[Stage.OPPORTUNITY]
DAY = 86400.0

# Most frequent values kept per categorical feature; rarer ones are one "(other)" value.
MAX_CATEGORIES = 60
MIN_CATEGORY_COUNT = 5
# Campaigns with a column of their own (the most touched); the rest share one.
MAX_CAMPAIGNS = 50

FREE_MAIL = {
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.de", "yahoo.fr", "hotmail.com",
    "hotmail.de", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com",
    "gmx.de", "gmx.net", "gmx.at", "web.de", "t-online.de", "freenet.de", "orange.fr",
    "free.fr", "laposte.net", "libero.it", "proton.me", "protonmail.com", "mail.ru",
    "yandex.ru", "posteo.de", "mailbox.org", "zoho.com",
}  # fmt: skip
SENIORITY = (
    ("c_level", r"\b(ceo|cfo|cto|coo|cmo|cio|chief|founder|owner|president|geschäftsführer)"),
    ("vp", r"\b(vp|vice president)"),
    ("head", r"\bhead of|\bleiter"),
    ("director", r"\bdirector"),
    ("manager", r"\bmanager"),
)
DEPARTMENTS = (
    ("marketing", r"marketing|brand|growth|content"),
    ("sales", r"sales|account|business development|vertrieb"),
    ("it", r"\bit\b|engineer|developer|software|technolog|data"),
    ("operations", r"operations|logistics|supply|purchas|procure"),
    ("finance", r"finance|controller|accounting"),
    ("hr", r"\bhr\b|people|talent|recruit"),
)


@lru_cache(maxsize=20_000)
def _word_class(title: str, table: tuple[tuple[str, str], ...]) -> str:
    text = title.lower()
    if not text.strip():
        return "(none)"
    for name, pattern in table:
        if re.search(pattern, text):
            return name
    return "(other)"


@dataclass
class Outcomes:
    """The labelled people, in one order: ids, labels, decision times and lead times (epoch s)."""

    person_ids: np.ndarray
    labels: np.ndarray  # 1 positive, 0 negative
    cutoffs: np.ndarray
    lead_at: np.ndarray
    in_window: int  # left out: still inside the window

    @property
    def positives(self) -> int:
        return int(self.labels.sum())

    @property
    def negatives(self) -> int:
        return int(len(self.labels) - self.labels.sum())


def outcomes(*, now: dt.datetime, window_days: int) -> Outcomes:
    """Every live person's outcome from their stage history, as the module docstring says."""
    window = window_days * DAY
    now_s = now.timestamp()
    person, change = Person._meta.db_table, StageChange._meta.db_table
    current: dict[int, str] = {}
    created: dict[int, float] = {}
    for pid, stage, at in _rows(
        f"SELECT id, stage, {_epoch('created_at')} FROM {person} WHERE deleted_at IS NULL"  # noqa: S608
    ):
        current[pid], created[pid] = stage, at
    history: dict[int, list[tuple[str, float]]] = {}
    for pid, to_stage, at in _rows(
        f"SELECT c.person_id, c.to_stage, {_epoch('c.changed_at')} FROM {change} c "  # noqa: S608
        f"JOIN {person} p ON p.id = c.person_id WHERE p.deleted_at IS NULL "
        "ORDER BY c.person_id, c.changed_at, c.id"
    ):
        history.setdefault(pid, []).append((to_stage, at))
    ids, labels, cutoffs, leads = [], [], [], []
    in_window = 0
    for pid, stage in current.items():
        steps = history.get(pid) or [(stage, created[pid])]
        row = _outcome(steps, stage, now_s, window)
        if row is None:
            continue
        if isinstance(row, str):  # "window"
            in_window += 1
            continue
        label, cutoff, lead_at = row
        ids.append(pid)
        labels.append(label)
        cutoffs.append(cutoff)
        leads.append(lead_at)
    order = np.argsort(np.asarray(ids, dtype=np.int64), kind="stable")
    return Outcomes(
        person_ids=np.asarray(ids, dtype=np.int64)[order],
        labels=np.asarray(labels, dtype=np.int8)[order],
        cutoffs=np.asarray(cutoffs, dtype=np.float64)[order],
        lead_at=np.asarray(leads, dtype=np.float64)[order],
        in_window=in_window,
    )


def _epoch(column: str) -> str:
    """SQL for a datetime column as seconds since 1970 (a float), on either database."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})::float8"
    return f"(julianday({column}) - 2440587.5) * 86400.0"


def _rows(sql: str, params: list[Any] | None = None) -> Iterator[tuple[Any, ...]]:
    """Rows of a read on the driver's cursor: no per-value conversion (100k people x 5 touches).

    The statements name tables from model metadata only; values go as parameters."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        while batch := cursor.fetchmany(20_000):
            yield from batch


def _outcome(
    steps: list[tuple[str, float]], stage: str, now: float, window: float
) -> tuple[int, float, float] | str | None:
    """(label, decision time, lead time), "window" when still open, None when not a lead."""
    lead_at = cutoff = None
    best_rank, progressed_at = -1, 0.0
    positive = disqualified = False
    for to_stage, at in steps:
        rank = FUNNEL_ORDER.get(to_stage, -1)
        if lead_at is None:
            if rank >= LEAD_RANK or to_stage == Stage.RECYCLED:
                if rank >= POSITIVE_RANK:
                    return None  # entered at opportunity or later: never a lead decision
                lead_at = at
                if to_stage != Stage.LEAD:
                    cutoff = at
            elif to_stage == Stage.DISQUALIFIED:
                return None  # a subscriber disqualified before ever being a lead
        elif cutoff is None and to_stage != Stage.LEAD:
            cutoff = at
        if rank > best_rank:
            best_rank, progressed_at = rank, at
        if rank >= POSITIVE_RANK:
            positive = True
            break
        disqualified = to_stage == Stage.DISQUALIFIED
    if lead_at is None:
        return None
    decided = cutoff if cutoff is not None else lead_at + window
    if positive:
        return 1, decided, lead_at
    if disqualified and stage == Stage.DISQUALIFIED:
        return 0, decided, lead_at
    if now - max(progressed_at, lead_at) >= window:
        return 0, min(decided, now), lead_at
    return "window"


# --- features ---------------------------------------------------------------------------------


@dataclass
class Features:
    """The model's input: a float matrix (categorical columns hold codes) and its columns."""

    matrix: np.ndarray
    names: list[str]  # machine names, one per column
    labels: list[str]  # words for people: "Country", "Form fill touchpoints"
    is_categorical: np.ndarray  # bool per column
    spec: dict[str, Any]

    def describe(self, column: int, value: float) -> str:
        """A column's value in words: "Country: DE", "Form fill touchpoints: 3"."""
        label = self.labels[column]
        if self.is_categorical[column]:
            vocab = self.spec["categories"][self.names[column]]
            text = vocab[int(value)] if 0 <= value < len(vocab) else "(other)"
            return f"{label}: {text}"
        if np.isnan(value):
            return f"{label}: empty"
        if self.names[column] in self.spec.get("booleans", ()):
            return f"{label}: {'yes' if value else 'no'}"
        return f"{label}: {value:g}"


def _custom_definitions() -> list[tuple[str, str, str, str]]:
    """(entity, key, label, type) for every custom field of people and companies."""
    return [
        (f.entity, f.key, f.label, f.field_type)
        for f in CustomField.objects.order_by("entity", "position", "id")
    ]


def build_features(
    person_ids: np.ndarray, cutoffs: np.ndarray, spec: dict[str, Any] | None = None
) -> Features:
    """The feature matrix of these people, counting touches up to each one's cut-off.

    Without `spec`, the vocabularies and campaign columns are learned from these
    rows (training); with it, the trained model's columns are rebuilt (scoring,
    evaluating), and values it never saw become "(other)".
    """
    n = len(person_ids)
    assert not n or bool(np.all(np.diff(person_ids) > 0)), "person_ids must be sorted"
    index = {int(pid): i for i, pid in enumerate(person_ids)}
    people = Person.objects.filter(pk__in=[int(p) for p in person_ids]) if n < 5000 else None
    rows = (people if people is not None else Person.objects.all()).values_list(
        "id", "country", "source", "title", "phone", "email", "company_id", "custom_fields"
    )
    num: dict[str, np.ndarray] = {}
    cat: dict[str, list[str]] = {}
    labels: dict[str, str] = {}

    def numeric(name: str, label: str) -> np.ndarray:
        if name not in num:
            num[name] = np.full(n, np.nan)
            labels[name] = label
        return num[name]

    def categorical(name: str, label: str) -> list[str]:
        if name not in cat:
            cat[name] = ["(none)"] * n
            labels[name] = label
        return cat[name]

    # Date fields are left out: "days from the date to the cut-off" would carry the
    # cut-off itself, which the outcome decides (a quick decision is a positive one).
    defs = [d for d in _custom_definitions() if d[3] != CustomFieldType.DATE]
    person_defs = [d for d in defs if d[0] == CustomFieldEntity.PERSON]
    company_defs = [d for d in defs if d[0] == CustomFieldEntity.COMPANY]
    for _, key, label, kind in person_defs:  # every column exists even when all empty
        (numeric if _is_numeric(kind) else categorical)(f"person.{key}", label)
    for _, key, label, kind in company_defs:
        (numeric if _is_numeric(kind) else categorical)(f"company.{key}", f"Company {label}")
    country = categorical("country", "Country")
    source = categorical("source", "Source")
    seniority = categorical("seniority", "Seniority (from the title)")
    department = categorical("department", "Department (from the title)")
    has_phone = numeric("has_phone", "Has a phone number")
    free_mail = numeric("free_mail", "Email is free-mail")
    has_company = numeric("has_company", "Has a company")
    company_of = np.full(n, -1, dtype=np.int64)
    customs: list[dict[str, Any]] = [{}] * n
    for pid, ctry, src, title, phone, email, company_id, custom in rows.iterator(chunk_size=5000):
        i = index.get(pid)
        if i is None:
            continue
        country[i] = ctry or "(none)"
        source[i] = src or "(none)"
        seniority[i] = _word_class(title, SENIORITY)
        department[i] = _word_class(title, DEPARTMENTS)
        has_phone[i] = 1.0 if phone else 0.0
        domain = email.rpartition("@")[2].lower()
        free_mail[i] = np.nan if not email else float(domain in FREE_MAIL)
        has_company[i] = 1.0 if company_id else 0.0
        if company_id:
            company_of[i] = company_id
        customs[i] = custom or {}
    _fill_custom(customs, person_defs, "person", num, cat)
    _company_features(company_of, company_defs, num, cat, categorical)
    campaigns = _count_features(person_ids, index, cutoffs, numeric, spec)
    if spec is None:
        booleans = ["has_phone", "free_mail", "has_company"] + [
            f"{entity}.{key}" for entity, key, _, kind in defs if kind == CustomFieldType.BOOL
        ]
        spec = {"categories": _vocabularies(cat), "campaigns": campaigns, "booleans": booleans}
    return _encode(num, cat, labels, spec)


def _is_numeric(kind: str) -> bool:
    return kind in (CustomFieldType.NUMBER, CustomFieldType.BOOL)


def _fill_custom(
    customs: list[dict[str, Any]],
    defs: list[tuple[str, str, str, str]],
    prefix: str,
    num: dict[str, np.ndarray],
    cat: dict[str, list[str]],
) -> None:
    """Each custom field as a column, one pass over the rows per field (100k x 100 in ~1 s)."""
    for _, key, _, kind in defs:
        name = f"{prefix}.{key}"
        values = [d.get(key) for d in customs]
        if kind in (CustomFieldType.NUMBER, CustomFieldType.BOOL):
            try:  # None becomes NaN, True 1.0
                num[name][:] = np.array(values, dtype=np.float64)
            except (TypeError, ValueError):  # a value stored before the field's type changed
                num[name][:] = [_number(v) for v in values]
        else:
            cat[name][:] = ["(none)" if v is None or v == "" else str(v)[:100] for v in values]


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _company_features(
    company_of: np.ndarray,
    defs: list[tuple[str, str, str, str]],
    num: dict[str, np.ndarray],
    cat: dict[str, list[str]],
    categorical: Any,
) -> None:
    industry = categorical("company.industry", "Company industry")
    size = categorical("company.size", "Company size")
    wanted = {int(c) for c in company_of if c >= 0}
    companies: dict[int, tuple[str, str, dict[str, Any]]] = {}
    rows = Company.objects.values_list("id", "industry", "size", "custom_fields")
    if len(wanted) < 5000:
        rows = rows.filter(pk__in=wanted)
    for cid, ind, sz, custom in rows.iterator(chunk_size=5000):
        companies[cid] = (ind or "(none)", sz or "(none)", custom or {})
    empty: tuple[str, str, dict[str, Any]] = ("(none)", "(none)", {})
    found = [companies.get(int(cid), empty) for cid in company_of]
    industry[:] = [f[0] for f in found]
    size[:] = [f[1] for f in found]
    _fill_custom([f[2] for f in found], defs, "company", num, cat)


def _count_features(
    person_ids: np.ndarray,
    index: dict[int, int],
    cutoffs: np.ndarray,
    numeric: Any,
    spec: dict[str, Any] | None,
) -> list[int]:
    """Touchpoints by kind and by campaign, activities by kind: up to each cut-off."""
    n = len(person_ids)
    ids = [int(p) for p in person_ids]
    if spec is None:
        top = (
            Touchpoint.objects.filter(campaign__isnull=False)
            .values("campaign_id")
            .annotate(c=Count("id"))
            .order_by("-c", "campaign_id")[:MAX_CAMPAIGNS]
        )
        campaigns = [row["campaign_id"] for row in top]
    else:
        campaigns = list(spec["campaigns"])
    column_of_campaign = {cid: k for k, cid in enumerate(campaigns)}
    kinds = [k.value for k in TouchpointKind]
    by_kind = np.zeros((n, len(kinds)))
    by_campaign = np.zeros((n, len(campaigns) + 1))
    only, params = _only(ids)
    table = Touchpoint._meta.db_table
    rows = list(
        _rows(
            f"SELECT person_id, kind, campaign_id, {_epoch('occurred_at')} FROM {table}{only}",  # noqa: S608
            params,
        )
    )
    at_row, keep = _counted(rows, person_ids, cutoffs)
    kind_col = {k: j for j, k in enumerate(kinds)}
    other = len(campaigns)
    for r, i in zip(keep.tolist(), at_row.tolist(), strict=True):
        _, kind, cid, _ = rows[r]
        by_kind[i, kind_col.get(kind, 0)] += 1
        if cid is not None:
            by_campaign[i, column_of_campaign.get(cid, other)] += 1
    labels = dict(TouchpointKind.choices)
    for j, kind in enumerate(kinds):
        numeric(f"touch.{kind}", f"{labels[kind]} touchpoints")[:] = by_kind[:, j]
    names = dict(_campaign_names(campaigns))
    for k, cid in enumerate(campaigns):
        column = numeric(f"campaign.{cid}", f"Touchpoints in {names.get(cid, f'#{cid}')}")
        column[:] = by_campaign[:, k]
    numeric("campaign.other", "Touchpoints in other campaigns")[:] = by_campaign[:, -1]
    activity_kinds = [k.value for k in ActivityKind]
    by_activity = np.zeros((n, len(activity_kinds)))
    table = Activity._meta.db_table
    where = f"{only} AND" if only else " WHERE"
    rows = list(
        _rows(
            f"SELECT person_id, kind, {_epoch('occurred_at')} FROM {table}"  # noqa: S608
            f"{where} person_id IS NOT NULL",
            params,
        )
    )
    at_row, keep = _counted(rows, person_ids, cutoffs)
    activity_col = {k: j for j, k in enumerate(activity_kinds)}
    for r, i in zip(keep.tolist(), at_row.tolist(), strict=True):
        by_activity[i, activity_col.get(rows[r][1], 0)] += 1
    activity_labels = dict(ActivityKind.choices)
    for j, kind in enumerate(activity_kinds):
        label = f"{activity_labels[kind]} activities"
        numeric(f"activity.{kind}", label)[:] = by_activity[:, j]
    return campaigns


def _only(ids: list[int]) -> tuple[str, list[int]]:
    """A WHERE on these people when they are few; all rows otherwise (cheaper than IN)."""
    if len(ids) >= 5000:
        return "", []
    if not ids:
        return " WHERE 1 = 0", []
    return f" WHERE person_id IN ({', '.join(['%s'] * len(ids))})", ids


def _counted(
    rows: list[tuple[Any, ...]], person_ids: np.ndarray, cutoffs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(person row, source row) of the rows that belong to these people, at or before
    each one's cut-off. `person_ids` is sorted."""
    if not rows or not len(person_ids):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    moments = np.fromiter((row[-1] for row in rows), dtype=np.float64, count=len(rows))
    at = np.clip(np.searchsorted(person_ids, pids), 0, len(person_ids) - 1)
    keep = np.flatnonzero((person_ids[at] == pids) & (moments <= cutoffs[at] + 1e-3))
    return at[keep], keep


def _campaign_names(ids: list[int]) -> list[tuple[int, str]]:
    return list(Campaign.objects.filter(pk__in=ids).values_list("id", "name"))


def _vocabularies(cat: dict[str, list[str]]) -> dict[str, list[str]]:
    """Per categorical column: its frequent values in order, then "(other)" last."""
    vocab = {}
    for name, values in cat.items():
        counts = Counter(values)
        kept = [
            v
            for v, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if c >= MIN_CATEGORY_COUNT and v != "(other)"
        ][:MAX_CATEGORIES]
        vocab[name] = [*kept, "(other)"]
    return vocab


def _encode(
    num: dict[str, np.ndarray],
    cat: dict[str, list[str]],
    labels: dict[str, str],
    spec: dict[str, Any],
) -> Features:
    vocab = spec["categories"]
    num_names = sorted(num)
    if "numeric" in spec:  # scoring: the trained columns, in their order
        num_names = list(spec["numeric"])
    else:
        spec["numeric"] = num_names
    cat_names = list(vocab)
    n = len(next(iter(num.values()))) if num else len(next(iter(cat.values()), []))
    matrix = np.full((n, len(num_names) + len(cat_names)), np.nan, dtype=np.float64)
    for j, name in enumerate(num_names):
        if name in num:
            matrix[:, j] = num[name]
    for k, name in enumerate(cat_names):
        codes = {v: c for c, v in enumerate(vocab[name])}
        other = len(vocab[name]) - 1
        values = cat.get(name, ["(none)"] * n)
        matrix[:, len(num_names) + k] = [codes.get(v, other) for v in values]
    spec.setdefault("labels", {})
    for name in [*num_names, *cat_names]:
        if name in labels:
            spec["labels"][name] = labels[name]
    return Features(
        matrix=matrix,
        names=[*num_names, *cat_names],
        labels=[spec["labels"].get(name, name) for name in [*num_names, *cat_names]],
        is_categorical=np.array([False] * len(num_names) + [True] * len(cat_names), dtype=bool),
        spec=spec,
    )
