"""The settings pages of the sales process, for managers and admins: pipelines and their
stages ("deals.manage_pipelines": add, rename, reorder by button so by keyboard too,
probability, default, archive) and the won and lost reason lists ("deals.manage_reasons").
Every change goes through deals/pipelines.py, which checks the permission again."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tandem.accounts.pages import request_actor
from tandem.accounts.permissions import can, page_requires
from tandem.accounts.queries import audit_trail
from tandem.deals import pipelines
from tandem.deals.forms_settings import PipelineForm, ReasonForm, StageEditForm, StageForm
from tandem.deals.models import CloseReason, DealStatus, Pipeline, PipelineStage

PIPELINES = "deals.manage_pipelines"
REASONS = "deals.manage_reasons"


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], *, section: str, status: int = 200
) -> HttpResponse:
    context = {
        **context,
        "settings_section": section,
        "can_pipelines": can(request.user, PIPELINES),  # type: ignore[arg-type]
        "can_reasons": can(request.user, REASONS),  # type: ignore[arg-type]
    }
    return render(request, template, context, status=status)


def _stages(pipeline: Pipeline) -> list[PipelineStage]:
    """The pipeline's stages in order, each with its count of open deals (one query)."""
    return list(
        pipeline.stages.annotate(
            open_deals=Count("deals", filter=Q(deals__status=DealStatus.OPEN))
        ).order_by("position", "id")
    )


@page_requires(PIPELINES)
def pipeline_list(request: HttpRequest) -> HttpResponse:
    pipelines.ensure_defaults()
    rows = [(p, _stages(p)) for p in Pipeline.objects.order_by("-is_active", "position", "id")]
    return _page(request, "deals/settings_pipelines.html", {"rows": rows}, section="pipelines")


@page_requires(PIPELINES)
def pipeline_create(request: HttpRequest) -> HttpResponse:
    form = PipelineForm(request.POST or None, creating=True)
    stage_names = request.POST.get("stages", "") if request.method == "POST" else ""
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = dict(form.cleaned_data)
        lines = [line.strip() for line in stage_names.splitlines() if line.strip()]
        if lines:
            data["stages"] = [_stage_line(line) for line in lines]
        try:
            pipeline = pipelines.create_pipeline(actor=request_actor(request), data=data)
        except ValidationError as err:
            form.add_service_error(err)
        else:
            messages.success(request, f"Added the pipeline “{pipeline.name}”.")
            return redirect("deals_settings:pipeline_edit", pk=pipeline.pk)
    context = {"form": form, "stage_names": stage_names, "defaults": pipelines.DEFAULT_STAGES}
    status = 400 if form.errors else 200
    return _page(
        request, "deals/settings_pipeline_new.html", context, section="pipelines", status=status
    )


def _stage_line(line: str) -> dict[str, Any]:
    """ "Proposal 50" or "Proposal, 50 %" -> name and probability (10 when none is given)."""
    text = line.replace("%", " ").replace(",", " ").strip()
    name, _, last = text.rpartition(" ")
    if name and last.isdigit():
        return {"name": name.strip(), "probability": int(last)}
    return {"name": text, "probability": 10}


@page_requires(PIPELINES)
def pipeline_edit(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    initial = {
        "name": pipeline.name,
        "is_default": pipeline.is_default,
        "is_active": pipeline.is_active,
    }
    form = PipelineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            pipelines.update_pipeline(
                actor=request_actor(request), pipeline=pipeline, data=dict(form.cleaned_data)
            )
        except ValidationError as err:
            form.add_service_error(err)
        else:
            messages.success(request, f"Saved the pipeline “{form.cleaned_data['name']}”.")
            return redirect("deals_settings:pipeline_edit", pk=pipeline.pk)
    return _pipeline_page(request, pipeline, form=form, stage_form=StageForm())


def _pipeline_page(
    request: HttpRequest, pipeline: Pipeline, *, form: PipelineForm, stage_form: StageForm
) -> HttpResponse:
    context = {
        "pipeline": pipeline,
        "form": form,
        "stage_form": stage_form,
        "stages": _stages(pipeline),
        "audit": audit_trail(pipeline),
    }
    status = 400 if form.errors or stage_form.errors else 200
    return _page(
        request, "deals/settings_pipeline.html", context, section="pipelines", status=status
    )


@page_requires(PIPELINES)
@require_POST
def stage_create(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    stage_form = StageForm(request.POST)
    if stage_form.is_valid():
        try:
            stage = pipelines.add_stage(
                actor=request_actor(request), pipeline=pipeline, data=dict(stage_form.cleaned_data)
            )
        except ValidationError as err:
            stage_form.add_service_error(err)
        else:
            messages.success(request, f"Added the stage “{stage.name}”.")
            return redirect("deals_settings:pipeline_edit", pk=pipeline.pk)
    initial = {
        "name": pipeline.name,
        "is_default": pipeline.is_default,
        "is_active": pipeline.is_active,
    }
    return _pipeline_page(
        request, pipeline, form=PipelineForm(initial=initial), stage_form=stage_form
    )


@page_requires(PIPELINES)
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(PipelineStage.objects.select_related("pipeline"), pk=pk)
    initial = {"name": stage.name, "probability": stage.probability, "is_active": stage.is_active}
    form = StageEditForm(request.POST or None, initial=initial, stage=stage)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        move_to = data.pop("move_open_deals_to", None)
        try:
            pipelines.update_stage(
                actor=request_actor(request),
                stage=stage,
                data=data,
                move_open_deals_to=move_to.pk if move_to else None,
            )
        except ValidationError as err:
            form.add_service_error(err)
        else:
            messages.success(request, f"Saved the stage “{data['name']}”.")
            return redirect("deals_settings:pipeline_edit", pk=stage.pipeline_id)
    open_deals = stage.deals.filter(status=DealStatus.OPEN).count()
    context = {"stage": stage, "pipeline": stage.pipeline, "form": form, "open_deals": open_deals}
    status = 400 if form.errors else 200
    return _page(request, "deals/settings_stage.html", context, section="pipelines", status=status)


@page_requires(PIPELINES)
@require_POST
def stage_move(request: HttpRequest, pk: int) -> HttpResponse:
    """One place up or down (the buttons beside each stage)."""
    stage = get_object_or_404(PipelineStage, pk=pk)
    direction = "up" if request.POST.get("direction") == "up" else "down"
    pipelines.move_stage(actor=request_actor(request), stage=stage, direction=direction)
    return redirect("deals_settings:pipeline_edit", pk=stage.pipeline_id)


# --- reasons -------------------------------------------------------------------------------


@page_requires(REASONS)
def reason_list(request: HttpRequest) -> HttpResponse:
    pipelines.ensure_default_reasons()
    form = ReasonForm(request.POST or None, initial={"kind": "lost", "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            reason = pipelines.create_reason(
                actor=request_actor(request), data=dict(form.cleaned_data)
            )
        except ValidationError as err:
            form.add_service_error(err)
        else:
            messages.success(request, f"Added the {reason.kind} reason “{reason.name}”.")
            return redirect("deals_settings:reasons")
    rows = CloseReason.objects.annotate(used=Count("deals")).order_by("position", "id")
    lists = [
        (kind, label, [r for r in rows if r.kind == kind])
        for kind, label in ((DealStatus.LOST, "Lost reasons"), (DealStatus.WON, "Won reasons"))
    ]
    context = {"lists": lists, "form": form}
    status = 400 if form.errors else 200
    return _page(request, "deals/settings_reasons.html", context, section="reasons", status=status)


@page_requires(REASONS)
def reason_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reason = get_object_or_404(CloseReason, pk=pk)
    form = ReasonForm(
        request.POST or None,
        initial={"name": reason.name, "is_active": reason.is_active},
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            pipelines.update_reason(
                actor=request_actor(request), reason=reason, data=dict(form.cleaned_data)
            )
        except ValidationError as err:
            form.add_service_error(err)
        else:
            messages.success(request, f"Saved the reason “{form.cleaned_data['name']}”.")
            return redirect("deals_settings:reasons")
    context = {"reason": reason, "form": form, "audit": audit_trail(reason)}
    status = 400 if form.errors else 200
    return _page(request, "deals/settings_reason.html", context, section="reasons", status=status)


@page_requires(REASONS)
@require_POST
def reason_move(request: HttpRequest, pk: int) -> HttpResponse:
    reason = get_object_or_404(CloseReason, pk=pk)
    direction = "up" if request.POST.get("direction") == "up" else "down"
    pipelines.move_reason(actor=request_actor(request), reason=reason, direction=direction)
    return redirect("deals_settings:reasons")
