"""Hand-offs for the answer's tests, written directly: the routing engine is not what
these tests are about (a hand-off as routing leaves it: open, current, with a due time)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, Team, User
from tandem.campaigns import services as campaigns
from tandem.campaigns.models import Campaign
from tandem.people import services as people
from tandem.people.models import Person, Stage
from tandem.routing.models import Handoff, HandoffStatus

SYSTEM = Actor.system("test")


def lead(owner: User | None, *, last_name: str = "Lead", **data: Any) -> Person:
    """A person at `mql`, owned by `owner`, as routing leaves them."""
    return people.create_person(
        actor=SYSTEM,
        data={"last_name": last_name, "owner": owner, **data},
        stage=Stage.MQL,
        reason="Score 72 reached the MQL threshold 60.",
    )


def handoff(
    person: Person,
    *,
    owner: User | None = None,
    due_in: dt.timedelta | None = dt.timedelta(hours=1),
    routed_at: dt.datetime | None = None,
    status: str = HandoffStatus.OPEN,
    **extra: Any,
) -> Handoff:
    routed_at = routed_at or timezone.now()
    return Handoff.objects.create(
        person=person,
        owner=owner if owner is not None else person.owner,
        reason=extra.pop("reason", "Score 72 reached the MQL threshold 60"),
        routed_by=extra.pop("routed_by", "Rule “Territory DACH”"),
        routed_at=routed_at,
        due_at=None if due_in is None else routed_at + due_in,
        status=status,
        **extra,
    )


def routed_lead(owner: User | None, **kwargs: Any) -> tuple[Person, Handoff]:
    person = lead(owner, **{k: v for k, v in kwargs.items() if k in ("last_name", "source")})
    return person, handoff(
        person, owner=owner, **{k: v for k, v in kwargs.items() if k not in ("last_name", "source")}
    )


def campaign(name: str, owner: User | None = None) -> Campaign:
    made = campaigns.create_campaign(actor=SYSTEM, name=name)
    if owner is not None:
        Campaign.objects.filter(pk=made.pk).update(owner=owner)
        made.refresh_from_db()
    return made


def touch(
    person: Person, campaign: Campaign | None, at: dt.datetime, kind: str = "form_fill"
) -> None:
    campaigns.record_touchpoint(person_id=person.pk, kind=kind, campaign=campaign, occurred_at=at)


def team_with(name: str, *members: User) -> Team:
    team = Team.objects.create(name=name)
    User.objects.filter(pk__in=[m.pk for m in members]).update(team=team)
    for m in members:
        m.refresh_from_db()
    return team


def make_user(username: str, role: str, team: Team | None = None) -> User:
    return User.objects.create_user(
        username=username, password="pw-" + username, role=role, team=team
    )


__all__ = ["Role"]
