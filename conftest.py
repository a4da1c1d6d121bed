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
