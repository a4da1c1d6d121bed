"""The hand-off answer over HTTP: accept, send back, the reasons list and the send-back report.

Conventions of /api/v1/people: the caller is `request.auth` (an Actor), the
services check permissions (a read-only token gets 403 on every write), a
refused value is a 422 naming its field, an unknown person a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import P, PathEx, Query, Router, Schema, Status
from pydantic import Field

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.people.models import Person
from tandem.routing import handoffs, reasons, reports
from tandem.routing.models import Handoff, SendBackReason

router = Router(tags=["hand-offs"])

Id = PathEx[int, P(ge=1, le=2**63 - 1, description="Id")]


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _person(person_id: int) -> Person:
    return Person.objects.live().get(pk=person_id)


# --- schemas --------------------------------------------------------------------------


class HandoffOut(Schema):
    """A hand-off and its answer."""

    id: int
    person: int = Field(description="The person's id.")
    person_stage: str = Field(description="The person's stage after the answer.")
    owner: int | None = Field(description="Who it was handed to (kept after a send-back).")
    status: Literal["open", "accepted", "sent_back", "reassigned"]
    routed_by: str
    routed_at: dt.datetime
    due_at: dt.datetime | None
    responded_at: dt.datetime | None
    responded_by: int | None
    send_back_reason: str = Field(description="The reason's key; empty unless sent back.")
    send_back_note: str

    @staticmethod
    def resolve_person(obj: Handoff) -> int:
        return obj.person_id

    @staticmethod
    def resolve_person_stage(obj: Handoff) -> str:
        return Person.objects.filter(pk=obj.person_id).values_list("stage", flat=True).get()

    @staticmethod
    def resolve_owner(obj: Handoff) -> int | None:
        return obj.owner_id

    @staticmethod
    def resolve_responded_by(obj: Handoff) -> int | None:
        return obj.responded_by_id


class SendBackIn(Schema):
    reason: str = Field("", max_length=50, description="A key of GET /send-back-reasons.")
    note: str = Field("", max_length=handoffs.NOTE_MAX_LENGTH, description="For marketing.")


class ReasonOut(Schema):
    id: int
    key: str
    label: str
    position: int
    is_active: bool


KEY_PATTERN = r"^[a-z0-9][a-z0-9_]{0,49}$"
LABEL_PATTERN = r"^[^\x00]*[^\x00\s][^\x00]*$"  # not blank, and no NUL (PostgreSQL stores none)


class ReasonIn(Schema):
    key: str = Field(
        max_length=50, pattern=KEY_PATTERN, description="Lower-case letters, digits, underscores."
    )
    label: str = Field(min_length=1, max_length=100, pattern=LABEL_PATTERN)
    position: int | None = Field(None, ge=0, le=1_000_000, description="Default: last.")


class ReasonPatch(Schema):
    label: str | None = Field(None, min_length=1, max_length=100, pattern=LABEL_PATTERN)
    position: int | None = Field(None, ge=0, le=1_000_000)
    is_active: bool | None = None


class ReasonsQuery(Schema):
    include_retired: bool = Field(False, description="Also the reasons no longer offered.")


class ReportQuery(Schema):
    from_: dt.date | None = Field(
        None, alias="from", description="First day (default: 90 days ago)."
    )
    to: dt.date | None = Field(None, description="Last day, included (default: today).")
    group_by: Literal["campaign", "source", "segment"] = "campaign"


class ReportCount(Schema):
    reason: str
    count: int = Field(description="People sent back for this reason (in this group).")
    people_url: str = Field(description="The people list filtered to exactly them.")


class ReportRow(Schema):
    key: str
    label: str
    total: int
    counts: list[ReportCount]


class ReportReason(Schema):
    key: str
    label: str


class SendBackReportOut(Schema):
    group_by: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    reasons: list[ReportReason]
    rows: list[ReportRow]
    totals: list[ReportCount]
    total: int


# --- endpoints ------------------------------------------------------------------------


@router.post("/people/{person_id}/accept", response=HandoffOut)
def accept(request: HttpRequest, person_id: Id) -> Handoff:
    """The owner (their manager, an admin) takes the lead: it moves to `sal`. A person with no
    open hand-off is a 422 naming `person`."""
    return handoffs.accept_handoff(actor=_actor(request), person=_person(person_id))


@router.post("/people/{person_id}/send-back", response=HandoffOut)
def send_back(request: HttpRequest, person_id: Id, payload: SendBackIn) -> Handoff:
    """Back to marketing with a `reason` (required, from the active list) and a `note`: the
    person moves to `recycled`, becomes unowned, and marketing is told."""
    return handoffs.send_back_handoff(
        actor=_actor(request),
        person=_person(person_id),
        reason=payload.reason,
        note=payload.note,
    )


@router.get("/send-back-reasons", response=list[ReasonOut])
def list_reasons(request: HttpRequest, query: Query[ReasonsQuery]) -> list[SendBackReason]:
    """The reasons a salesperson picks from, in order (everyone signed in)."""
    if query.include_retired:
        return list(SendBackReason.objects.order_by("position", "id"))
    return list(handoffs.active_reasons())


@router.post("/send-back-reasons", response={201: ReasonOut})
def create_reason(request: HttpRequest, payload: ReasonIn) -> Status:
    """Add a reason (admins)."""
    reason = reasons.create_reason(
        actor=_actor(request), key=payload.key, label=payload.label, position=payload.position
    )
    return Status(201, reason)


@router.patch("/send-back-reasons/{reason_id}", response=ReasonOut)
def update_reason(request: HttpRequest, reason_id: Id, payload: ReasonPatch) -> SendBackReason:
    """Change the label, position or whether it is offered (admins); the key stays."""
    require(_actor(request), "routing.manage_reasons")
    reason = get_object_or_404(SendBackReason, pk=reason_id)
    # A field sent as null is left as it is, like a field left out.
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return reasons.update_reason(actor=_actor(request), reason=reason, data=data)


@router.post("/send-back-reasons/{reason_id}/deactivate", response=ReasonOut)
def deactivate_reason(request: HttpRequest, reason_id: Id) -> SendBackReason:
    """Stop offering a reason (admins); past send-backs keep it."""
    require(_actor(request), "routing.manage_reasons")
    reason = get_object_or_404(SendBackReason, pk=reason_id)
    return reasons.deactivate_reason(actor=_actor(request), reason=reason)


@router.get(
    "/reports/send-backs", response=SendBackReportOut, url_name="send_back_report", by_alias=True
)
def send_back_report(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    """People sent back in the period by reason × campaign (the latest campaign touchpoint
    before routing), source or segment (company industry · size); each count with the
    people list URL that shows them. Marketers, managers and admins."""
    require(_actor(request), "routing.view_send_backs")
    p = reports.period(query.from_, query.to)
    return reports.send_back_report(group_by=query.group_by, p=p).as_dict()
