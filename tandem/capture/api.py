"""POST /api/v1/capture: a program hands in a lead from any channel (issue 4, point 9).

It lands through the one capture function (capture/services.py: find by
email or create, fill empty fields the caller may edit, one touchpoint each
time), its consents through the consent service with the proof the caller
gives (text version, how) and ours (method "api", the token's user, IP), and
an `Idempotency-Key` header makes a retried request happen once
(capture/idempotency.py).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from ninja import Router

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.campaigns.models import Campaign
from tandem.campaigns.services import UTM_FIELDS, resolve_campaign
from tandem.capture import consent as consent_service
from tandem.capture.idempotency import KeyHeader, respond_once
from tandem.capture.schemas import CaptureIn, CaptureOut, ConsentBody, TouchpointBody
from tandem.capture.services import CaptureResult, TouchpointIn, capture_person
from tandem.core.api_errors import conflict
from tandem.core.http import client_ip
from tandem.people.models import Person

router = Router(tags=["capture"])

SCOPE = "api.capture"
FUTURE_SLACK = dt.timedelta(days=1)


@router.post(
    "",
    response={200: CaptureOut, 201: CaptureOut},
    summary="Capture a lead from any channel",
    openapi_extra=conflict("The request with this Idempotency-Key is still being processed."),
)
def capture(
    request: HttpRequest,
    payload: CaptureIn,
    idempotency_key: KeyHeader = None,
) -> JsonResponse:
    """Find the person by email or add them, record the touchpoint and consents.

    201 when a new person was made, 200 when the email belonged to someone
    already (their empty fields are filled; differing values come back as
    `proposed` and are kept on the touchpoint, not applied).
    """
    actor: Actor = request.auth  # type: ignore[attr-defined]
    require(actor, "people.create")
    assert actor.user is not None
    return respond_once(
        request,
        user=actor.user,
        scope=SCOPE,
        key=idempotency_key,
        write=lambda: _capture(request, actor, payload),
    )


def _capture(request: HttpRequest, actor: Actor, payload: CaptureIn) -> tuple[int, Any]:
    tp = payload.touchpoint
    campaign = _campaign(tp)
    vouched = _vouched(payload.consents)
    texts = consent_service.check_vouched_consents(vouched)
    data = payload.model_dump(exclude={"touchpoint", "consents"})
    result = capture_person(
        actor=actor,
        data=data,
        touchpoint=TouchpointIn(
            kind=tp.kind.value,
            occurred_at=_occurred_at(tp.occurred_at),
            campaign=campaign,
            channel=tp.channel.strip() or "api",
            utm={name: getattr(tp, name) for name in UTM_FIELDS if getattr(tp, name)},
            referrer=_url(tp.referrer, "touchpoint.referrer"),
            page_url=_url(tp.page_url, "touchpoint.page_url"),
            note=tp.note,
        ),
    )
    consents = consent_service.record_vouched_consents(
        person=result.person, items=vouched, found=texts, proof=_proof(request, actor)
    )
    return (201 if result.created else 200), _body(request, result, consents)


def _campaign(tp: TouchpointBody) -> Campaign | None:
    try:
        return resolve_campaign(
            tp.campaign,
            utm_campaign=tp.utm_campaign,
            utm_source=tp.utm_source,
            utm_medium=tp.utm_medium,
        )
    except ValidationError as err:
        raise ValidationError({"touchpoint.campaign": err.message_dict["campaign"]}) from None


def _occurred_at(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    if value > timezone.now() + FUTURE_SLACK:
        raise ValidationError({"touchpoint.occurred_at": "This is in the future."})
    return value


def _url(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if len(value) > 2000:
        raise ValidationError({field: "At most 2000 characters."})
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValidationError({field: f"{value[:100]!r} is not an http(s) URL."}) from None
    return value


def _vouched(consents: list[ConsentBody]) -> list[consent_service.VouchedConsent]:
    return [
        consent_service.VouchedConsent(
            purpose=item.purpose, granted=item.granted, text_version=item.text_version, how=item.how
        )
        for item in consents
    ]


def _proof(request: HttpRequest, actor: Actor) -> consent_service.Proof:
    ip: str | None = client_ip(request)
    try:
        ipaddress.ip_address(ip or "")
    except ValueError:
        ip = None
    return consent_service.Proof(
        method="api",
        ip=ip,
        user_agent=request.headers.get("User-Agent", "")[:300],
        recorded_by=actor.user,
    )


def _person_url(request: HttpRequest, person_id: int) -> str:
    try:
        path = reverse("people:detail", args=[person_id])
    except NoReverseMatch:
        path = f"/people/{person_id}/"
    return request.build_absolute_uri(path)


def _body(
    request: HttpRequest, result: CaptureResult, consents: list[dict[str, Any]]
) -> dict[str, Any]:
    """The response as plain JSON, so a replay can return it exactly."""
    person = Person.objects.get(pk=result.person.pk)  # as filled by the capture
    tp = result.touchpoint
    out = CaptureOut.model_validate(
        {
            "person": {
                "id": person.pk,
                "email": person.email,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "stage": person.stage,
                "url": _person_url(request, person.pk),
            },
            "touchpoint": {
                "id": tp.pk,
                "kind": tp.kind,
                "occurred_at": tp.occurred_at,
                "campaign": (
                    {"id": tp.campaign.pk, "key": tp.campaign.key, "name": tp.campaign.name}
                    if tp.campaign
                    else None
                ),
                "channel": tp.channel,
                **{name: getattr(tp, name) for name in UTM_FIELDS},
                "referrer": tp.referrer,
                "page_url": tp.page_url,
                "note": tp.note,
            },
            "created": result.created,
            "proposed": result.proposed,
            "consents": consents,
        }
    )
    return out.model_dump(mode="json")
