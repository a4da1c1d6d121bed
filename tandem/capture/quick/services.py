"""Quick capture at the booth, the store counter and from a salesperson's own network.

(Issue 4 points 10 and 11; journeys J2 and J4.) Every entry goes through the
one capture function, `capture_person`, so a badge scanned twice, or an
offline entry synced twice, is still one person with one touchpoint per
entry (the client-made UUID makes a replay return the first result).

- A new person a salesperson saves is theirs (they met them, they follow
  up: every lead gets an owner), as in the Add person form;
  `TANDEM_QUICK_CAPTURE_OWNER=queue` leaves them unowned for routing instead.
  Other roles' captures stay unowned. A known person keeps their owner.
- A contact from the salesperson's own network is a *sales-sourced*
  touchpoint credited to them. The person is in the shared database, not a
  private list, so marketing's nurture reaches them too (J2).
- "Sold on the spot" moves the person to customer through `change_stage`
  when the salesperson may change that person's stage; otherwise the sale is
  kept on the touchpoint for someone who may.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, User
from tandem.accounts.permissions import can, require
from tandem.campaigns.models import Campaign, CampaignKind, Touchpoint, TouchpointKind
from tandem.capture.services import CaptureResult, TouchpointIn, capture_person
from tandem.people import services as people
from tandem.people.models import FUNNEL_ORDER, Person, Stage

CHANNEL = "quick_capture"
# Campaign kinds one captures at: the event and store pickers list these.
PLACE_KINDS = (CampaignKind.TRADE_SHOW, CampaignKind.EVENT, CampaignKind.STORE)
INTEREST_LEVELS = ("low", "medium", "high")
SOURCES: dict[str, str] = {
    TouchpointKind.SALES_SOURCED.value: "sales-sourced",
    TouchpointKind.BOOTH_SCAN.value: "booth",
    TouchpointKind.STORE_VISIT.value: "store",
}


@dataclass
class QuickEntry:
    """One contact as typed or scanned on the phone."""

    person: dict[str, Any]
    campaign: Campaign | None = None
    location: str = ""
    place: str = "booth"  # booth or store, when no campaign says which
    interest: str = ""
    note: str = ""
    sold_on_spot: bool = False
    own_network: bool = False
    client_uuid: str | None = None
    captured_at: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class QuickResult:
    capture: CaptureResult
    kind: str
    moved_to_customer: bool = False
    stage_note: str = ""

    @property
    def person(self) -> Person:
        return self.capture.person

    def owner_note(self, actor: Actor) -> str:
        """Who follows this person up, as the salesperson reads it after Save."""
        owner = self.person.owner
        if owner is None:
            return "in the queue, nobody owns them yet"
        if actor.user is not None and owner.pk == actor.user.pk:
            return "yours"
        return f"owned by {owner.get_full_name() or owner.username}"


def new_person_owner(actor: Actor) -> User | None:
    """The owner of a person quick capture creates (TANDEM_QUICK_CAPTURE_OWNER)."""
    user = actor.user
    if user is None or user.role != Role.SALESPERSON:
        return None
    if getattr(settings, "TANDEM_QUICK_CAPTURE_OWNER", "self") == "queue":
        return None
    return user


def touchpoint_kind(entry: QuickEntry) -> str:
    if entry.own_network:
        return TouchpointKind.SALES_SOURCED.value
    if entry.campaign is not None:
        is_store = entry.campaign.kind == CampaignKind.STORE
    else:
        is_store = entry.place == "store"
    return (TouchpointKind.STORE_VISIT if is_store else TouchpointKind.BOOTH_SCAN).value


def capture_quickly(*, actor: Actor, entry: QuickEntry) -> QuickResult:
    """Record a quick-capture entry: the person, one touchpoint, and a sale if made.

    A replayed entry (same client UUID) returns the first result and changes
    nothing, not even the stage.
    """
    require(actor, "people.create")
    kind = touchpoint_kind(entry)
    location = (entry.location or (entry.campaign.name if entry.campaign else "")).strip()
    data = {k: v for k, v in entry.person.items() if v not in (None, "")}
    data.setdefault("source", SOURCES[kind])
    data["owner"] = new_person_owner(actor)  # a new person's only: a known one keeps theirs
    detail: dict[str, Any] = {"sold_on_spot": entry.sold_on_spot}
    if entry.interest:
        detail["interest"] = entry.interest
    if actor.user is not None:
        detail["captured_by"] = actor.user.pk
    detail.update(entry.extra)
    with transaction.atomic():
        captured = capture_person(
            actor=actor,
            data=data,
            touchpoint=TouchpointIn(
                kind=kind,
                occurred_at=entry.captured_at,
                campaign=entry.campaign,
                channel=CHANNEL,
                location=location,
                credited_to=actor.user if entry.own_network else None,
                note=entry.note,
                detail=detail,
                client_uuid=entry.client_uuid,
            ),
        )
        result = QuickResult(capture=captured, kind=captured.touchpoint.kind)
        if entry.sold_on_spot and not captured.replayed:
            _record_sale(actor, result, location)
    return result


def _record_sale(actor: Actor, result: QuickResult, location: str) -> None:
    """Customer now, if this salesperson may say so; else the sale waits on the touchpoint."""
    person = Person.objects.get(pk=result.person.pk)
    tp = result.capture.touchpoint
    if FUNNEL_ORDER.get(person.stage, -1) >= FUNNEL_ORDER[Stage.CUSTOMER]:
        result.stage_note = f"already {Stage(person.stage).label.lower()}"
    elif not can(actor, "people.change_stage", person):
        result.stage_note = "not allowed to change this person's stage"
    else:
        where = f" at {location}" if location else ""
        people.change_stage(
            person=person,
            to_stage=Stage.CUSTOMER,
            actor=actor,
            reason=f"Sold on the spot{where}",
        )
        result.moved_to_customer = True
    if result.moved_to_customer:
        tp.detail = {**tp.detail, "stage": Stage.CUSTOMER.value}
    else:
        tp.detail = {**tp.detail, "stage_unchanged": result.stage_note}
    Touchpoint.objects.filter(pk=tp.pk).update(detail=tp.detail)
