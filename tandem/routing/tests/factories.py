"""Helpers for routing tests: teams, salespeople, people and rules, made through the services."""

from __future__ import annotations

from typing import Any

from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, Team, User
from tandem.campaigns.services import record_touchpoint
from tandem.people import services as people
from tandem.people.models import Person
from tandem.routing import services_rules
from tandem.routing.models import RoutingRule

SYSTEM = Actor.system("test")


def team(name: str) -> Team:
    return Team.objects.create(name=name)


def seller(username: str, team: Team | None = None, **extra: Any) -> User:
    return User.objects.create_user(
        username=username,
        password="pw-" + username,
        role=extra.pop("role", Role.SALESPERSON),
        team=team,
        first_name=extra.pop("first_name", username.title()),
        **extra,
    )


def person(last_name: str = "Lead", *, stage: str = "lead", **data: Any) -> Person:
    return people.create_person(
        actor=SYSTEM, data={"last_name": last_name, **data}, stage=stage, reason="test"
    )


def touch(p: Person, kind: str, **extra: Any) -> None:
    record_touchpoint(person_id=p.pk, kind=kind, **extra)


def rule(name: str, kind: str, **data: Any) -> RoutingRule:
    return services_rules.create_rule(actor=SYSTEM, data={"name": name, "kind": kind, **data})
