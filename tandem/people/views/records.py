"""Delete, restore and log an activity: one view for people and companies, two configs.

The person and company pages differ in what they show, not in how a record is
deleted, restored or given a note; each passes its `RecordKind` (views/people.py,
views/companies.py) to the same handlers here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from tandem.accounts.permissions import can, require
from tandem.people import services
from tandem.people.forms import ActivityForm, add_service_errors
from tandem.people.views.common import current_actor, current_user, fragments, is_htmx


@dataclass(frozen=True)
class RecordKind:
    """What differs between a person and a company for the shared views."""

    noun: str  # "person": the services' keyword and the confirm page's kind
    actions: str  # "people": the permission prefix (accounts/permissions.py)
    detail: Callable[..., models.Model]  # (pk, include_deleted=) -> the record
    detail_url: str
    list_url: str
    delete: Callable[..., Any]
    restore: Callable[..., Any]
    deleted_message: str  # "{}" is the record
    # (request, record, form) -> the timeline fragment's context; (request, record, activity_form=)
    # -> the whole page, with the form's errors.
    timeline_context: Callable[[HttpRequest, Any, ActivityForm | None], dict[str, Any]]
    page: Callable[..., HttpResponse]


def record_or_404(
    request: HttpRequest, kind: RecordKind, pk: int, *, allow_deleted: bool = False
) -> Any:
    """A live record; admins (who may restore) also reach deleted ones where allowed."""
    include_deleted = allow_deleted and can(current_user(request), f"{kind.actions}.restore")
    try:
        return kind.detail(pk, include_deleted=include_deleted)
    except ObjectDoesNotExist:
        raise Http404(f"There is no such {kind.noun}.") from None


def delete_record(request: HttpRequest, pk: int, kind: RecordKind) -> HttpResponse:
    """GET: the confirm page; POST: soft delete, back to the list."""
    record = record_or_404(request, kind, pk)
    require(current_user(request), f"{kind.actions}.delete", record)
    if request.method == "POST":
        kind.delete(actor=current_actor(request), **{kind.noun: record})
        messages.success(request, kind.deleted_message.format(record))
        return redirect(kind.list_url)
    return render(request, "people/confirm_delete.html", {"object": record, "kind": kind.noun})


def restore_record(request: HttpRequest, pk: int, kind: RecordKind) -> HttpResponse:
    # Permission first, so a non-admin learns "not allowed" rather than "not found".
    require(current_user(request), f"{kind.actions}.restore")
    record = record_or_404(request, kind, pk, allow_deleted=True)
    kind.restore(actor=current_actor(request), **{kind.noun: record})
    messages.success(request, f"Restored {record}.")
    return redirect(kind.detail_url, pk=record.pk)


def log_record_activity(request: HttpRequest, pk: int, kind: RecordKind) -> HttpResponse:
    """A note, call, meeting or email on the record's timeline; HTMX gets the timeline back."""
    record = record_or_404(request, kind, pk)
    require(current_user(request), f"{kind.actions}.log_activity", record)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            services.log_activity(
                actor=current_actor(request),
                **{kind.noun: record},
                kind=form.cleaned_data["kind"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                outcome=form.cleaned_data["outcome"],
                occurred_at=form.cleaned_data["occurred_at"],
            )
        except ValidationError as err:
            add_service_errors(form, err)
        else:
            if not is_htmx(request):
                messages.success(request, "Logged.")
                return redirect(reverse(kind.detail_url, args=[record.pk]) + "#timeline")
            # a fresh form under the updated timeline
            context = kind.timeline_context(request, record, None)
            return fragments(request, ("people/_timeline.html", context))
    if is_htmx(request):
        context = kind.timeline_context(request, record, form)
        return fragments(request, ("people/_timeline.html", context))
    return kind.page(request, record, activity_form=form)
