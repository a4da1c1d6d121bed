"""Set-based siblings of the people services, for callers that write many at once.

The web-form inbox captures a batch of new people in a handful of statements
instead of some twenty each (issue 17, point 1). The rules stay in
`services.py`: `check_new_person` checks each person exactly as
`create_person` does, and these functions write what it would write (the
person, their primary email and phone, the first stage change, the "created"
audit event), one INSERT per table for the whole batch.

`create_people_with_history` and `create_companies_with_history` write people
and companies with a past (the demo's 18 months, issue 18): what
`create_person`, `add_email`, `add_phone`, `change_stage`, `log_activity` and
`create_company` would have written had each been called at the time given,
audit events included and dated then, again one INSERT per table.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import require
from tandem.core.audit import diff, snapshot
from tandem.core.bulk import build, insert_new
from tandem.core.models import AuditEvent
from tandem.people.custom_fields import remembered_definitions
from tandem.people.models import (
    Activity,
    Company,
    Person,
    PersonEmail,
    PersonPhone,
    PhoneKind,
    StageChange,
)
from tandem.people.normalize import clean_email, clean_phone, name_key
from tandem.people.services import (
    COMPANY_FIELDS,
    NewPerson,
    _clean_company_fields,
    _stage,
    check_activity,
    check_new_person,
    created_changes,
    needs_reason,
)


def _audit(
    actor: Actor,
    event: str,
    target: Person | Company,
    changes: dict,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """The event `record_audit` records; `at` dates it back (written with `backdated=True`)."""
    row = build(
        AuditEvent,
        actor=actor.user,
        actor_label=actor.label[:150],
        event=event,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        target_repr=str(target)[:200],
        changes=changes,
    )
    if at is not None:
        row.at = at
    return row


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
            build(
                PersonEmail,
                person=n.person,
                email=n.email[0],
                email_normalized=n.email[1],
                is_primary=True,
            )
            for n in people
            if n.email
        )
        insert_new(
            build(
                PersonPhone,
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
            build(
                StageChange,
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
        company = build(Company, **fields)
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


# --- people and companies with a past --------------------------------------------------


_PHONE_KINDS = frozenset(PhoneKind.values)


@dataclass(frozen=True)
class PastStep:
    """A stage a person reached: who moved them, when and why (`change_stage`)."""

    to_stage: str
    at: dt.datetime
    actor: Actor
    reason: str = ""


@dataclass(frozen=True)
class PastActivity:
    """A note, call, meeting or email logged at `at` (`log_activity`)."""

    kind: str
    at: dt.datetime
    actor: Actor
    subject: str = ""
    body: str = ""
    outcome: str = ""


@dataclass
class PastPerson:
    """A person and what happened to them, for `create_people_with_history`.

    `steps[0]` is the creation: `create_person(actor=, stage=to_stage, reason=,
    created_at=at)` with `data`, `email` and `phone`; then the creator adds
    `more_emails` and `more_phones` (number, kind) at once (`add_email`,
    `add_phone`, not primary); each later step is a `change_stage`; the
    activities are logged at their own times.
    """

    data: dict[str, Any]
    steps: list[PastStep]
    email: str = ""
    phone: str = ""
    more_emails: list[str] = field(default_factory=list)
    more_phones: list[tuple[str, str]] = field(default_factory=list)
    activities: list[PastActivity] = field(default_factory=list)


@dataclass
class PastCompany:
    """A company created by `actor` at `at` (`create_company`), with its logged activities."""

    data: dict[str, Any]
    at: dt.datetime
    actor: Actor
    activities: list[PastActivity] = field(default_factory=list)


def _activity(past: PastActivity, **on: Any) -> Activity:
    """The activity `log_activity` logs (checked by the caller), created when it occurred."""
    return Activity(
        kind=past.kind,
        **on,
        occurred_at=past.at,
        actor=past.actor.user,
        actor_label=past.actor.label[:150],
        subject=(past.subject or "").strip(),
        body=(past.body or "").strip(),
        outcome=(past.outcome or "").strip(),
        created_at=past.at,
    )


def _check_steps(person: Person, steps: list[PastStep]) -> None:
    """What `change_stage` checks at each step, in order (the person's owner as given)."""
    if not steps:
        raise ValidationError({"stage": "Give at least the stage the person was created in."})
    require(steps[0].actor, "people.create")
    for before, step in itertools.pairwise(steps):
        require(step.actor, "people.change_stage", person)
        target = _stage(step.to_stage, "to")
        if step.at < before.at:
            raise ValidationError({"changed_at": "Stage changes go forward in time."})
        if target == before.to_stage:
            raise ValidationError({"to": f"{person} is already at {target.label}."})
        if needs_reason(before.to_stage, target) and not step.reason.strip():
            raise ValidationError({"reason": f"Say why {person} goes to {target.label}."})


def create_people_with_history(*, people: list[PastPerson]) -> list[Person]:
    """Write people with their past as the one-by-one services would have written it.

    Each person is checked as `create_person` checks them (`check_new_person`),
    each step as `change_stage` would check it (permission, a reason where
    `needs_reason` asks for one), each activity as `log_activity` would; a
    ValidationError or PermissionDenied stops the batch before anything is
    written. Every row carries the time it happened, audit events included.
    One INSERT per table for the whole batch; the caller holds the transaction
    (a taken email fails it on the unique constraint).
    """
    if not people:
        return []
    checked_people: list[tuple[NewPerson, PastPerson, dict[str, list[Any]]]] = []
    extra_emails: list[list[tuple[str, str]]] = []
    extra_phones: list[list[tuple[str, str, str]]] = []
    with remembered_definitions():  # one read of the custom fields for the batch
        for past in people:
            checked = check_new_person(
                data=past.data,
                email=past.email,
                phone=past.phone,
                stage=past.steps[0].to_stage if past.steps else "",
            )
            person = checked.person
            _check_steps(person, past.steps)
            if past.more_emails or past.more_phones:
                require(past.steps[0].actor, "people.edit", person)
            if past.more_emails and not checked.email:
                raise ValidationError({"emails": "Give the primary email before other addresses."})
            if past.more_phones and not checked.phone:
                raise ValidationError({"phones": "Give the primary phone before other numbers."})
            if any(kind not in _PHONE_KINDS for _, kind in past.more_phones):
                raise ValidationError({"kind": f"Use one of: {', '.join(PhoneKind.values)}."})
            for act in past.activities:
                check_activity(
                    kind=act.kind, subject=act.subject, body=act.body, outcome=act.outcome
                )
            created = created_changes(person)  # at the stage they were created in
            first, last = past.steps[0], past.steps[-1]
            person.stage = _stage(last.to_stage)
            person.stage_changed_at = last.at
            person.created_at = first.at
            person.updated_at = last.at  # saved last by the last change_stage
            checked_people.append((checked, past, created))
            extra_emails.append([clean_email(raw) for raw in past.more_emails])
            extra_phones.append(
                [
                    (*clean_phone(raw, country=person.country), kind)
                    for raw, kind in past.more_phones
                ]
            )
    persons = [checked.person for checked, _, _ in checked_people]
    emails: list[PersonEmail] = []
    phones: list[PersonPhone] = []
    changes: list[StageChange] = []
    activities: list[Activity] = []
    audits: list[AuditEvent] = []
    with transaction.atomic(savepoint=False):
        insert_new(persons, backdated=True)
        for (checked, past, created), more_emails, more_phones in zip(
            checked_people, extra_emails, extra_phones, strict=True
        ):
            person, creator, at = checked.person, past.steps[0].actor, past.steps[0].at
            audits.append(_audit(creator, "created", person, created, at))
            if checked.email:
                emails.append(_email(person, *checked.email, True, at))
            for typed, normalized in more_emails:
                emails.append(_email(person, typed, normalized, False, at))
                audits.append(
                    _audit(creator, "email_added", person, {"emails": [None, normalized]}, at)
                )
            numbers = set()
            if checked.phone:
                numbers.add(checked.phone[0])
                phones.append(_phone(person, *checked.phone, PhoneKind.WORK, True, at))
            for e164, original, kind in more_phones:
                if e164 not in numbers:  # add_phone keeps a number the person has
                    numbers.add(e164)
                    phones.append(_phone(person, e164, original, kind, False, at))
                audits.append(_audit(creator, "phone_added", person, {"phones": [None, e164]}, at))
            previous = ""
            for step in past.steps:
                changes.append(
                    StageChange(
                        person=person,
                        from_stage=previous,
                        to_stage=step.to_stage,
                        changed_at=step.at,
                        actor=step.actor.user,
                        actor_label=step.actor.label[:150],
                        reason=(step.reason or "").strip()
                        if previous
                        else step.reason or "Created",
                    )
                )
                if previous:
                    move = {"stage": [previous, str(step.to_stage)]}
                    audits.append(_audit(step.actor, "stage_changed", person, move, step.at))
                previous = step.to_stage
            activities.extend(_activity(act, person=person) for act in past.activities)
        insert_new(emails, backdated=True)
        insert_new(phones, backdated=True)
        insert_new(changes)
        insert_new(activities, backdated=True)
        insert_new(audits, backdated=True)
    return persons


def _email(
    person: Person, typed: str, normalized: str, primary: bool, at: dt.datetime
) -> PersonEmail:
    return PersonEmail(
        person=person, email=typed, email_normalized=normalized, is_primary=primary, created_at=at
    )


def _phone(
    person: Person, e164: str, original: str, kind: str, primary: bool, at: dt.datetime
) -> PersonPhone:
    return PersonPhone(
        person=person, number=e164, original=original, kind=kind, is_primary=primary, created_at=at
    )


def create_companies_with_history(*, companies: list[PastCompany]) -> list[Company]:
    """Write companies as `create_company` would have at their `at`, with their activities
    logged as `log_activity` would (all checked first); one INSERT per table."""
    rows: list[Company] = []
    created: list[dict[str, list[Any]]] = []
    with remembered_definitions():
        for past in companies:
            require(past.actor, "companies.create")
            company = Company(
                **_clean_company_fields({"custom_fields": {}, "name": "", **past.data}, None)
            )
            if not company.name:
                raise ValidationError({"name": "A company needs a name."})
            company.name_key = name_key(company.name)
            company.created_at = company.updated_at = past.at
            for act in past.activities:
                require(act.actor, "companies.log_activity", company)
                check_activity(
                    kind=act.kind, subject=act.subject, body=act.body, outcome=act.outcome
                )
            values = snapshot(company, COMPANY_FIELDS)
            created.append(diff({}, {k: v for k, v in values.items() if v not in ("", None, {})}))
            rows.append(company)
    with transaction.atomic(savepoint=False):
        insert_new(rows, backdated=True)
        insert_new(
            (
                _audit(past.actor, "created", company, changes, past.at)
                for past, company, changes in zip(companies, rows, created, strict=True)
            ),
            backdated=True,
        )
        insert_new(
            (
                _activity(act, company=company)
                for past, company in zip(companies, rows, strict=True)
                for act in past.activities
            ),
            backdated=True,
        )
    return rows


# --- set-based stage changes and owners (routing, issue 20) ----------------------------


def person_label(pk: int, first_name: str, last_name: str, email: str) -> str:
    """What `str(person)` shows, from the values alone (no model instance per row)."""
    return f"{first_name} {last_name}".strip() or email or f"Person #{pk}"


def change_stage_bulk(
    *,
    actor: Actor,
    person_ids: Iterable[int],
    to_stage: str,
    reasons: dict[int, str],
    from_stages: Iterable[str],
    now: dt.datetime,
) -> dict[int, str]:
    """Move the live people among `person_ids` who are at one of `from_stages` to
    `to_stage`, as `change_stage` would move each one (a StageChange with its reason, a
    "stage_changed" audit event), in a handful of statements for the whole set.

    People at any other stage are left where they are (no error: routing moves only
    leads and never pulls back a customer). Returns {person id: the stage they left}.
    The reason of each person is `reasons[id]`; `change_stage`'s rule that a move
    backwards or out of the funnel needs one holds here too. The caller holds the
    transaction.
    """
    target = _stage(to_stage, "to")
    sources = [str(_stage(s, "from")) for s in from_stages if s != target]
    ids = sorted({int(i) for i in person_ids})
    if not ids or not sources:
        return {}
    require(actor, "people.change_stage")  # a salesperson's own-or-unowned is checked below
    moved: dict[int, str] = {}
    with transaction.atomic(savepoint=False):
        people: dict[int, tuple[str, int | None, str]] = {}
        for start in range(0, len(ids), 5000):
            part = ids[start : start + 5000]
            for pk, stage, owner_id, first, last, email in (
                Person.objects.select_for_update()
                .filter(pk__in=part, deleted_at__isnull=True, stage__in=sources)
                .order_by()
                .values_list("pk", "stage", "owner_id", "first_name", "last_name", "email")
            ):
                people[pk] = (stage, owner_id, person_label(pk, first, last, email)[:200])
        for pk, (stage, held_by, _) in people.items():
            if actor.user is not None:
                require(actor, "people.change_stage", Person(pk=pk, owner_id=held_by))
            if needs_reason(stage, target) and not (reasons.get(pk) or "").strip():
                raise ValidationError({"reason": f"Say why person #{pk} goes to {target.label}."})
        moving = sorted(people)
        for start in range(0, len(moving), 5000):
            part = moving[start : start + 5000]
            Person.objects.filter(pk__in=part).update(
                stage=target, stage_changed_at=now, updated_at=now
            )
        insert_new(
            StageChange(
                person_id=pk,
                from_stage=people[pk][0],
                to_stage=target,
                changed_at=now,
                actor=actor.user,
                actor_label=actor.label[:150],
                reason=(reasons.get(pk) or "").strip(),
            )
            for pk in moving
        )
        insert_new(
            AuditEvent(
                actor=actor.user,
                actor_label=actor.label[:150],
                event="stage_changed",
                target_type=Person._meta.label_lower,
                target_id=pk,
                target_repr=people[pk][2],
                changes={"stage": [people[pk][0], target.value]},
            )
            for pk in moving
        )
        moved = {pk: people[pk][0] for pk in moving}
    return moved


def assign_owners_bulk(*, actor: Actor, owners: dict[int, int | None]) -> int:
    """Give each person in `owners` (person id → user id, or None for nobody) that owner,
    as `update_person(data={"owner": ...})` would: a "changed" audit event with the old
    and new owner for each person whose owner changes, one UPDATE per new owner.

    Only live people are changed; the owners must be active users. Returns how many
    people changed hands. The caller holds the transaction.
    """
    if not owners:
        return 0
    require(actor, "people.edit")
    wanted = {uid for uid in owners.values() if uid is not None}
    active = set(User.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    if wanted - active:
        raise ValidationError({"owner": f"User #{min(wanted - active)} is not an active user."})
    ids = sorted(owners)
    with transaction.atomic(savepoint=False):
        current: dict[int, int | None] = {}
        shown: dict[int, str] = {}
        for start in range(0, len(ids), 5000):
            part = ids[start : start + 5000]
            for pk, owner_id, first, last, email in (
                Person.objects.select_for_update()
                .filter(pk__in=part, deleted_at__isnull=True)
                .order_by()
                .values_list("pk", "owner_id", "first_name", "last_name", "email")
            ):
                current[pk] = owner_id
                shown[pk] = person_label(pk, first, last, email)[:200]
        if actor.user is not None:
            for pk, held_by in current.items():
                require(actor, "people.edit", Person(pk=pk, owner_id=held_by))
        changing = {pk: owners[pk] for pk, old in current.items() if old != owners[pk]}
        by_owner: dict[int | None, list[int]] = {}
        for pk, uid in changing.items():
            by_owner.setdefault(uid, []).append(pk)
        now = timezone.now()
        for uid, pks in by_owner.items():
            for start in range(0, len(pks), 5000):
                Person.objects.filter(pk__in=pks[start : start + 5000]).update(
                    owner_id=uid, updated_at=now
                )
        insert_new(
            AuditEvent(
                actor=actor.user,
                actor_label=actor.label[:150],
                event="changed",
                target_type=Person._meta.label_lower,
                target_id=pk,
                target_repr=shown[pk],
                changes={"owner": [current[pk], uid]},
            )
            for pk, uid in sorted(changing.items())
        )
    return len(changing)
