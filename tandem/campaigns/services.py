"""Campaign and touchpoint writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.campaigns import utm
from tandem.campaigns.models import Campaign, CampaignKind, Touchpoint, TouchpointKind
from tandem.campaigns.money import clean_amount
from tandem.core.audit import record_audit
from tandem.core.bulk import build, insert_new
from tandem.people import extensions

_TOUCHPOINT_KINDS = frozenset(TouchpointKind.values)
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
UTM_MAPPED = ("utm_campaign", "utm_source", "utm_medium")  # the tags resolve_campaign reads


class CampaignKeyTaken(ValidationError):
    """Another campaign has this key: forms name it next to the key, the API answers 409."""

    def __init__(self, key: str) -> None:
        super().__init__({"key": f"The key {key!r} is taken by another campaign."})


def campaign_key(value: str) -> str:
    """The key `utm_campaign` values map to: lower-case slug ("Spring Guide 2026" → spring-guide-2026)."""
    return slugify(value or "")[:100]


def create_campaign(
    *, actor: Actor, name: str, key: str = "", kind: str = CampaignKind.OTHER, **extra: Any
) -> Campaign:
    """Add a campaign; `extra` holds description, dates, is_active, owner, and the budget:
    `parent` (a campaign or its id) and `planned_budget` (base currency, ≥ 0)."""
    require(actor, "campaigns.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the campaign a name."})
    key = campaign_key(key or name)
    if not key:
        raise ValidationError({"key": "Give a key of letters, digits or dashes."})
    if kind not in CampaignKind.values:
        raise ValidationError({"kind": f"Use one of: {', '.join(CampaignKind.values)}."})
    starts, ends = extra.get("starts_on"), extra.get("ends_on")
    if starts and ends and ends < starts:
        raise ValidationError({"ends_on": "The campaign cannot end before it starts."})
    if "planned_budget" in extra:
        extra["planned_budget"] = clean_amount(
            extra["planned_budget"], "planned_budget", required=False
        )
    if "parent" in extra:
        extra["parent"] = _clean_parent(extra["parent"], None)
    if Campaign.objects.filter(key=key).exists():
        raise CampaignKeyTaken(key)
    utm.check_key_free(key, None)
    with transaction.atomic():
        try:
            with transaction.atomic():  # a concurrent create of the same key loses here
                campaign = Campaign.objects.create(name=name[:200], key=key, kind=kind, **extra)
        except IntegrityError:
            raise CampaignKeyTaken(key) from None
        changes: dict[str, Any] = {"name": [None, name], "key": [None, key]}
        if campaign.parent_id is not None:
            changes["parent"] = [None, campaign.parent_id]
        if campaign.planned_budget is not None:
            changes["planned_budget"] = [None, str(campaign.planned_budget)]
        record_audit(actor=actor, event="created", target=campaign, changes=changes)
    return campaign


MAX_DEPTH = 100  # campaigns above one another; deeper is surely a mistake


def ancestor_ids(campaign_id: int) -> list[int]:
    """The ids above a campaign, its parent first (one query per level; trees are shallow)."""
    out: list[int] = []
    current: int | None = campaign_id
    while current is not None and len(out) <= MAX_DEPTH:
        current = Campaign.objects.filter(pk=current).values_list("parent_id", flat=True).first()
        if current is None or current in out:
            break
        out.append(current)
    return out


def _clean_parent(value: Any, campaign: Campaign | None) -> Campaign | None:
    """The parent asked for; refused when missing, the campaign itself, or under it."""
    if value in (None, ""):
        return None
    if isinstance(value, Campaign):
        parent_id: int | None = value.pk
    else:
        text = str(value).strip()
        parent_id = int(text) if text.isdigit() and len(text) < 19 else None
    parent = Campaign.objects.filter(pk=parent_id).first() if parent_id else None
    if parent is None:
        raise ValidationError({"parent": f"There is no campaign {value!r}."})
    if campaign is not None:
        if parent.pk == campaign.pk:
            raise ValidationError({"parent": "A campaign cannot be its own parent."})
        if campaign.pk in ancestor_ids(parent.pk):
            raise ValidationError(
                {
                    "parent": f"{parent.name} sits under {campaign.name}: "
                    "a campaign cannot be its own ancestor."
                }
            )
    if len(ancestor_ids(parent.pk)) >= MAX_DEPTH:
        raise ValidationError({"parent": f"Campaigns nest at most {MAX_DEPTH} deep."})
    return parent


def resolve_campaign(
    value: Campaign | str | int | None,
    *,
    utm_campaign: str = "",
    utm_source: str = "",
    utm_medium: str = "",
) -> Campaign | None:
    """A campaign given by instance, id or key; else the one the UTM tags map to; else None.

    The tags map through the campaign keys and the campaigns' UTM mappings
    (campaigns/utm.py: the most specific wins). An explicit campaign that does not
    exist is an error; tags that map nowhere are kept on the touchpoint as sent.
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
    return utm.resolve(
        utm_campaign=campaign_key(utm_campaign), utm_source=utm_source, utm_medium=utm_medium
    )


def _clip(value: Any, n: int) -> str:
    return str(value or "").strip()[:n]


def build_touchpoint(
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
    """One touchpoint, not saved yet: `record_touchpoint` saves it, a batch writes many at once."""
    if kind not in _TOUCHPOINT_KINDS:
        raise ValidationError(
            {
                "touchpoint.kind": f"{kind!r} is not a touchpoint kind; use one of: {', '.join(TouchpointKind.values)}."
            }
        )
    utm = utm or {}
    return build(
        Touchpoint,
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


def record_past_touchpoints(touchpoints: Iterable[Touchpoint]) -> list[Touchpoint]:
    """Add many touchpoints built by `build_touchpoint`, in one INSERT, each recorded
    when it occurred (`created_at` = `occurred_at`): a past written at once, as the
    demo's 18 months. Callers have checked permissions and resolved the people."""
    rows = list(touchpoints)
    for row in rows:
        row.created_at = row.occurred_at
    with transaction.atomic(savepoint=False):
        insert_new(rows, backdated=True)
    return rows


def record_touchpoint(**kwargs: Any) -> Touchpoint:
    """Add one touchpoint (the arguments of `build_touchpoint`); callers have checked
    permissions and resolved the person."""
    touchpoint = build_touchpoint(**kwargs)
    touchpoint.save(force_insert=True)
    extensions.people_touched([touchpoint.person_id], "touchpoint")  # scoring rescores (ADR 0005)
    return touchpoint


CAMPAIGN_EDITABLE = (
    "name",
    "key",
    "kind",
    "description",
    "starts_on",
    "ends_on",
    "is_active",
    "parent",
    "planned_budget",
)


def update_campaign(*, actor: Actor, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    """Change a campaign's name, key, kind, dates, description, active flag, parent
    (a campaign or its id; None: top level) or planned budget (None: no budget).

    A changed key changes which `utm_campaign` values map here from now on;
    touchpoints already recorded keep their campaign. A parent under this campaign
    is refused (no cycles).
    """
    require(actor, "campaigns.manage")
    unknown = set(data) - set(CAMPAIGN_EDITABLE)
    if unknown:
        raise ValidationError(f"Unknown campaign settings: {', '.join(sorted(unknown))}.")
    errors: dict[str, str] = {}
    if "name" in data and not str(data["name"] or "").strip():
        errors["name"] = "Give the campaign a name."
    if "key" in data:
        key = campaign_key(str(data["key"] or ""))
        if not key:
            errors["key"] = "Give a key of letters, digits or dashes."
        data = {**data, "key": key}
    if "kind" in data and data["kind"] not in CampaignKind.values:
        errors["kind"] = f"Use one of: {', '.join(CampaignKind.values)}."
    if "planned_budget" in data:
        try:
            data = {
                **data,
                "planned_budget": clean_amount(
                    data["planned_budget"], "planned_budget", required=False
                ),
            }
        except ValidationError as exc:
            errors |= {k: " ".join(v) for k, v in exc.message_dict.items()}
    starts = data.get("starts_on", campaign.starts_on)
    ends = data.get("ends_on", campaign.ends_on)
    if starts and ends and ends < starts:
        errors["ends_on"] = "The campaign cannot end before it starts."
    if errors:
        raise ValidationError(errors)
    if "key" in data and Campaign.objects.filter(key=data["key"]).exclude(pk=campaign.pk).exists():
        raise CampaignKeyTaken(data["key"])
    if "key" in data:
        utm.check_key_free(data["key"], campaign)
    with transaction.atomic():
        if data.get("parent") not in (None, ""):
            # Lock both rows in id order, then look up the tree: of two people making
            # each campaign the other's parent at once, the second sees the first.
            parent_id = (
                data["parent"].pk if isinstance(data["parent"], Campaign) else data["parent"]
            )
            ids = sorted({campaign.pk, *([int(parent_id)] if str(parent_id).isdigit() else [])})
            list(Campaign.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if "parent" in data:
            data = {**data, "parent": _clean_parent(data["parent"], campaign)}
        before = {name: _value(campaign, name) for name in CAMPAIGN_EDITABLE}
        for name, value in data.items():
            setattr(campaign, name, value.strip()[:200] if name == "name" else value)
        changes = {
            name: [_plain(before[name]), _plain(_value(campaign, name))]
            for name in CAMPAIGN_EDITABLE
            if before[name] != _value(campaign, name)
        }
        if changes:
            try:
                with transaction.atomic():  # a concurrent change to the same key loses here
                    campaign.save()
            except IntegrityError:
                raise CampaignKeyTaken(campaign.key) from None
            record_audit(actor=actor, event="changed", target=campaign, changes=changes)
    return campaign


def _value(campaign: Campaign, name: str) -> Any:
    return campaign.parent_id if name == "parent" else getattr(campaign, name)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
