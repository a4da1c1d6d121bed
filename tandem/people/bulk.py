"""Set-based siblings of the people services, for callers that write many at once.

The web-form inbox captures a batch of new people in a handful of statements
instead of some twenty each (issue 17, point 1). The rules stay in
`services.py`: `check_new_person` checks each person exactly as
`create_person` does, and these functions write what it would write (the
person, their primary email and phone, the first stage change, the "created"
audit event), one INSERT per table for the whole batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.core.audit import diff, snapshot
from tandem.core.bulk import insert_new
from tandem.core.models import AuditEvent
from tandem.people.models import Company, Person, PersonEmail, PersonPhone, PhoneKind, StageChange
from tandem.people.normalize import name_key
from tandem.people.services import (
    COMPANY_FIELDS,
    NewPerson,
    _clean_company_fields,
    created_changes,
)


def _audit(actor: Actor, event: str, target: Person | Company, changes: dict) -> AuditEvent:
    return AuditEvent(
        actor=actor.user,
        actor_label=actor.label[:150],
        event=event,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        target_repr=str(target)[:200],
        changes=changes,
    )


def create_people_bulk(
    *, actor: Actor, people: list[NewPerson], reason: str, now: dt.datetime
) -> list[Person]:
    """Write people checked by `check_new_person`, as `create_person` writes each one.

    The caller holds the transaction and has made sure no email is taken (the
    unique constraint still decides: an IntegrityError rolls the batch back).
    """
    require(actor, "people.create")
    if not people:
        return []
    persons = []
    for new in people:
        new.person.stage_changed_at = now
        persons.append(new.person)
    with transaction.atomic(savepoint=False):
        insert_new(persons)
        insert_new(
            PersonEmail(
                person=n.person, email=n.email[0], email_normalized=n.email[1], is_primary=True
            )
            for n in people
            if n.email
        )
        insert_new(
            PersonPhone(
                person=n.person,
                number=n.phone[0],
                original=n.phone[1],
                is_primary=True,
                kind=PhoneKind.WORK,
            )
            for n in people
            if n.phone
        )
        insert_new(
            StageChange(
                person=n.person,
                from_stage="",
                to_stage=n.stage,
                changed_at=now,
                actor=actor.user,
                actor_label=actor.label[:150],
                reason=reason or "Created",
            )
            for n in people
        )
        insert_new(_audit(actor, "created", p, created_changes(p)) for p in persons)
    return persons


def find_or_create_companies(*, actor: Actor, names: Iterable[str]) -> dict[str, Company]:
    """`find_or_create_company` for many names at once: each name's live company
    (case-insensitive, the oldest first), else a new one by that name.

    Returns the company by the name as given. A name `find_or_create_company` would
    read as an id (digits) or refuse is left out: the caller captures that one alone,
    to give its own answer.
    """
    require(actor, "companies.create")
    wanted: dict[str, str] = {}  # name as given → its key
    for raw in names:
        name = str(raw).strip()
        if name and not name.isdigit():
            wanted[str(raw)] = name_key(name)
    if not wanted:
        return {}
    found: dict[str, Company] = {}
    for company in Company.objects.live().filter(name_key__in=set(wanted.values())).order_by("-id"):
        found[company.name_key] = company  # the oldest last, so it wins
    fresh: dict[str, Company] = {}
    for raw, key in wanted.items():
        if key in found or key in fresh:
            continue
        try:
            fields = _clean_company_fields({"custom_fields": {}, "name": str(raw).strip()}, None)
        except ValidationError:
            continue
        company = Company(**fields)
        company.name_key = name_key(company.name)
        if company.name_key != key:  # not the company a lookup by this name finds again
            continue
        fresh[key] = company
    if fresh:
        with transaction.atomic(savepoint=False):
            insert_new(fresh.values())
            insert_new(
                _audit(
                    actor,
                    "created",
                    c,
                    diff(
                        {},
                        {
                            k: v
                            for k, v in snapshot(c, COMPANY_FIELDS).items()
                            if v not in ("", None, {})
                        },
                    ),
                )
                for c in fresh.values()
            )
    found |= fresh
    return {raw: found[key] for raw, key in wanted.items() if key in found}
