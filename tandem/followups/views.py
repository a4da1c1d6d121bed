"""The Tasks pages: my tasks by due time, one task, and the buttons that move a task.

Everyone signed in sees tasks ("tasks.view") and adds them ("tasks.create"); changing,
completing, reopening or cancelling one needs "tasks.edit" on that task (its owner or
unowned for a salesperson; anyone's for marketers, managers and admins). All checked
here, on the server, and again in the services.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, page_requires, require
from tandem.core.audit import audit_for
from tandem.core.http import safe_next
from tandem.followups import services
from tandem.followups.filters import TaskFilter
from tandem.followups.forms import NOBODY, CompleteForm, TaskForm, owner_choices
from tandem.followups.models import Task
from tandem.followups.queries import done_tasks, task_detail, task_groups
from tandem.followups.templatetags.task_rows import row_context
from tandem.people.forms import add_service_errors, focus_first_error
from tandem.people.models import Company, Person

EVENT_LABELS = {
    "task_created": "Added",
    "task_changed": "Changed",
    "task_completed": "Completed",
    "task_reopened": "Reopened",
    "task_cancelled": "Cancelled",
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(_user(request))


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _task(pk: int) -> Task:
    try:
        return task_detail(pk)
    except Task.DoesNotExist:
        raise Http404("No such task.") from None


# --- the Tasks page -------------------------------------------------------------------


def _whose(request: HttpRequest) -> tuple[str, str | None]:
    """The page's `owner` choice and the filter it means: `me` (default), `all`, `none`, an id.
    On a person's or company's tasks the default is everyone's."""
    about = request.GET.get("person") or request.GET.get("company")
    whose = request.GET.get("owner", "").strip() or ("all" if about else "me")
    return whose, None if whose == "all" else whose


def _about(filters: TaskFilter) -> Person | Company | None:
    if filters.person:
        return Person.objects.filter(pk=filters.person).first()
    if filters.company:
        return Company.objects.filter(pk=filters.company).first()
    return None


def _owner_options(user: User) -> list[tuple[str, str]]:
    """Whose tasks the page can show: mine, everyone's, unassigned, then my team's
    members (a manager's first look), then everyone else."""
    team = set()
    if user.team_id is not None:
        team = {
            str(pk) for pk in User.objects.filter(team_id=user.team_id).values_list("pk", flat=True)
        }
    others = [(pk, name) for pk, name in owner_choices()[2:] if pk != str(user.pk)]
    mates = [(pk, f"{name} (your team)") for pk, name in others if pk in team]
    return [("me", "My tasks"), ("all", "Everyone's"), (NOBODY, "Unassigned"), *mates] + [
        (pk, name) for pk, name in others if pk not in team
    ]


@page_requires("tasks.view")
def task_list(request: HttpRequest) -> HttpResponse:
    """Open tasks grouped Overdue / Due today / Upcoming (or the recently done ones),
    mine by default; anyone may look at a colleague's or everyone's."""
    user = _user(request)
    require(user, "tasks.view")
    whose, owner = _whose(request)
    show = "done" if request.GET.get("show") == "done" else "open"
    params = {k: request.GET.get(k, "") for k in ("person", "company", "kind")}
    context: dict[str, Any] = {"whose": whose, "show": show, "errors": {}}
    try:
        filters = TaskFilter.from_query({**params, "owner": owner or ""})
        now = timezone.now()
        if show == "done":
            context["done"] = done_tasks(viewer=user, filters=filters)
        else:
            context["groups"] = task_groups(viewer=user, filters=filters, now=now)
        context["about"] = _about(filters)
    except ValidationError as err:
        context["errors"] = err.message_dict
        context["groups"] = []
    about = context.get("about")
    about_param = "person" if isinstance(about, Person) else "company"
    initial = {about_param: about.pk} if about is not None else {}
    context |= {
        "form": TaskForm(initial=initial),
        "can_create": can(user, "tasks.create"),
        "owner_options": _owner_options(user),
        "here": request.get_full_path(),
        "open_url": "?" + urlencode({**params, "owner": whose}),
        "done_url": "?" + urlencode({**params, "owner": whose, "show": "done"}),
        "about_param": about_param,
        "time_zone": timezone.get_current_timezone_name(),
    }
    status = 400 if context["errors"] else 200
    return render(request, "followups/task_list.html", context, status=status)


@page_requires("tasks.create")
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest) -> HttpResponse:
    """Add a task (the Tasks page's and the cards' forms post here); back to `next`."""
    user = _user(request)
    require(user, "tasks.create")
    back = safe_next(request, reverse("tasks:list"))
    if request.method == "POST":
        form = TaskForm(request.POST)
        if form.is_valid():
            try:
                task = services.create_task(_actor(request), **form.task_data(user))
            except ValidationError as err:
                add_service_errors(form, err)
            else:
                messages.success(request, f"Added the task “{task.title}”.")
                return redirect(back)
    else:
        initial = {k: request.GET[k] for k in ("person", "company") if request.GET.get(k)}
        form = TaskForm(initial=initial)
    focus_first_error(form)
    context = {"form": form, "next": back, "about": _form_about(form)}
    return render(request, "followups/task_form.html", context, status=400 if form.errors else 200)


def _form_about(form: TaskForm) -> Person | Company | None:
    """The person or company a form's task is about, for its heading."""
    for name, model in (("person", Person), ("company", Company)):
        value = form[name].value()
        if value and str(value).isdigit():
            found = model.objects.filter(pk=int(value), deleted_at__isnull=True).first()
            if found is not None:
                return found
    return None


# --- one task -------------------------------------------------------------------------


def _edit_initial(task: Task) -> dict[str, Any]:
    return {
        "kind": task.kind,
        "title": task.title,
        "due_at": timezone.localtime(task.due_at) if task.due_at else None,
        "owner": str(task.owner_id) if task.owner_id else NOBODY,
        "notes": task.notes,
        "person": task.person_id,
        "company": task.company_id,
    }


@page_requires("tasks.view")
@require_http_methods(["GET", "POST"])
def task_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The task, its history, and (for who may edit it) the edit and complete forms."""
    user = _user(request)
    require(user, "tasks.view")
    task = _task(pk)
    can_edit = can(user, "tasks.edit", task)
    form = TaskForm(initial=_edit_initial(task), task=task)
    if request.method == "POST":
        require(user, "tasks.edit", task)
        form = TaskForm(request.POST, initial=_edit_initial(task), task=task)
        if form.is_valid():
            changes = {k: v for k, v in form.task_data(user).items() if k in form.changed_data}
            try:
                services.update_task(_actor(request), task=task, changes=changes)
            except ValidationError as err:
                add_service_errors(form, err)
            else:
                messages.success(request, "Saved the task.")
                return redirect("tasks:detail", pk=task.pk)
    focus_first_error(form)
    context = {
        "task": task,
        "row": row_context(task, user),
        "form": form,
        "complete_form": CompleteForm(),
        "can_edit": can_edit,
        # Where completing it logs the call, email or meeting (ACTIVITY_FOR_KIND).
        "logs_on": (task.person or task.company)
        if task.kind in services.ACTIVITY_FOR_KIND
        else None,
        "audit": [
            {"event": EVENT_LABELS.get(e.event, e.event), "at": e.at, "who": e.actor_label}
            for e in audit_for(task)
        ],
    }
    return render(
        request, "followups/task_detail.html", context, status=400 if form.errors else 200
    )


def _moved(request: HttpRequest, task: Task, message: str) -> HttpResponse:
    """After a button: the task's row again (HTMX), else back where the button was."""
    if _is_htmx(request):
        return render(
            request,
            "followups/_task_row.html",
            row_context(task, _user(request), hx=True, next_url=safe_next(request, "")),
        )
    messages.success(request, message)
    return redirect(safe_next(request, reverse("tasks:detail", args=[task.pk])))


def _refused(request: HttpRequest, task: Task, err: ValidationError) -> HttpResponse:
    text = " ".join(" ".join(v) for v in err.message_dict.values())
    if _is_htmx(request):
        context = row_context(task, _user(request), hx=True, next_url=safe_next(request, ""))
        return render(request, "followups/_task_row.html", {**context, "error": text}, status=422)
    messages.error(request, text)
    return redirect(safe_next(request, reverse("tasks:detail", args=[task.pk])))


@page_requires("tasks.edit")
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(pk)
    require(_user(request), "tasks.edit", task)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        err = ValidationError({k: v for k, v in form.errors.items()})
        return _refused(request, task, err)
    try:
        task = services.complete_task(
            _actor(request),
            task=task,
            outcome=form.cleaned_data["outcome"],
            notes=form.cleaned_data["notes"],
        )
    except ValidationError as err:
        return _refused(request, task, err)
    logged = " and logged it on the timeline" if task.activity_id else ""
    return _moved(request, task_detail(task.pk), f"Completed “{task.title}”{logged}.")


@page_requires("tasks.edit")
@require_POST
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(pk)
    require(_user(request), "tasks.edit", task)
    task = services.reopen_task(_actor(request), task=task)
    return _moved(request, task_detail(task.pk), f"Reopened “{task.title}”.")


@page_requires("tasks.edit")
@require_POST
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(pk)
    require(_user(request), "tasks.edit", task)
    try:
        task = services.cancel_task(_actor(request), task=task)
    except ValidationError as err:
        return _refused(request, task, err)
    return _moved(request, task_detail(task.pk), f"Cancelled “{task.title}”.")
