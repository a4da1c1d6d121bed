"""Capture: one person per human, whatever the channel (ADR 0003).

Web forms, the capture API, the booth and store quick capture, and the
salesperson's own contacts all call `capture_person`. It finds the person by
normalised email or creates one, fills empty fields without overwriting filled
ones (a differing value is kept on the touchpoint as *proposed*), and adds one
touchpoint per capture, even for a known person. Empty fields are filled only
when the actor may edit that person (people.edit: a salesperson not for a
colleague's contact); otherwise the values are proposed too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, require
from tandem.campaigns.models import Campaign, Touchpoint
from tandem.campaigns.services import record_touchpoint, resolve_campaign
from tandem.people import extensions
from tandem.people import services as people
from tandem.people.models import Company, Person, PersonEmail
from tandem.people.normalize import clean_email, clean_phone


@dataclass
class TouchpointIn:
    kind: str
    occurred_at: dt.datetime | None = None
    campaign: Campaign | str | int | None = None
    channel: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    referrer: str = ""
    page_url: str = ""
    form_id: int | None = None
    location: str = ""
    credited_to: User | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    client_uuid: str | None = None


@dataclass
class CaptureResult:
    person: Person
    touchpoint: Touchpoint
    created: bool
    proposed: dict[str, Any]
    replayed: bool = False


def _clean_uuid(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationError({"client_uuid": f"{value!r} is not a UUID."}) from None


def _find_by_email(normalized: str) -> Person | None:
    row = PersonEmail.objects.filter(email_normalized=normalized).select_related("person").first()
    if row is None:
        return None
    person = row.person
    seen = set()
    while person.merged_into_id and person.pk not in seen:  # follow merges to the survivor
        seen.add(person.pk)
        person = Person.objects.get(pk=person.merged_into_id)
    return person


def _company_for(actor: Actor, raw: Any) -> Company | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, Company):
        return raw
    return people.find_or_create_company(actor=actor, name_or_id=raw)


def capture_person(
    *,
    actor: Actor,
    data: dict[str, Any],
    touchpoint: TouchpointIn,
    stage: str = "lead",
    check_duplicates: bool = True,
) -> CaptureResult:
    """Find or create the person behind a capture and record its touchpoint.

    `data` holds flat person fields (first_name, last_name, email, phone, company
    as a name or id, title, address, country, source, custom_fields). A replayed
    `client_uuid` returns the first result and writes nothing. A new person is
    checked for duplicates after the commit; `check_duplicates=False` leaves that
    to a caller that checks many at once (the web-form inbox).
    """
    require(actor, "people.create")
    client_uuid = _clean_uuid(touchpoint.client_uuid)
    if client_uuid:
        existing = (
            Touchpoint.objects.select_related("person").filter(client_uuid=client_uuid).first()
        )
        if existing is not None:
            return CaptureResult(
                existing.person,
                existing,
                created=False,
                proposed=existing.detail.get("proposed", {}),
                replayed=True,
            )

    data = dict(data)
    raw_email = str(data.pop("email", "") or "")
    raw_phone = str(data.pop("phone", "") or "")
    raw_company = data.pop("company", None)
    normalized = clean_email(raw_email)[1] if raw_email.strip() else ""
    if raw_phone.strip():
        clean_phone(
            raw_phone, country=str(data.get("country") or "")
        )  # reject a bad phone before writing
    campaign = resolve_campaign(
        touchpoint.campaign,
        utm_campaign=touchpoint.utm.get("utm_campaign", ""),
        utm_source=touchpoint.utm.get("utm_source", ""),
        utm_medium=touchpoint.utm.get("utm_medium", ""),
    )

    try:
        with transaction.atomic():
            person = _find_by_email(normalized) if normalized else None
            created = False
            proposed: dict[str, Any] = {}
            company = _company_for(actor, raw_company)
            if person is None:
                try:
                    fields = {k: v for k, v in data.items() if v not in (None, "")}
                    if company is not None:
                        fields["company"] = company
                    person = people.create_person(
                        actor=actor,
                        data=fields,
                        email=raw_email,
                        phone=raw_phone,
                        stage=stage,
                        reason=f"Captured ({touchpoint.kind})",
                    )
                    created = True
                except people.DuplicateEmailError as dup:  # a concurrent capture won the race
                    person = Person.objects.get(pk=dup.person_id)
            if not created:
                # A touchpoint for anyone; their fields only where the actor may edit them.
                may_fill = can(actor, "people.edit", person)
                proposed = people.fill_empty_fields(
                    actor=actor, person=person, data=data, phone=raw_phone, company=company
                )
                custom = data.get("custom_fields") or {}
                if custom:
                    empty = {k: v for k, v in custom.items() if k not in person.custom_fields}
                    proposed.update(
                        {
                            f"custom_fields.{k}": v
                            for k, v in custom.items()
                            if (k in person.custom_fields and person.custom_fields[k] != v)
                            or (k in empty and not may_fill)
                        }
                    )
                    if empty and may_fill:
                        people.update_person(
                            actor=Actor.system(actor.label),
                            person=person,
                            data={"custom_fields": empty},
                        )
            detail = dict(touchpoint.detail)
            if proposed:
                detail["proposed"] = proposed
            tp = record_touchpoint(
                person_id=person.pk,
                kind=touchpoint.kind,
                occurred_at=touchpoint.occurred_at,
                campaign=campaign,
                channel=touchpoint.channel,
                utm=touchpoint.utm,
                referrer=touchpoint.referrer,
                page_url=touchpoint.page_url,
                form_id=touchpoint.form_id,
                location=touchpoint.location,
                credited_to_id=touchpoint.credited_to.pk if touchpoint.credited_to else None,
                note=touchpoint.note,
                detail=detail,
                client_uuid=client_uuid,
            )
    except IntegrityError:
        if client_uuid:  # the same offline entry arrived twice at once
            existing = Touchpoint.objects.select_related("person").get(client_uuid=client_uuid)
            return CaptureResult(
                existing.person,
                existing,
                created=False,
                proposed=existing.detail.get("proposed", {}),
                replayed=True,
            )
        raise
    if created and check_duplicates:
        # Same phone or a similar name at the same company: flag it for review, after commit.
        extensions.people_added([person.pk], "capture")
    return CaptureResult(person=person, touchpoint=tp, created=created, proposed=proposed)
