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

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, TypeVar

import psycopg
from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from psycopg.types.json import Jsonb

_M = TypeVar("_M", bound=models.Model)


@dataclass(frozen=True)
class _Blueprint:
    """How `build` makes an instance of one model, worked out once."""

    defaults: dict[str, Any]  # attname → the default of fields whose default is no callable
    made: tuple[tuple[str, str, models.Field], ...]  # attname, name, field: a callable default
    names: dict[str, str]  # a concrete field's name or attname → its attname
    relations: dict[str, models.ForeignKey]  # a many-to-one field's name → the field


_blueprints: dict[type[models.Model], _Blueprint] = {}


def _blueprint(model: type[models.Model]) -> _Blueprint:
    blueprint = _blueprints.get(model)
    if blueprint is None:
        fields = model._meta.concrete_fields
        made = [f for f in fields if f.has_default() and callable(f.default)]
        blueprint = _blueprints[model] = _Blueprint(
            defaults={f.attname: f.get_default() for f in fields if f not in made},
            made=tuple((f.attname, f.name, f) for f in made),
            names={**{f.name: f.attname for f in fields}, **{f.attname: f.attname for f in fields}},
            relations={
                f.name: f
                for f in fields
                if isinstance(f, models.ForeignKey) and not isinstance(f, models.OneToOneField)
            },
        )
    return blueprint


def build(model: type[_M], /, **values: Any) -> _M:
    """`model(**values)`, unsaved, for the bulk paths: the same instance for less.

    Why: Django's `Model.__init__` with keyword arguments looks at every field
    of the model for each instance and sets a related object through its
    descriptor; the web-form drain builds ten instances a submission, and that
    was about a quarter of its CPU (`python -m bench.drain_time --profile 40`).
    Here each field's default (a callable one is called for each instance, as
    Django calls it) and each keyword's column is worked out once per model.

    `values` are concrete fields by name or attname; a many-to-one field given
    an instance takes its id and keeps the instance, as the descriptor does. A
    one-to-one field, or a model with receivers of `pre_init`/`post_init`, goes
    through `Model.__init__`, which stays the definition; so does any other
    keyword (a property, say), or raises its TypeError.
    """
    blueprint = _blueprint(model)
    names = blueprint.names
    if (
        pre_init.has_listeners(model)
        or post_init.has_listeners(model)
        or not values.keys() <= names.keys()
    ):
        return model(**values)
    obj = model.__new__(model)
    obj._state = ModelState()
    fields = obj.__dict__
    fields.update(blueprint.defaults)
    relations = blueprint.relations
    for name, value in values.items():
        relation = relations.get(name)
        if relation is None:
            fields[names[name]] = value
        elif value is None:
            fields[relation.attname] = None
        elif isinstance(value, relation.remote_field.model):
            fields[relation.attname] = getattr(value, relation.target_field.attname)
            relation.set_cached_value(obj, value)  # as the descriptor keeps it
        else:
            setattr(obj, name, value)  # the descriptor's ValueError
    for attname, name, field in blueprint.made:
        if attname not in values and name not in values:
            fields[attname] = field.get_default()
    return obj


@dataclass(frozen=True)
class _Plan:
    """How one model's rows are inserted on one database, worked out once."""

    sql: str  # INSERT with the id first, then every other concrete column
    values: Callable[[models.Model], tuple]  # an instance's values for the other columns
    stamped: tuple[str, ...]  # auto_now / auto_now_add attnames: set to the insert's time
    saved_by_field: tuple[tuple[int, models.Field], ...]  # columns whose field's pre_save runs
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column, driver conversion)


_plans: dict[tuple[str, type[models.Model]], _Plan] = {}
_sequences: dict[str, str] = {}


# The last datetime converted and its text: a batch's rows carry the same few times (the
# insert's `now`, the submission's), some 13 conversions a captured web-form post. One
# tuple, swapped whole, so threads never see one's value with another's text.
_last_datetime: tuple[Any, Any] = (None, None)


def _sqlite_datetime(value: Any) -> Any:
    """`adapt_datetimefield_value` on SQLite, with a short way for UTC (what
    timezone.now() gives) and for the value converted just before."""
    global _last_datetime
    if value is None:
        return None
    last = _last_datetime
    if value is last[0]:
        return last[1]
    text: Any
    if value.tzinfo is dt.UTC:
        text = str(value.replace(tzinfo=None))
    else:
        text = connection.ops.adapt_datetimefield_value(value)
    _last_datetime = (value, text)
    return text


def _converter(field: models.Field, vendor: str) -> Callable[[Any], Any] | None:
    """What a value of this field needs before the driver gets it (None: nothing)."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        if vendor == "sqlite":
            return lambda v: None if v is None else json.dumps(v, cls=encoder)
        return lambda v: None if v is None else Jsonb(v)
    if vendor != "sqlite":
        return None
    if isinstance(field, models.DateTimeField):
        return _sqlite_datetime
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.BooleanField):
        return lambda v: None if v is None else int(v)
    if isinstance(field, models.DecimalField):
        return lambda v: None if v is None else str(v)
    return None


def _stamped(field: models.Field) -> bool:
    return isinstance(field, models.DateTimeField) and bool(field.auto_now or field.auto_now_add)


def _read_as_is(field: models.Field) -> bool:
    """True when the field's pre_save on an insert only reads the attribute."""
    if type(field).pre_save is models.Field.pre_save:
        return True
    return isinstance(field, models.DateField) and not (field.auto_now or field.auto_now_add)


def _plan(model: type[models.Model]) -> _Plan:
    key = (connection.vendor, model)
    if key not in _plans:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        q = connection.ops.quote_name
        assert meta.pk is not None
        columns = ", ".join([q(str(meta.pk.column)), *(q(str(f.column)) for f in fields)])
        marks = ", ".join(["%s"] * (len(fields) + 1))
        sql = f"INSERT INTO {q(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        getter = attrgetter(*(f.attname for f in fields))
        converted = []
        for i, f in enumerate(fields):
            convert = _converter(f, connection.vendor)
            if convert is not None:
                converted.append((i, convert))
        _plans[key] = _Plan(
            sql=sql,
            # attrgetter of one name gives the value, not a tuple of one.
            values=getter if len(fields) > 1 else (lambda obj: (getter(obj),)),
            stamped=tuple(f.attname for f in fields if _stamped(f)),
            saved_by_field=tuple(
                (i, f)
                for i, f in enumerate(fields)
                if not _read_as_is(f) and not _stamped(f)  # a pre_save of its own
            ),
            converted=tuple(converted),
        )
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


def insert_new(objs: Iterable[models.Model], *, backdated: bool = False) -> None:
    """INSERT these unsaved instances of one model, each getting its id (auto_now and
    auto_now_add fields are set as save() sets them, one time for the batch). Inside a
    transaction. Related objects must be saved first (their ids are read when the
    instance is built).

    `backdated`: an auto_now or auto_now_add field already set on an instance keeps
    its value (history written after the fact: the time it happened, not load time).
    """
    objs = list(objs)
    if not objs:
        return
    model = type(objs[0])
    plan = _plan(model)
    now = timezone.now() if plan.stamped else None
    values, stamped, saved_by_field, converted = (
        plan.values,
        plan.stamped,
        plan.saved_by_field,
        plan.converted,
    )
    rows = []
    for obj, pk in zip(objs, next_ids(model, len(objs)), strict=True):
        obj.pk = pk
        obj._state.adding = False
        for name in stamped:
            if not (backdated and getattr(obj, name) is not None):
                setattr(obj, name, now)
        row = [pk, *values(obj)]
        for i, field in saved_by_field:
            row[i + 1] = field.pre_save(obj, True)
        for i, convert in converted:
            row[i + 1] = convert(row[i + 1])
        rows.append(row)
    _execute_inserts(plan, rows)


_copy_sql: dict[str, str] = {}


def _execute_inserts(plan: _Plan, rows: list[list[Any]]) -> None:
    """SQLite: the driver's executemany (one prepared statement, stepped per row, in C).
    PostgreSQL: COPY ... FROM STDIN, the rows streamed in the driver's C code.

    Why not INSERT ... VALUES (...), (...) on PostgreSQL: psycopg parses a statement's
    placeholders in Python and caches that only for texts of at most 4,096 characters,
    so each multi-row INSERT was parsed again, a third of the capture drain's CPU on
    PostgreSQL (`python -m bench.drain_time --db postgres --profile 40`: 2.5 of 7.5 s in
    `_split_query`) and 10 of 24 s of a 50k-lead routing. And not Django's executemany:
    its client-side binding cursor sent each row as a statement of its own, parsed and
    planned by the server (~0.7 ms of server CPU a web-form capture). COPY has no
    placeholders to parse and one statement for all the rows.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.executemany(plan.sql, rows)
        return
    sql = _copy_sql.get(plan.sql)
    if sql is None:
        head = plan.sql.rsplit(" VALUES ", 1)[0]  # INSERT INTO "table" ("id", ...)
        sql = _copy_sql[plan.sql] = f"COPY {head.removeprefix('INSERT INTO ')} FROM STDIN"
    connection.ensure_connection()
    # The driver's own cursor (ADR 0007), in the caller's transaction.
    with psycopg.Cursor(connection.connection) as raw, raw.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
