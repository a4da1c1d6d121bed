"""Deals, pipelines and the won/lost reason lists over HTTP: fetch the row, call the
service, return it.

Permissions, checks and audit live in deals/services.py and deals/pipelines.py;
request.auth is the acting `Actor` (accounts/api_auth.py); errors are mapped in
core/api_errors.py. Everyone reads ("deals.view"); writes are checked by the services.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from ninja import P, PathEx, Query, QueryEx, Router, Status
from ninja.responses import NinjaJSONEncoder

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.accounts.queries import owner_by_ref
from tandem.capture.idempotency import KeyHeader, respond_once
from tandem.core.api_errors import conflict
from tandem.core.pagination import MAX_LIMIT, MAX_OFFSET
from tandem.deals import pipelines, services
from tandem.deals.api_filters import DealFilter, deals_page
from tandem.deals.models import CloseReason, Deal, Pipeline, PipelineStage
from tandem.deals.schemas import (
    DealCloseIn,
    DealContactIn,
    DealIn,
    DealMoveIn,
    DealOut,
    DealPage,
    DealPatch,
    DealReasonIn,
    DealReasonList,
    DealReasonOut,
    DealReasonPatch,
    DealReopenIn,
    DealStageHistory,
    PipelineIn,
    PipelineList,
    PipelineOut,
    PipelinePatch,
    PipelineStageAddIn,
    PipelineStagePatch,
    history_rows,
)

# Path ids in the range of a 64-bit key: a larger one is a 422 naming it, never an overflow.
DealId = PathEx[int, P(ge=1, le=2**63 - 1, description="Deal id")]
PipelineId = PathEx[int, P(ge=1, le=2**63 - 1, description="Pipeline id")]
StageId = PathEx[int, P(ge=1, le=2**63 - 1, description="Stage id")]
ReasonId = PathEx[int, P(ge=1, le=2**63 - 1, description="Reason id")]
PersonId = PathEx[int, P(ge=1, le=2**63 - 1, description="Person id")]

router = Router(tags=["deals"])
setup = Router(tags=["pipelines"])


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _viewer(request: HttpRequest) -> Actor:
    actor = _actor(request)
    require(actor, "deals.view")
    return actor


def deal_detail(pk: int) -> Deal:
    """One deal with what DealOut shows (Deal.DoesNotExist: a 404)."""
    return (
        Deal.objects.select_related("pipeline", "stage", "owner", "company", "close_reason")
        .prefetch_related("contacts__person")
        .get(pk=pk)
    )


# --- deals ---------------------------------------------------------------------------------


@router.get("/deals", response=DealPage)
def list_deals(
    request: HttpRequest,
    filters: Query[DealFilter],
    limit: QueryEx[int, P(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")] = 50,
    offset: QueryEx[int, P(ge=0, le=MAX_OFFSET, description="Page deeper with `cursor`")] = 0,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Deals, newest first, with the totals of every match (open, weighted, won) in the
    base currency. Amount filters read the base-currency amount."""
    actor = _viewer(request)
    page = deals_page(viewer=actor.user, filters=filters, limit=limit, cursor=cursor, offset=offset)
    return {
        "items": page.items,
        "count": page.count,
        "count_exact": page.count_exact,
        "next_cursor": page.next_cursor,
        "limit": page.limit,
        "offset": page.offset,
        "totals": {k: f"{v:.2f}" for k, v in page.extra["totals"].items()},
    }


CREATE_SCOPE = "api.deals.create"


@router.post(
    "/deals",
    response={201: DealOut},
    openapi_extra=conflict("The request with this Idempotency-Key is still being processed."),
)
def create_deal(
    request: HttpRequest, payload: DealIn, idempotency_key: KeyHeader = None
) -> JsonResponse:
    """Open a deal. Its contacts at sal (or earlier, or recycled) move to opportunity.

    A client that retries (a lost answer, a timeout) sends `Idempotency-Key`: the deal
    is opened once, and the retry gets the first answer with `Idempotent-Replayed: true`.
    """
    actor = _actor(request)
    data = payload.model_dump(exclude_unset=True)
    if "owner" in data:
        data["owner"] = owner_by_ref(data["owner"])
    for name in ("pipeline", "stage", "currency", "exchange_rate", "created_at"):
        if data.get(name) is None:
            data.pop(name, None)

    def write() -> tuple[int, Any]:
        deal = services.create_deal(actor=actor, data=data)
        out = DealOut.from_orm(deal_detail(deal.pk), context={"request": request}).model_dump()
        return 201, json.loads(json.dumps(out, cls=NinjaJSONEncoder))  # as ninja renders it

    if actor.user is None:  # tokens belong to users; a system actor has no key to keep
        raise PermissionDenied("Deals are opened by a user.")
    return respond_once(
        request, user=actor.user, scope=CREATE_SCOPE, key=idempotency_key, write=write
    )


@router.get("/deals/{deal_id}", response=DealOut)
def get_deal(request: HttpRequest, deal_id: DealId) -> Deal:
    _viewer(request)
    return deal_detail(deal_id)


@router.patch("/deals/{deal_id}", response=DealOut)
def update_deal(request: HttpRequest, deal_id: DealId, payload: DealPatch) -> Deal:
    """Change the fields sent, all or nothing; `stage` moves an open deal (with history)."""
    actor, deal = _actor(request), deal_detail(deal_id)
    data = payload.model_dump(exclude_unset=True)
    if "owner" in data:
        data["owner"] = owner_by_ref(data["owner"])
    for name in ("description", "competitor", "close_note"):
        if name in data and data[name] is None:
            data[name] = ""
    for name in ("name", "pipeline", "stage", "amount", "currency", "exchange_rate"):
        if name in data and data[name] is None:
            raise ValidationError({name: "This field cannot be null."})
    with transaction.atomic():
        services.update_deal(actor=actor, deal=deal, data=data)
    return deal_detail(deal_id)


@router.delete("/deals/{deal_id}", response={204: None})
def delete_deal(request: HttpRequest, deal_id: DealId) -> Status:
    """Delete a deal opened by mistake (a deal that did not happen is closed lost)."""
    services.delete_deal(actor=_actor(request), deal=deal_detail(deal_id))
    return Status(204, None)


@router.post("/deals/{deal_id}/stage", response=DealOut)
def move_deal(request: HttpRequest, deal_id: DealId, payload: DealMoveIn) -> Deal:
    """Move an open deal to another stage (one of another pipeline moves it there)."""
    services.move_deal(
        actor=_actor(request), deal=deal_detail(deal_id), stage_id=payload.stage, note=payload.note
    )
    return deal_detail(deal_id)


@router.post("/deals/{deal_id}/close", response=DealOut)
def close_deal(request: HttpRequest, deal_id: DealId, payload: DealCloseIn) -> Deal:
    """Close it won or lost. Lost needs `reason_id` from the lost list; winning moves the
    deal's contacts to customer."""
    services.close_deal(
        actor=_actor(request),
        deal=deal_detail(deal_id),
        status=payload.status,
        reason_id=payload.reason_id,
        competitor=payload.competitor,
        note=payload.note,
        closed_at=payload.closed_at,
    )
    return deal_detail(deal_id)


@router.post("/deals/{deal_id}/reopen", response=DealOut)
def reopen_deal(request: HttpRequest, deal_id: DealId, payload: DealReopenIn | None = None) -> Deal:
    """Open a won or lost deal again, at the stage it was closed from unless told."""
    body = payload or DealReopenIn.model_validate({})
    services.reopen_deal(actor=_actor(request), deal=deal_detail(deal_id), stage_id=body.stage)
    return deal_detail(deal_id)


@router.get("/deals/{deal_id}/stages", response=DealStageHistory)
def deal_history(request: HttpRequest, deal_id: DealId) -> dict[str, Any]:
    """Every move, close and reopen, oldest first: from, to, when, who."""
    _viewer(request)
    return {"items": history_rows(deal_detail(deal_id))}


@router.post("/deals/{deal_id}/contacts", response=DealOut)
def add_contact(request: HttpRequest, deal_id: DealId, payload: DealContactIn) -> Deal:
    """Put a person on the deal with a role (again: change the role)."""
    services.add_contact(
        actor=_actor(request),
        deal=deal_detail(deal_id),
        person_id=payload.person,
        role=payload.role,
        is_primary=payload.is_primary,
    )
    return deal_detail(deal_id)


@router.delete("/deals/{deal_id}/contacts/{person_id}", response=DealOut)
def remove_contact(request: HttpRequest, deal_id: DealId, person_id: PersonId) -> Deal:
    """Take a person off the deal; their funnel stage stays."""
    deal = deal_detail(deal_id)
    if not deal.contacts.filter(person_id=person_id).exists():
        raise Deal.DoesNotExist  # no such contact on this deal: 404
    services.remove_contact(actor=_actor(request), deal=deal, person_id=person_id)
    return deal_detail(deal_id)


# --- pipelines -----------------------------------------------------------------------------


@setup.get("/pipelines", response=PipelineList)
def list_pipelines(request: HttpRequest, include_archived: bool = False) -> dict[str, Any]:
    """Every pipeline with its stages in order (archived ones with `include_archived`)."""
    _viewer(request)
    pipelines.ensure_defaults()
    qs = Pipeline.objects.order_by("position", "id")
    if not include_archived:
        qs = qs.filter(is_active=True)
    return {"items": list(qs)}


@setup.post("/pipelines", response={201: PipelineOut})
def create_pipeline(request: HttpRequest, payload: PipelineIn) -> Status:
    data = payload.model_dump(exclude_unset=True)
    if data.get("position") is None:
        data.pop("position", None)
    if data.get("stages") is None:
        data.pop("stages", None)
    pipeline = pipelines.create_pipeline(actor=_actor(request), data=data)
    return Status(201, Pipeline.objects.get(pk=pipeline.pk))


@setup.get("/pipelines/{pipeline_id}", response=PipelineOut)
def get_pipeline(request: HttpRequest, pipeline_id: PipelineId) -> Pipeline:
    _viewer(request)
    return Pipeline.objects.get(pk=pipeline_id)


@setup.patch("/pipelines/{pipeline_id}", response=PipelineOut)
def update_pipeline(
    request: HttpRequest, pipeline_id: PipelineId, payload: PipelinePatch
) -> Pipeline:
    """Rename, reorder, make default, or archive (no open deals; not the default)."""
    pipeline = Pipeline.objects.get(pk=pipeline_id)
    data = _not_null(payload.model_dump(exclude_unset=True))
    pipelines.update_pipeline(actor=_actor(request), pipeline=pipeline, data=data)
    return Pipeline.objects.get(pk=pipeline_id)


@setup.post("/pipelines/{pipeline_id}/stages", response={201: PipelineOut})
def add_stage(request: HttpRequest, pipeline_id: PipelineId, payload: PipelineStageAddIn) -> Status:
    """Add a stage, last unless `position` says where."""
    pipeline = Pipeline.objects.get(pk=pipeline_id)
    data = payload.model_dump(exclude_unset=True)
    if data.get("position") is None:
        data.pop("position", None)
    pipelines.add_stage(actor=_actor(request), pipeline=pipeline, data=data)
    return Status(201, Pipeline.objects.get(pk=pipeline_id))


@setup.patch("/pipelines/{pipeline_id}/stages/{stage_id}", response=PipelineOut)
def update_stage(
    request: HttpRequest, pipeline_id: PipelineId, stage_id: StageId, payload: PipelineStagePatch
) -> Pipeline:
    """Rename, reprice (probability), move, archive or restore a stage. Archiving one with
    open deals needs `move_open_deals_to`."""
    stage = PipelineStage.objects.get(pk=stage_id, pipeline_id=pipeline_id)
    data = payload.model_dump(exclude_unset=True)
    move_to = data.pop("move_open_deals_to", None)
    pipelines.update_stage(
        actor=_actor(request), stage=stage, data=_not_null(data), move_open_deals_to=move_to
    )
    return Pipeline.objects.get(pk=pipeline_id)


def _not_null(data: dict[str, Any]) -> dict[str, Any]:
    nulls = [name for name, value in data.items() if value is None]
    if nulls:
        raise ValidationError({name: "This field cannot be null." for name in nulls})
    return data


# --- reasons -------------------------------------------------------------------------------


@setup.get("/deal-reasons", response=DealReasonList)
def list_reasons(
    request: HttpRequest,
    kind: QueryEx[str | None, P(pattern="^(won|lost)$", description="won or lost")] = None,
    include_archived: bool = False,
) -> dict[str, Any]:
    """The won and lost reason lists, in order (retired ones with `include_archived`)."""
    _viewer(request)
    pipelines.ensure_default_reasons()
    qs = CloseReason.objects.order_by("kind", "position", "id")
    if kind:
        qs = qs.filter(kind=kind)
    if not include_archived:
        qs = qs.filter(is_active=True)
    return {"items": list(qs)}


@setup.post("/deal-reasons", response={201: DealReasonOut})
def create_reason(request: HttpRequest, payload: DealReasonIn) -> Status:
    data = payload.model_dump(exclude_unset=True)
    if data.get("position") is None:
        data.pop("position", None)
    return Status(201, pipelines.create_reason(actor=_actor(request), data=data))


@setup.patch("/deal-reasons/{reason_id}", response=DealReasonOut)
def update_reason(
    request: HttpRequest, reason_id: ReasonId, payload: DealReasonPatch
) -> CloseReason:
    """Rename, move, retire or bring back a reason; deals closed with it keep it."""
    reason = CloseReason.objects.get(pk=reason_id)
    data = _not_null(payload.model_dump(exclude_unset=True))
    return pipelines.update_reason(actor=_actor(request), reason=reason, data=data)
