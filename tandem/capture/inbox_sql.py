"""The web-form post's statements, run on the driver's own cursor (the hot path of
`inbox.accept`): the rate-limit hits, the guarded INSERT of the inbox row, the check
that the form is still open, and the count of waiting rows for the back-pressure."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import Any, cast

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

from tandem.capture.models import InboxSubmission, WebForm
from tandem.core import ratelimit

BEHIND_CHECK_SECONDS = 0.2
_behind = [0.0, 0]  # when last counted, how many were waiting
_WAITING_SQL: dict[str, str] = {}


def waiting_lately(db: BaseDatabaseWrapper, max_attempts: int) -> int:
    """Submissions waiting in the inbox, counted at most every BEHIND_CHECK_SECONDS per
    process (for the back-pressure, `spool.hold`; the spool counts its own); `max_attempts`:
    rows tried this often are failed, not waiting."""
    now = time.monotonic()
    if now - _behind[0] >= BEHIND_CHECK_SECONDS:
        _behind[0] = now
        sql = _WAITING_SQL.get(db.vendor)
        if sql is None:
            table = db.ops.quote_name(InboxSubmission._meta.db_table)
            sql = _WAITING_SQL[db.vendor] = f'SELECT COUNT(*) FROM {table} WHERE "attempts" < %s'  # noqa: S608
        _behind[1] = int(run(db, sql, [max_attempts])[0][0][0])
    return int(_behind[1])


_NATIVE_SQL: dict[str, str] = {}
_TUPLES_OK = psycopg.pq.ExecStatus.TUPLES_OK


def run(db: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> tuple[list[Any], int]:
    """(rows, row count) of one statement run on the driver's own cursor.

    This is the hot path: Django's cursor wrapper would format the values
    into the SQL text on PostgreSQL (client-side binding: the JSON payload
    quoted as a literal, the statement planned afresh each time) and
    translate the placeholders on SQLite each time. The driver's cursor binds
    the values natively and PostgreSQL keeps the statement prepared (see
    TANDEM_DB_PREPARED_STATEMENTS in the settings). Measured
    on PostgreSQL: 400-450 → 615 accepted posts/s.
    """
    db.ensure_connection()
    raw = db.connection
    if db.vendor == "sqlite":
        native = _NATIVE_SQL.get(sql)
        if native is None:
            native = _NATIVE_SQL[sql] = sql.replace("%s", "?")
        cursor = raw.execute(native, params)
        try:
            return cursor.fetchall(), cursor.rowcount
        finally:
            cursor.close()
    # Not raw.cursor(): Django gives its psycopg connections a client-side binding cursor
    # class, which would quote every value into the text (and prepare each distinct text).
    with psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        # Whether rows came back, from the result's status: `cursor.description` would
        # build a Column for each of them first (5% of a post's CPU on PostgreSQL,
        # `py-spy` on `python -m bench.accept_cpu --db postgres`).
        result = cursor.pgresult
        rows = cursor.fetchall() if result is not None and result.status == _TUPLES_OK else []
        return rows, cursor.rowcount


def count(db: BaseDatabaseWrapper, hits: ratelimit.Hits | None) -> int:
    """Run the hits; seconds to wait if a limit is exceeded, else 0."""
    if hits is None:
        return 0
    rows, _ = run(db, hits.sql, hits.params) if hits.keys else ([], 0)
    results = hits.results(rows)
    return max((r.retry_after for r in results if not r.allowed), default=0)


_INSERT_SQL: dict[str, str] = {}


def insert_sql(db: BaseDatabaseWrapper) -> str:
    """INSERT ... SELECT guarded by the form's state (add conditions after it with AND)."""
    sql = _INSERT_SQL.get(db.vendor)
    if sql is None:
        meta = InboxSubmission._meta
        q = db.ops.quote_name
        columns = ", ".join(
            q(str(cast(Field, meta.get_field(n)).column))
            for n in ("form", "received_at", "payload")
        )
        sql = _INSERT_SQL[db.vendor] = (
            # Names from the models, values as parameters.
            f"INSERT INTO {q(meta.db_table)} ({columns}, {q('attempts')}, {q('last_error')}) "  # noqa: S608
            f"SELECT %s, %s, %s, 0, '' FROM {q(WebForm._meta.db_table)} "
            f"WHERE {q('id')} = %s AND {q('updated_at')} = %s AND {q('is_active')}"
        )
    return sql


def open_form_sql(db: BaseDatabaseWrapper) -> str:
    """A row while the form is active and unchanged (its id and updated_at as parameters)."""
    q = db.ops.quote_name
    return (
        f"SELECT 1 FROM {q(WebForm._meta.db_table)} "  # noqa: S608
        f"WHERE {q('id')} = %s AND {q('updated_at')} = %s AND {q('is_active')}"
    )


def insert_params(
    db: BaseDatabaseWrapper, form: WebForm, received_at: Any, payload: dict[str, Any]
) -> list[Any]:
    """The values as the fields would prepare them (`get_db_prep_save`: aware datetimes
    and a dict for a JSONField with no encoder), straight through the backend's adapters."""
    return [
        form.pk,
        datetime_param(db, InboxSubmission, "received_at", received_at),
        db.ops.adapt_json_value(payload, None),
        form.pk,
        datetime_param(db, WebForm, "updated_at", form.updated_at),
    ]


def datetime_param(db: BaseDatabaseWrapper, model: type[Model], name: str, value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return db.ops.adapt_datetimefield_value(value)
    # Naive or not a datetime: the field's own preparation (its warning, its conversion).
    return cast(Field, model._meta.get_field(name)).get_db_prep_value(value, db)


def insert(
    db: BaseDatabaseWrapper, form: WebForm, received_at: Any, payload: dict[str, Any]
) -> bool:
    """One INSERT, without the ORM's per-object work (this is the hot path).
    False when no row was written (the form changed or closed)."""
    _, count = run(db, insert_sql(db), insert_params(db, form, received_at, payload))
    return count == 1


_COUNTED_INSERT_SQL: dict[int, str] = {}


def count_and_insert_in_one_statement(
    db: BaseDatabaseWrapper,
    hits: ratelimit.Hits,
    form: WebForm,
    received_at: Any,
    payload: dict[str, Any],
) -> tuple[int, bool]:
    """PostgreSQL: the counters' UPSERT and the guarded INSERT as one statement
    (data-modifying CTEs). The counter rows every post updates are locked only
    for this statement's commit, not across several round trips. `hits` has
    keys to count (else `insert` alone)."""
    sql = _COUNTED_INSERT_SQL.get(len(hits.keys))
    if sql is None:
        marks = ", ".join(["(%s, %s)"] * len(hits.keys))
        sql = _COUNTED_INSERT_SQL[len(hits.keys)] = (
            # Statements from the models' names, values as parameters.
            f"WITH hits AS ({hits.sql}), "  # noqa: S608
            f'limits ("key", "limit") AS (VALUES {marks}), '
            f"stored AS ({insert_sql(db)} AND NOT EXISTS ("
            'SELECT 1 FROM hits JOIN limits ON hits."key" = limits."key" '
            'WHERE hits."hits" > limits."limit") RETURNING 1) '
            'SELECT "key", "hits", (SELECT COUNT(*) FROM stored) FROM hits'
        )
    params = list(hits.params)
    for key, threshold in zip(hits.keys, hits.thresholds, strict=True):
        params += [key, threshold]
    params += insert_params(db, form, received_at, payload)
    rows, _ = run(db, sql, params)
    results = hits.results([(key, count) for key, count, _ in rows])
    wait = max((r.retry_after for r in results if not r.allowed), default=0)
    return wait, bool(rows and rows[0][2])
