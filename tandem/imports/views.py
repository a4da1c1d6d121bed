"""The import wizard: upload → preview and mapping → dry run → run with progress → report → undo.

Marketers, managers and admins import ("imports.run", checked here on every
view, not only hidden in templates). Every step calls imports/services.py;
the run and the undo are background tasks whose progress the page polls
through the `_progress.html` fragment.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, page_requires, require
from tandem.core.dblocks import busy_text, is_lock_timeout
from tandem.core.spreadsheet import csv_response
from tandem.imports import queries, services
from tandem.imports.forms import MappingForm, UploadForm
from tandem.imports.mapping import new_field_specs
from tandem.imports.models import ImportEntity, ImportJob, ImportStatus
from tandem.imports.readers import PREVIEW_ROWS

REPORT_ROWS_SHOWN = 200
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar (|)"}
WIZARD_STEPS = [
    ("upload", "Upload"),
    ("map", "Map columns"),
    ("check", "Dry run"),
    ("run", "Run"),
    ("report", "Report"),
]


def _busy_is_a_message(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A write of the wizard's that waited out the lock timeout is a line on the job's page
    saying so and what to do, not a 500; nothing was changed, so trying again is safe."""

    @wraps(view)
    def wrapped(request: HttpRequest, pk: int) -> HttpResponse:
        try:
            return view(request, pk)
        except Exception as exc:
            if not is_lock_timeout(exc):
                raise
            messages.error(request, f"{busy_text()} Nothing was changed; try again in a moment.")
            return redirect("imports:detail", pk=pk)

    return wrapped


def _actor(request: HttpRequest) -> Actor:
    user = request.user
    assert isinstance(user, User), "login_required runs first"
    require(user, "imports.run")
    return Actor.for_user(user)


def _job(pk: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)


def _errors_of(err: ValidationError) -> list[str]:
    if hasattr(err, "error_dict"):
        return [m for msgs in err.message_dict.values() for m in msgs]
    return list(err.messages)


@page_requires("imports.run")
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.create_import(
                actor=actor,
                entity=form.cleaned_data["entity"],
                upload=form.cleaned_data["file"],
                original_name=form.cleaned_data["file"].name,
                encoding=form.cleaned_data["encoding"],
                delimiter=form.cleaned_data["delimiter"],
            )
        except ValidationError as err:
            if hasattr(err, "error_dict"):
                for key, msgs in err.message_dict.items():
                    form.add_error(key if key in form.fields else None, msgs)
            else:
                form.add_error(None, err.messages)
        else:
            return redirect("imports:mapping", pk=job.pk)
    return render(
        request,
        "imports/list.html",
        {"form": form, "jobs": queries.jobs_for_list()},
        status=422 if form.errors else 200,
    )


def _file_facts(job: ImportJob) -> dict[str, Any]:
    return {
        "format": job.file_format.upper(),
        "encoding": job.encoding,
        "delimiter": DELIMITER_NAMES.get(job.delimiter, job.delimiter),
        "rows": job.total_rows,
    }


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    job = _job(pk)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.MAPPED):
        return redirect("imports:detail", pk=job.pk)
    try:
        preview = services.preview_rows(job, PREVIEW_ROWS)
        samples = services.column_samples(job, 200)
    except ValidationError as err:
        messages.error(request, " ".join(_errors_of(err)))
        return redirect("imports:list")
    fields = services.custom_fields_for(job.entity)
    may_add = can(actor, "people.manage_custom_fields")
    form = MappingForm(
        request.POST or None,
        job=job,
        custom_fields=fields,
        may_add_fields=may_add,
        samples=samples,
    )
    if request.method == "POST" and form.is_valid():
        specs = new_field_specs(job.headers, {f.key for f in fields}, samples)
        try:
            mapping = form.mapping(specs)
            job = services.set_mapping(
                actor=actor,
                job=job,
                mapping=mapping,
                policy=form.cleaned_data["policy"],
                region=form.cleaned_data["region"] or None,
            )
            services.start_dry_run(actor=actor, job=job)
        except ValidationError as err:
            if err.messages != ["fix the marked columns"]:
                form.add_service_errors(err)
        else:
            return redirect("imports:detail", pk=job.pk)
    return render(
        request,
        "imports/mapping.html",
        {
            "job": job,
            "form": form,
            "rows": form.bound_rows(),
            "preview": preview,
            "facts": _file_facts(job),
            "may_add_fields": may_add,
            "earlier": list(queries.same_file_imports(job)[:3]),
            "wizard_steps": WIZARD_STEPS,
        },
        status=422 if form.errors else 200,
    )


def _report_context(job: ImportJob) -> dict[str, Any]:
    parts = queries.report_parts(job, REPORT_ROWS_SHOWN)
    status = job.status
    if job.is_dry_run or status == ImportStatus.MAPPED:
        step = "check"
    elif status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        step = "run"
    else:
        step = "report"
    return {
        "wizard_steps": WIZARD_STEPS,
        "step": step,
        "job": job,
        "facts": _file_facts(job),
        "progress": queries.progress_of(job),
        "report_parts": parts,
        "is_dry_run_done": job.is_dry_run and status == ImportStatus.MAPPED,
        "is_ready": status == ImportStatus.MAPPED,
        "is_active": status in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.UNDOING),
        "is_finished": not job.is_dry_run
        and status in (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.UNDONE),
        "may_undo": not job.is_dry_run and status in (ImportStatus.DONE, ImportStatus.FAILED),
        "may_resume": not job.is_dry_run
        and status in (ImportStatus.RUNNING, ImportStatus.QUEUED, ImportStatus.FAILED),
        "mapping_rows": [
            (
                h,
                (job.mapping.get("columns") or {}).get(h),
                h in (job.mapping.get("new_fields") or {}),
            )
            for h in job.headers
        ],
    }


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _actor(request)
    job = _job(pk)
    if job.status == ImportStatus.UPLOADED:
        return redirect("imports:mapping", pk=job.pk)
    return render(request, "imports/detail.html", _report_context(job))


@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The polled fragment; once the work is over, the page reloads to show the result."""
    _actor(request)
    job = _job(pk)
    progress = queries.progress_of(job)
    response = render(request, "imports/_progress.html", {"job": job, "progress": progress})
    if not progress.is_active and request.headers.get("HX-Request") == "true":
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
@_busy_is_a_message
def import_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    job = _job(pk)
    try:
        services.start_dry_run(actor=actor, job=job)
    except ValidationError as err:
        messages.error(request, " ".join(_errors_of(err)))
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_POST
@_busy_is_a_message
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    job = _job(pk)
    try:
        services.start_import(actor=actor, job=job)
    except ValidationError as err:
        messages.error(request, " ".join(_errors_of(err)))
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_POST
@_busy_is_a_message
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    job = _job(pk)
    try:
        services.resume_import(actor=actor, job=job)
    except ValidationError as err:
        messages.error(request, " ".join(_errors_of(err)))
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_http_methods(["GET", "POST"])
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    job = _job(pk)
    if request.method == "POST":
        try:
            services.request_undo(actor=actor, job=job)
        except ValidationError as err:
            messages.error(request, " ".join(_errors_of(err)))
        else:
            messages.success(request, f"Undoing import #{job.pk}…")
        return redirect("imports:detail", pk=job.pk)
    return render(
        request,
        "imports/undo_confirm.html",
        {"job": job, "removed": _what_undo_removes(job), "changed": job.changes.count()},
    )


def _what_undo_removes(job: ImportJob) -> str:
    """ "3 people and the 2 companies made for them", "1 company", "nobody" ..."""
    from tandem.people.models import Company

    companies = Company.objects.filter(import_job_id=job.pk).count()
    company_text = ngettext("%(n)s company", "%(n)s companies", companies) % {"n": f"{companies:,}"}
    if job.entity == ImportEntity.COMPANIES:
        return company_text if companies else "no companies"
    people = job.created_count
    people_text = ngettext("%(n)s person", "%(n)s people", people) % {"n": f"{people:,}"}
    if not people:
        return "nobody" if not companies else company_text
    if not companies:
        return people_text
    return f"{people_text} and {company_text} made for them"


@login_required
def import_errors_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The report as CSV: every rejected row, value left out and skipped row (row, column,
    value, reason, outcome); formulas neutralised."""
    _actor(request)
    job = _job(pk)
    return csv_response(queries.report_rows(job), filename=f"import-{job.pk}-report.csv")
