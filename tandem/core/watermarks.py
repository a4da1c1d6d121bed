"""The highest id of an insert-only table that a watermark may safely move up to.

Derived tables (the funnel's facts, attribution's stored credit) follow their source
tables by remembering the highest id they have seen. That is only safe if no row with
a lower id can still appear: on SQLite one writer at a time hands out increasing ids,
so what is visible is settled; on PostgreSQL a sequence hands out ids before commit,
so a transaction holding a lower id may commit after one with a higher id was seen.

`settled_max_id` reads the highest id under a brief SHARE lock of the table: the lock
waits for the transactions writing to it at that moment (at most WAIT) and is let go
at once, so every id at or below what it reads is committed or rolled back. When the
lock is not had in time (a long import holds the table) it says so, and the caller
keeps its watermark where it was, so the same range is looked at again next time.
"""

from __future__ import annotations

from django.db import DatabaseError, connection, transaction

WAIT = "200ms"


def visible_max_id(table: str) -> int:
    """The highest id this connection sees (0 for an empty table)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return int(cursor.fetchone()[0])


def settled_max_id(table: str) -> tuple[int, bool]:
    """(the highest id, whether every id up to it is committed or gone)."""
    if connection.vendor != "postgresql":
        return visible_max_id(table), True
    if connection.in_atomic_block:
        # Inside a caller's transaction the lock would last until its end: don't take one.
        return visible_max_id(table), False
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{WAIT}'")
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN SHARE MODE")
            return visible_max_id(table), True
    except DatabaseError:
        return visible_max_id(table), False
