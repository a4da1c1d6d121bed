"""Campaign and touchpoint writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from tandem.campaigns.models import Campaign, CampaignKind, Touchpoint, TouchpointKind
from tandem.core.actor import Actor
from tandem.core.audit import record_audit
from tandem.core.permissions import require

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def campaign_key(value: str) -> str:
    """The key `utm_campaign` values map to: lower-case slug ("Spring Guide 2026" → spring-guide-2026)."""
    return slugify(value or "")[:100]


def create_campaign(
    *, actor: Actor, name: str, key: str = "", kind: str = CampaignKind.OTHER, **extra: Any
) -> Campaign:
    require(actor, "campaigns.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the campaign a name."})
    key = campaign_key(key or name)
    if not key:
        raise ValidationError({"key": "Give a key of letters, digits or dashes."})
    if kind not in CampaignKind.values:
        raise ValidationError({"kind": f"Use one of: {', '.join(CampaignKind.values)}."})
    if Campaign.objects.filter(key=key).exists():
        raise ValidationError({"key": f"The key {key!r} is taken by another campaign."})
    with transaction.atomic():
        campaign = Campaign.objects.create(name=name[:200], key=key, kind=kind, **extra)
        record_audit(
            actor=actor,
            event="created",
            target=campaign,
            changes={"name": [None, name], "key": [None, key]},
        )
    return campaign


def resolve_campaign(
    value: Campaign | str | int | None, *, utm_campaign: str = ""
) -> Campaign | None:
    """A campaign given by instance, id or key; else the one `utm_campaign` maps to; else None.

    An explicit campaign that does not exist is an error; an unknown utm_campaign is
    kept on the touchpoint as sent and maps to no campaign.
    """
    if isinstance(value, Campaign):
        return value
    if value not in (None, ""):
        text = str(value).strip()
        found = (
            Campaign.objects.filter(pk=int(text)).first()
            if text.isdigit()
            else Campaign.objects.filter(key=campaign_key(text)).first()
        )
        if found is None:
            raise ValidationError({"campaign": f"There is no campaign {text!r}."})
        return found
    if utm_campaign:
        return Campaign.objects.filter(key=campaign_key(utm_campaign)).first()
    return None


def _clip(value: Any, n: int) -> str:
    return str(value or "").strip()[:n]


def record_touchpoint(
    *,
    person_id: int,
    kind: str,
    occurred_at: dt.datetime | None = None,
    campaign: Campaign | None = None,
    channel: str = "",
    utm: dict[str, str] | None = None,
    referrer: str = "",
    page_url: str = "",
    form_id: int | None = None,
    location: str = "",
    credited_to_id: int | None = None,
    note: str = "",
    detail: dict[str, Any] | None = None,
    client_uuid: str | None = None,
    import_job_id: int | None = None,
) -> Touchpoint:
    """Add one touchpoint; callers have checked permissions and resolved the person."""
    if kind not in TouchpointKind.values:
        raise ValidationError(
            {
                "touchpoint.kind": f"{kind!r} is not a touchpoint kind; use one of: {', '.join(TouchpointKind.values)}."
            }
        )
    utm = utm or {}
    return Touchpoint.objects.create(
        person_id=person_id,
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        campaign=campaign,
        channel=_clip(channel, 50),
        referrer=_clip(referrer, 2000),
        page_url=_clip(page_url, 2000),
        form_id=form_id,
        location=_clip(location, 200),
        credited_to_id=credited_to_id,
        note=_clip(note, 5000),
        detail=detail or {},
        client_uuid=client_uuid,
        import_job_id=import_job_id,
        **{name: _clip(utm.get(name), 200) for name in UTM_FIELDS},
    )
