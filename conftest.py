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

    spool.clear()
    yield
    spool.clear()


@pytest.fixture(scope="session", autouse=True)
def _postgresql_flushes_by_delete():
    """On PostgreSQL, a test with `transaction=True` ends (and the API contract's stateful
    scenarios start) by emptying every table. Django does it with one TRUNCATE of all
    of them, which makes each table's files anew: 0.34 s for our 76 nearly empty tables,
    measured on 2026-12-07 (0.5 s with post_migrate), against 0.003 s on SQLite, whose
    flush is a DELETE per table. Here too: a DELETE per table, in one transaction with the
    foreign keys checked at its end (Django declares them DEFERRABLE), in the sorted
    order SQLite's flush uses (people before the funnel rollup their trigger feeds), and
    the tables' id sequences set back to 1 where the flush asks for it. CASCADE (flushing
    only some apps) keeps Django's TRUNCATE."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or allow_cascade:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        names = [self.quote_name(table) for table in tables]  # Django's own table names
        sql = ["SET CONSTRAINTS ALL DEFERRED"]
        sql += [f"DELETE FROM {name}" for name in names]  # noqa: S608
        if reset_sequences:
            owners = ", ".join(f"'{name}'::regclass" for name in names)
            sql.append(
                "SELECT setval(d.objid::regclass, 1, false) FROM pg_depend d "  # noqa: S608
                "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
                f"WHERE d.refobjid IN ({owners})"
            )
        return ["; ".join(sql)]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate
