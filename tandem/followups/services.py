"""Making and changing tasks: the one door other apps, the pages and the API use.

Anyone signed in adds tasks ("tasks.create"). A task is changed, completed,
reopened or cancelled under "tasks.edit" on the task itself: a salesperson
for their own and unowned tasks, marketers, managers and admins for all
(accounts/permissions.py). Every change writes its audit event in the same
transaction. Completing a call, email or meeting logs that activity on the
person's (or company's) timeline through people's `log_activity`, so it shows
there and counts as a human contact for the SLA (issue 20, point 3).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import require
from tandem.core.audit import diff, record_audit, snapshot
from tandem.followups.models import TASK_EDITABLE_FIELDS, Task, TaskKind, TaskStatus
from tandem.people.activities import log_activity
from tandem.people.models import ActivityKind, Company, Person

NOTES_MAX = 10_000
OUTCOME_MAX = 200
# The activity a completed task of each kind logs; a to-do logs none.
ACTIVITY_FOR_KIND = {
    TaskKind.CALL: ActivityKind.CALL,
    TaskKind.EMAIL: ActivityKind.EMAIL,
    TaskKind.MEETING: ActivityKind.MEETING,
}
_AUDITED = (*TASK_EDITABLE_FIELDS, "status")


# --- checks -------------------------------------------------------------------------


def _clean_kind(kind: Any) -> str:
    if kind not in TaskKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(TaskKind.values)}."})
    return str(kind)


def _clean_title(title: Any) -> str:
    text = (title or "").strip() if isinstance(title, str | type(None)) else None
    if not text:
        raise ValidationError({"title": "Give the task a title."})
    if len(text) > 200:
        raise ValidationError({"title": "At most 200 characters."})
    return text


def _clean_notes(notes: Any, field: str = "notes") -> str:
    if notes is None:
        return ""
    if not isinstance(notes, str):
        raise ValidationError({field: "Write the notes as text."})
    if len(notes) > NOTES_MAX:
        raise ValidationError({field: f"At most {NOTES_MAX:,} characters."})
    return notes.strip()


def _clean_outcome(outcome: Any) -> str:
    text = (outcome or "").strip() if isinstance(outcome, str | type(None)) else None
    if text is None:
        raise ValidationError({"outcome": "Write the outcome as text."})
    if len(text) > OUTCOME_MAX:
        raise ValidationError({"outcome": f"At most {OUTCOME_MAX} characters."})
    return text


def _clean_due(due_at: Any) -> dt.datetime | None:
    if due_at is None:
        return None
    if not isinstance(due_at, dt.datetime):
        raise ValidationError({"due_at": "Give a date and time."})
    if timezone.is_naive(due_at):  # a wall-clock time from a form: the site's time zone
        due_at = timezone.make_aware(due_at)
    return due_at


def _clean_owner(owner: Any) -> User | None:
    if owner is None:
        return None
    if not isinstance(owner, User) or owner.pk is None:
        raise ValidationError({"owner": "Choose a user."})
    if not owner.is_active:
        raise ValidationError({"owner": f"{owner} is deactivated; choose someone else."})
    return owner


def _clean_person(person: Any) -> Person | None:
    if person is None:
        return None
    if not isinstance(person, Person) or person.pk is None:
        raise ValidationError({"person": "Choose a person."})
    if person.deleted_at is not None:
        raise ValidationError({"person": f"{person} was deleted."})
    return person


def _clean_company(company: Any) -> Company | None:
    if company is None:
        return None
    if not isinstance(company, Company) or company.pk is None:
        raise ValidationError({"company": "Choose a company."})
    if company.deleted_at is not None:
        raise ValidationError({"company": f"{company} was deleted."})
    return company


_CLEANERS = {
    "title": _clean_title,
    "kind": _clean_kind,
    "due_at": _clean_due,
    "owner": _clean_owner,
    "person": _clean_person,
    "company": _clean_company,
    "notes": _clean_notes,
}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Each value checked; every field's error at once, named."""
    out, errors = {}, {}
    for name, value in values.items():
        try:
            out[name] = _CLEANERS[name](value)
        except ValidationError as err:
            errors.update(err.message_dict)
    if errors:
        raise ValidationError(errors)
    return out


def _locked(task: Task) -> Task:
    return Task.objects.select_for_update().get(pk=task.pk)


# --- writes ---------------------------------------------------------------------------


def create_task(
    actor: Actor,
    *,
    kind: str,
    title: str,
    owner: Any = None,
    due_at: dt.datetime | None = None,
    person: Any = None,
    company: Any = None,
    key: str | None = None,
    notes: str = "",
) -> Task:
    """A new open task. With `key`, a second call with the same key returns the first task
    (routing's "contact this booth lead" is made once however often routing runs)."""
    require(actor, "tasks.create")
    values = _clean(
        {
            "kind": kind,
            "title": title,
            "owner": owner,
            "due_at": due_at,
            "person": person,
            "company": company,
            "notes": notes,
        }
    )
    if key:
        found = Task.objects.filter(key=key).first()
        if found is not None:
            return found
    now = timezone.now()
    try:
        with transaction.atomic():
            task = Task.objects.create(
                **values,
                key=key or None,
                created_at=now,
                updated_at=now,
                created_by=actor.user,
                created_by_label=actor.label[:150],
            )
            record_audit(
                actor=actor,
                event="task_created",
                target=task,
                changes=diff({}, snapshot(task, _AUDITED)),
            )
    except IntegrityError:
        if key:
            return Task.objects.get(key=key)
        raise
    return task


def update_task(actor: Actor, *, task: Task, changes: dict[str, Any]) -> Task:
    """Change the fields given (title, kind, due_at, owner, person, company, notes)."""
    unknown = sorted(set(changes) - set(TASK_EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    require(actor, "tasks.edit", task)
    values = _clean(changes)
    with transaction.atomic():
        task = _locked(task)
        require(actor, "tasks.edit", task)  # the owner may have changed meanwhile
        before = snapshot(task, _AUDITED)
        for name, value in values.items():
            setattr(task, name, value)
        changed = diff(before, snapshot(task, _AUDITED))
        if not changed:
            return task
        task.updated_at = timezone.now()
        task.save(update_fields=[*values, "updated_at"])
        record_audit(actor=actor, event="task_changed", target=task, changes=changed)
    return task


def complete_task(
    actor: Actor,
    *,
    task: Task,
    outcome: str = "",
    notes: str = "",
    log: bool = True,
) -> Task:
    """Mark the task done. A call, email or meeting is logged on its person's timeline (or
    its company's) with the outcome and notes, once per task: completing a task again after
    reopening it logs nothing more. Completing a done task changes nothing (a double click);
    a cancelled one may be completed after all."""
    require(actor, "tasks.edit", task)
    outcome = _clean_outcome(outcome)
    notes = _clean_notes(notes)
    with transaction.atomic():
        task = _locked(task)
        require(actor, "tasks.edit", task)
        if task.status == TaskStatus.DONE:
            return task
        before = task.status  # open, or cancelled and done after all
        now = timezone.now()
        task.status = TaskStatus.DONE
        task.completed_at = now
        task.completed_by = actor.user
        task.completed_by_label = actor.label[:150]
        task.outcome = outcome
        task.completion_notes = notes
        task.updated_at = now
        kind = ACTIVITY_FOR_KIND.get(TaskKind(task.kind))
        if log and kind is not None and task.activity_id is None:
            task.activity_id = _log_activity(actor, task, kind, outcome, notes, now)
        task.save()
        record_audit(
            actor=actor,
            event="task_completed",
            target=task,
            changes={
                "status": [before, TaskStatus.DONE.value],
                **({"outcome": ["", outcome]} if outcome else {}),
                **({"activity": [None, task.activity_id]} if task.activity_id else {}),
            },
        )
    return task


def _log_activity(
    actor: Actor, task: Task, kind: str, outcome: str, notes: str, at: dt.datetime
) -> int | None:
    """The activity on the task's live person, else its live company; None if neither."""
    person = task.person if task.person is not None and task.person.deleted_at is None else None
    company = None
    if person is None and task.company is not None and task.company.deleted_at is None:
        company = task.company
    if person is None and company is None:
        return None
    activity = log_activity(
        actor=actor,
        kind=kind,
        person=person,
        company=company,
        subject=task.title,
        body=notes,
        outcome=outcome,
        occurred_at=at,
    )
    return activity.pk


def reopen_task(actor: Actor, *, task: Task) -> Task:
    """Open a done or cancelled task again. An activity its completion logged stays on the
    timeline (it is history) and stays linked, so completing it again logs no second one."""
    require(actor, "tasks.edit", task)
    with transaction.atomic():
        task = _locked(task)
        require(actor, "tasks.edit", task)
        if task.status == TaskStatus.OPEN:
            return task
        before = task.status
        task.status = TaskStatus.OPEN
        task.completed_at = None
        task.completed_by = None
        task.completed_by_label = ""
        task.updated_at = timezone.now()
        task.save()
        record_audit(
            actor=actor,
            event="task_reopened",
            target=task,
            changes={"status": [before, TaskStatus.OPEN.value]},
        )
    return task


def cancel_task(actor: Actor, *, task: Task) -> Task:
    """Drop a task: it leaves the lists but stays on record. Cancelling a done one undoes
    its completion (an activity it logged stays on the timeline: it happened)."""
    require(actor, "tasks.edit", task)
    with transaction.atomic():
        task = _locked(task)
        require(actor, "tasks.edit", task)
        if task.status == TaskStatus.CANCELLED:
            return task
        before = task.status
        task.status = TaskStatus.CANCELLED
        task.completed_at = None
        task.completed_by = None
        task.completed_by_label = ""
        task.updated_at = timezone.now()
        task.save()
        record_audit(
            actor=actor,
            event="task_cancelled",
            target=task,
            changes={"status": [before, TaskStatus.CANCELLED.value]},
        )
    return task
