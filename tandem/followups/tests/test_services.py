"""What the task services promise: checks that name the field, one activity per completed
call, email or meeting (on the timeline, by the person who did it), an audit event per change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.core.models import AuditEvent
from tandem.followups import services
from tandem.followups.models import TaskStatus
from tandem.followups.tests import factories
from tandem.people import services as people
from tandem.people.models import Activity
from tandem.people.queries import person_timeline


def events(task) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="followups.task", target_id=task.pk)
        .order_by("id")
        .values_list("event", flat=True)
    )


def test_completing_a_call_task_logs_exactly_one_call_on_the_timeline(system, salesperson):
    sam = Actor.for_user(salesperson)
    ann = factories.person(system, first_name="Ann", owner=salesperson)
    task = services.create_task(sam, kind="call", title="Call Ann about the demo", person=ann)

    done = services.complete_task(sam, task=task, outcome="Booked a demo", notes="Tuesday 10:00")

    call = Activity.objects.get()
    assert (call.kind, call.person_id, call.company_id) == ("call", ann.pk, None)
    assert (call.subject, call.outcome, call.body) == (
        "Call Ann about the demo",
        "Booked a demo",
        "Tuesday 10:00",
    )
    # A human contact: logged by the salesperson, not by the system.
    assert call.actor_id == salesperson.pk and call.actor_label == "Sam Sales"
    assert done.status == TaskStatus.DONE and done.activity_id == call.pk
    assert done.completed_by_id == salesperson.pk and done.outcome == "Booked a demo"
    assert [e.kind for e in person_timeline(ann) if e.kind != "stage"] == ["call"]
    assert events(task) == ["task_created", "task_completed"]
    completed = AuditEvent.objects.get(event="task_completed")
    assert completed.actor_id == salesperson.pk
    assert completed.changes == {
        "status": ["open", "done"],
        "outcome": ["", "Booked a demo"],
        "activity": [None, call.pk],
    }


def test_completing_twice_or_again_after_reopening_logs_no_second_activity(system, salesperson):
    sam = Actor.for_user(salesperson)
    task = factories.task(system, person=factories.person(system), owner=salesperson)
    services.complete_task(sam, task=task)
    services.complete_task(sam, task=task)  # a double click
    services.reopen_task(sam, task=task)
    services.complete_task(sam, task=task)

    assert Activity.objects.count() == 1
    assert events(task) == [
        "task_created",
        "task_completed",
        "task_reopened",
        "task_completed",
    ]


@pytest.mark.parametrize(("kind", "logged"), [("email", "email"), ("meeting", "meeting")])
def test_email_and_meeting_tasks_log_their_own_kind(system, manager, kind, logged):
    task = factories.task(system, kind=kind, person=factories.person(system))
    services.complete_task(Actor.for_user(manager), task=task)
    assert Activity.objects.get().kind == logged


def test_a_todo_logs_nothing_and_a_company_call_logs_on_the_company(system, manager):
    max_ = Actor.for_user(manager)
    services.complete_task(max_, task=factories.task(system, kind="todo", title="Send the deck"))
    assert not Activity.objects.exists()
    acme = factories.company(system)
    services.complete_task(max_, task=factories.task(system, company=acme))
    call = Activity.objects.get()
    assert (call.company_id, call.person_id) == (acme.pk, None)


def test_completing_without_logging_logs_nothing(system, manager):
    task = factories.task(system, person=factories.person(system))
    services.complete_task(Actor.for_user(manager), task=task, log=False)
    assert not Activity.objects.exists()


def test_a_call_with_nobody_to_call_is_completed_without_an_activity(system, manager):
    task = factories.task(system)
    assert services.complete_task(Actor.for_user(manager), task=task).status == "done"
    assert not Activity.objects.exists()


def test_update_changes_only_what_differs_and_audits_the_difference(system, manager, salesperson):
    task = factories.task(system, title="Call", owner=None)
    due = timezone.now() + dt.timedelta(days=1)
    services.update_task(
        Actor.for_user(manager),
        task=task,
        changes={"title": "Call Ann", "owner": salesperson, "due_at": due, "kind": "call"},
    )
    task.refresh_from_db()
    assert (task.title, task.owner_id, task.due_at) == ("Call Ann", salesperson.pk, due)
    changed = AuditEvent.objects.get(event="task_changed")
    assert set(changed.changes) == {"title", "owner", "due_at"}
    assert changed.changes["owner"] == [None, salesperson.pk]
    # Saving the same values again records nothing.
    services.update_task(Actor.for_user(manager), task=task, changes={"title": "Call Ann"})
    assert AuditEvent.objects.filter(event="task_changed").count() == 1


def test_bad_values_are_refused_naming_every_field(system, admin, other_salesperson):
    ada = Actor.for_user(admin)
    with pytest.raises(ValidationError) as err:
        services.create_task(ada, kind="fax", title="  ", due_at="tomorrow")  # type: ignore[arg-type]
    assert set(err.value.message_dict) == {"kind", "title", "due_at"}
    gone = factories.person(system)
    people.delete_person(actor=system, person=gone)
    gone.refresh_from_db()
    other_salesperson.is_active = False  # left the company
    with pytest.raises(ValidationError) as err:
        services.create_task(
            ada, kind="call", title="x" * 201, person=gone, owner=other_salesperson
        )
    assert set(err.value.message_dict) == {"title", "person", "owner"}
    task = factories.task(system)
    with pytest.raises(ValidationError) as err:
        services.update_task(ada, task=task, changes={"status": "done", "key": "x"})
    assert set(err.value.message_dict) == {"status", "key"}


def test_every_move_between_open_done_and_cancelled_is_allowed_and_audited(system, manager):
    max_ = Actor.for_user(manager)
    task = factories.task(system, person=factories.person(system))
    services.cancel_task(max_, task=task)
    services.complete_task(max_, task=task)  # done after all: the call is logged
    assert Activity.objects.count() == 1
    cancelled = services.cancel_task(max_, task=task)  # it should not count after all
    assert (cancelled.status, cancelled.completed_at, cancelled.completed_by) == (
        "cancelled",
        None,
        None,
    )
    assert services.reopen_task(max_, task=task).status == "open"
    assert events(task) == [
        "task_created",
        "task_cancelled",
        "task_completed",
        "task_cancelled",
        "task_reopened",
    ]
    trail = AuditEvent.objects.filter(target_type="followups.task", target_id=task.pk).order_by(
        "id"
    )
    assert [e.changes["status"] for e in trail[1:]] == [
        ["open", "cancelled"],
        ["cancelled", "done"],
        ["done", "cancelled"],
        ["cancelled", "open"],
    ]
    assert Activity.objects.count() == 1  # it happened: the timeline keeps it


def test_a_salesperson_changes_only_their_own_and_unowned_tasks(
    system, salesperson, other_salesperson
):
    sol = Actor.for_user(other_salesperson)
    sams = factories.task(system, owner=salesperson, person=factories.person(system))
    before = AuditEvent.objects.count()
    for attempt in (
        lambda: services.update_task(sol, task=sams, changes={"title": "Mine now"}),
        lambda: services.complete_task(sol, task=sams),
        lambda: services.cancel_task(sol, task=sams),
        lambda: services.reopen_task(sol, task=sams),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert AuditEvent.objects.count() == before and not Activity.objects.exists()
    unowned = factories.task(system)
    assert services.complete_task(sol, task=unowned).status == "done"


def test_a_keyed_task_is_made_once(system):
    first = services.create_task(system, kind="call", title="Booth lead", key="booth:1")
    again = services.create_task(system, kind="call", title="Booth lead", key="booth:1")
    assert first.pk == again.pk
    assert events(first) == ["task_created"]
