"""Keyset pages for big lists (ORDER BY sort key, id; an opaque cursor), with a capped count.

OFFSET walks every skipped row and COUNT(*) reads the whole table; on a million
people both cost more than the page itself. So: offset paging is allowed for the
first few pages, the cursor for deep ones, and the count is exact up to
COUNT_CAP and reported as capped beyond it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Model, Q, QuerySet

COUNT_CAP = 10_000
MAX_OFFSET = 10_000
MAX_LIMIT = 200


@dataclass(frozen=True)
class SortSpec:
    """Columns of one sort order, all ascending or all descending, ending with the id.

    A column may be an annotation rather than a field (a higher app's value, such
    as a score over a reverse one-to-one): `annotations` gives (name, expression)
    pairs, each expression non-NULL and integer-valued, and `ordered(qs)` adds
    them before ordering. The cursor then carries the annotated values.
    """

    columns: tuple[str, ...]
    descending: bool = False
    annotations: tuple[tuple[str, Any], ...] = ()

    @property
    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [sign + c for c in (*self.columns, "id")]

    def ordered(self, qs: QuerySet) -> QuerySet:
        """`qs` with the sort's annotations, in the sort's order."""
        if self.annotations:
            qs = qs.annotate(**dict(self.annotations))
        return qs.order_by(*self.order_by)


@dataclass
class Page:
    items: list[Any]
    count: int
    count_exact: bool
    next_cursor: str | None
    limit: int
    offset: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    return (
        base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode())
        .decode()
        .rstrip("=")
    )


def _decode(cursor: str, spec: SortSpec, model: type[Model]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if not isinstance(values, list) or len(values) != len(spec.columns) + 1:
            raise ValueError
        out = []
        annotated = {name for name, _ in spec.annotations}
        for name, value in zip((*spec.columns, "id"), values, strict=True):
            if name in annotated:  # integer expressions (SortSpec)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError
                out.append(value)
                continue
            internal = model._meta.get_field(name).get_internal_type()
            if internal == "DateTimeField":
                value = dt.datetime.fromisoformat(value)
            elif internal in ("BigAutoField", "AutoField", "BigIntegerField") and not isinstance(
                value, int
            ):
                raise ValueError
            elif internal in ("CharField", "SlugField", "EmailField") and not isinstance(
                value, str
            ):
                raise ValueError  # PostgreSQL refuses to compare text with a number
            out.append(value)
        return out
    except (ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationError(
            {"cursor": "This cursor is not valid for this list and sort."}
        ) from None


def _after(qs: QuerySet, spec: SortSpec, values: list[Any]) -> QuerySet:
    """Rows after `values` in sort order, as one row-value comparison the index can seek."""
    if spec.annotations:
        return qs.filter(_after_condition(spec, values))
    table = qs.model._meta.db_table
    model = qs.model
    cols = ", ".join(
        f'"{table}"."{model._meta.get_field(c).column}"' for c in (*spec.columns, "id")
    )
    marks = ", ".join(["%s"] * len(values))
    op = "<" if spec.descending else ">"
    ops = connections[qs.db].ops
    values = [ops.adapt_datetimefield_value(v) if isinstance(v, dt.datetime) else v for v in values]
    return qs.extra(where=[f"({cols}) {op} ({marks})"], params=values)  # noqa: S610 (columns are ours)


def _after_condition(spec: SortSpec, values: list[Any]) -> Q:
    """The row-value comparison spelt out (a > x, or a = x and b > y, ...): annotations
    cannot go into raw SQL, and the sort is not served by one index anyway."""
    op = "lt" if spec.descending else "gt"
    names = (*spec.columns, "id")
    cond = Q()
    for i in reversed(range(len(names))):
        step = Q(**{f"{names[i]}__{op}": values[i]})
        cond = step if i == len(names) - 1 else step | (Q(**{names[i]: values[i]}) & cond)
    return cond


def capped_count(qs: QuerySet) -> tuple[int, bool]:
    n = qs.order_by()[: COUNT_CAP + 1].count()
    return (COUNT_CAP, False) if n > COUNT_CAP else (n, True)


def paginate(
    qs: QuerySet,
    *,
    spec: SortSpec,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
    with_count: bool = True,
) -> Page:
    _check_window(limit, offset, cursor)
    count, exact = capped_count(qs) if with_count else (0, False)
    ordered = spec.ordered(qs)
    if cursor:
        ordered = _after(ordered, spec, _decode(cursor, spec, qs.model))
    rows = list(ordered[offset : offset + limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = _encode([getattr(last, c) for c in spec.columns] + [last.pk])
    return Page(
        items=rows,
        count=count,
        count_exact=exact,
        next_cursor=next_cursor,
        limit=limit,
        offset=offset,
    )


def _check_window(limit: int, offset: int, cursor: str | None) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": f"Use a limit from 1 to {MAX_LIMIT}."})
    if offset < 0 or offset > MAX_OFFSET:
        raise ValidationError(
            {"offset": f"Use an offset from 0 to {MAX_OFFSET}; page deeper with the cursor."}
        )
    if cursor and offset:
        raise ValidationError({"cursor": "Give a cursor or an offset, not both."})


# A condition matching more rows than this is "broad": walking the sort index and
# filtering finds a page sooner than reading and sorting every match.
BROAD = 2_000


def paginate_any_of(
    qs: QuerySet,
    conditions: list[Q],
    *,
    walk_sort_index: Callable[[QuerySet, int], QuerySet | None] | None = None,
    spec: SortSpec,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
    with_count: bool = True,
) -> Page:
    """A page of rows matching any of `conditions`, as `paginate` would give for their OR.

    Each condition runs as its own query in the list's order with a limit, so
    each is one index range the planner estimates well; the sort keys are merged
    here. Keys are compared as Python values, which order like the database's
    byte-wise collation (ADR 0004).

    SQLite has no range statistics, so it reads a broad condition through that
    condition's own index and sorts every match. `walk_sort_index(qs, i)` gives
    condition `i` in a form no index serves, so SQLite walks the sort order
    instead (None: keep the condition's index); PostgreSQL's planner makes that
    choice itself.
    """
    _check_window(limit, offset, cursor)
    if not conditions:
        return Page(
            items=[], count=0, count_exact=True, next_cursor=None, limit=limit, offset=offset
        )
    columns = (*spec.columns, "id")
    ordered = spec.ordered(qs)
    if cursor:
        ordered = _after(ordered, spec, _decode(cursor, spec, qs.model))
    need = offset + limit + 1
    sqlite = connections[qs.db].vendor == "sqlite"
    keys: dict[int, tuple[Any, ...]] = {}
    for i, cond in enumerate(conditions):
        matching = ordered.filter(cond)
        walking = walk_sort_index(ordered, i) if sqlite and walk_sort_index else None
        if walking is not None and qs.filter(cond).order_by()[: BROAD + 1].count() > BROAD:
            matching = walking
        for row in matching.values_list(*columns)[:need]:
            keys[row[-1]] = tuple(row)
    window = sorted(keys.values(), reverse=spec.descending)[offset:need]
    has_more = len(window) > limit
    window = window[:limit]
    by_id = {obj.pk: obj for obj in qs.filter(pk__in=[k[-1] for k in window])}
    items = [by_id[k[-1]] for k in window if k[-1] in by_id]
    next_cursor = _encode(list(window[-1])) if has_more and window else None
    count, exact = 0, False
    if with_count:
        ids: set[int] = set()
        for cond in conditions:
            ids.update(qs.filter(cond).order_by().values_list("id", flat=True)[: COUNT_CAP + 1])
            if len(ids) > COUNT_CAP:
                break
        count, exact = (COUNT_CAP, False) if len(ids) > COUNT_CAP else (len(ids), True)
    return Page(
        items=items,
        count=count,
        count_exact=exact,
        next_cursor=next_cursor,
        limit=limit,
        offset=offset,
    )
