"""Role fixtures shared by every test: one user per role, plus a second salesperson."""

from __future__ import annotations

import pytest

from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, User


def make_user(username: str, role: str, **extra) -> User:
    user = User.objects.create_user(
        username=username, password="pw-" + username, role=role, **extra
    )
    return user


@pytest.fixture
def admin(db) -> User:
    return make_user("ada", Role.ADMIN, first_name="Ada", last_name="Admin")


@pytest.fixture
def manager(db) -> User:
    return make_user("max", Role.MANAGER, first_name="Max", last_name="Manager")


@pytest.fixture
def marketer(db) -> User:
    return make_user("mia", Role.MARKETER, first_name="Mia", last_name="Marketer")


@pytest.fixture
def salesperson(db) -> User:
    return make_user("sam", Role.SALESPERSON, first_name="Sam", last_name="Sales")


@pytest.fixture
def other_salesperson(db) -> User:
    return make_user("sol", Role.SALESPERSON, first_name="Sol", last_name="Seller")


@pytest.fixture
def users_by_role(admin, manager, marketer, salesperson, other_salesperson) -> dict[str, User]:
    return {
        "admin": admin,
        "manager": manager,
        "marketer": marketer,
        "salesperson": salesperson,
        "other_salesperson": other_salesperson,
    }


@pytest.fixture
def system(db) -> Actor:
    return Actor.system("test")


@pytest.fixture(autouse=True)
def _empty_capture_spool():
    """Web-form posts spooled on SQLite (capture/spool.py) live in a file of their own,
    outside the test's transaction: each test starts with an empty spool."""
    from tandem.capture import spool
    from tandem.core import ratelimit

    spool.clear()
    ratelimit.forget_leases()  # hits in hand of counters the test's database no longer has
    yield
    spool.clear()
    ratelimit.forget_leases()


@pytest.fixture(scope="session", autouse=True)
def _flushes_that_leave_nothing():
    """How a `transaction=True` test ends (and each of the API contract's stateful
    scenarios starts): by emptying every table, which must leave nothing behind.

    - Rows a trigger writes while the flush runs: deleting people fires the funnel's
      trigger (reports 0002), which notes each person in reports_funnelpersonchange.
      Django empties the tables in a set's order, which changes with the hash seed; when
      that table came first, the notes stayed for the next test. Both databases now
      delete every table once more after the first pass (tests/test_flush.py).
    - On PostgreSQL, Django's flush is one TRUNCATE of all the tables, which makes each
      one's files anew: 0.34 s for our 76 nearly empty tables (0.5 s with post_migrate,
      measured 2026-12-07), against 0.003 s for SQLite's DELETE per table. Here too, a
      DELETE per table, in one transaction with the foreign keys checked at its end
      (Django declares them DEFERRABLE), and the tables' id sequences set back to 1 where
      the flush asks for it. CASCADE (flushing only some apps) keeps Django's TRUNCATE.
    """
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLWrapper
    from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper

    PostgreSQL, SQLite = PostgreSQLWrapper.ops_class, SQLiteWrapper.ops_class

    truncate, sqlite_flush = PostgreSQL.sql_flush, SQLite.sql_flush

    def deletes(ops, tables) -> list[str]:
        return [f"DELETE FROM {ops.quote_name(table)}" for table in tables]  # noqa: S608

    def postgresql(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or allow_cascade:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        sql = ["SET CONSTRAINTS ALL DEFERRED", *deletes(self, tables), *deletes(self, tables)]
        if reset_sequences:
            owners = ", ".join(f"'{self.quote_name(table)}'::regclass" for table in tables)
            sql.append(
                "SELECT setval(d.objid::regclass, 1, false) FROM pg_depend d "  # noqa: S608
                "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
                f"WHERE d.refobjid IN ({owners})"
            )
        return ["; ".join(sql)]

    def sqlite(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        again = sqlite_flush(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        return deletes(self, tables) + again

    PostgreSQL.sql_flush, SQLite.sql_flush = postgresql, sqlite
    yield
    PostgreSQL.sql_flush, SQLite.sql_flush = truncate, sqlite_flush
