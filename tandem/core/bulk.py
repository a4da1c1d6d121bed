"""INSERT many new model instances in one statement batch, giving each its id.

What `bulk_create` does, without its per-value work: it compiles every value of
every row through the field's `get_db_prep_save` and builds one SQL text per
~40 rows (SQLite's parameter limit). Measured on the web-form drain (1,000
submissions, nine tables): 7.5 of 12.8 s in bulk_create, most of it compiling.
Here each column's conversion is chosen once per model, the rows go to the
driver's `executemany`, and ids are drawn first so children can point at
their parents (the caller holds the transaction; on SQLite, that transaction
holds the write lock, so no one else takes ids meanwhile).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, models
from psycopg.types.json import Jsonb

_plans: dict[tuple[str, type[models.Model]], tuple[str, list[models.Field], list[Callable]]] = {}
_sequences: dict[str, str] = {}


def _converter(field: models.Field, vendor: str) -> Callable[[Any], Any]:
    ops = connection.ops
    if isinstance(field, models.JSONField):
        if vendor == "sqlite":
            return lambda v: None if v is None else json.dumps(v, cls=field.encoder)
        return lambda v: None if v is None else Jsonb(v)
    if vendor != "sqlite":
        return lambda v: v
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.BooleanField):
        return lambda v: None if v is None else int(v)
    if isinstance(field, models.DecimalField):
        return lambda v: None if v is None else str(v)
    return lambda v: v


def _plan(model: type[models.Model]) -> tuple[str, list[models.Field], list[Callable]]:
    key = (connection.vendor, model)
    if key not in _plans:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        q = connection.ops.quote_name
        assert meta.pk is not None
        columns = ", ".join([q(str(meta.pk.column)), *(q(str(f.column)) for f in fields)])
        marks = ", ".join(["%s"] * (len(fields) + 1))
        sql = f"INSERT INTO {q(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        _plans[key] = (sql, fields, [_converter(f, connection.vendor) for f in fields])
    return _plans[key]


def next_ids(model: type[models.Model], count: int) -> list[int]:
    """Ids for rows about to be inserted: after the highest row and SQLite's
    AUTOINCREMENT counter (never a deleted row's id), or from PostgreSQL's sequence."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f'SELECT MAX(COALESCE((SELECT MAX("id") FROM "{table}"), 0), '  # noqa: S608
                "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
                [table],
            )
            start = int(cursor.fetchone()[0]) + 1
            return list(range(start, start + count))
        if table not in _sequences:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [f'"{table}"'])
            _sequences[table] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
            [_sequences[table], count],
        )
        return [int(r[0]) for r in cursor.fetchall()]


def _stamped(field: models.Field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def insert_new(objs: Iterable[models.Model], *, backdated: bool = False) -> None:
    """INSERT these unsaved instances of one model, each getting its id (auto_now and
    auto_now_add fields are set as save() sets them). Inside a transaction. Related
    objects must be saved first (their ids are read when the instance is built).

    `backdated`: an auto_now or auto_now_add field already set on an instance keeps
    its value (history written after the fact: the time it happened, not load time).
    """
    objs = list(objs)
    if not objs:
        return
    model = type(objs[0])
    sql, fields, converters = _plan(model)
    pairs = list(zip(fields, converters, strict=True))
    kept = [backdated and _stamped(field) for field in fields]
    rows = []
    for obj, pk in zip(objs, next_ids(model, len(objs)), strict=True):
        obj.pk = pk
        obj._state.adding = False
        if not backdated:
            rows.append([pk, *(convert(field.pre_save(obj, True)) for field, convert in pairs)])
            continue
        row: list[Any] = [pk]
        for (field, convert), keep in zip(pairs, kept, strict=True):
            value = getattr(obj, field.attname) if keep else None
            row.append(convert(field.pre_save(obj, True) if value is None else value))
        rows.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
