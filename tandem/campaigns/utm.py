"""Which campaign a touchpoint's UTM tags map to, and the mappings marketers keep.

A campaign's `key` is the first `utm_campaign` value that maps to it. Marketers
add more as UTM mappings (CampaignUtm): another `utm_campaign` value (an alias:
last year's link, a typo in a newsletter), optionally narrowed by `utm_source`
and/or `utm_medium` (`spring` from `linkedin` is the LinkedIn sub-campaign), or a
source/medium pair alone (`facebook` / `paid` is the paid-social campaign whatever
the utm_campaign). The most specific match wins:

1. a mapping with utm_campaign, source and medium; then with campaign and source;
   then campaign and medium; then the utm_campaign value alone;
2. a campaign whose key is the utm_campaign value;
3. a mapping with source and medium only; then source only; then medium only.

Capture is hot, so the mappings (a small table) are held in a per-process dict,
dropped on every change in this process and reloaded at most every
`CACHE_SECONDS` elsewhere; a cached hit is fetched with its mapping, so a mapping
deleted meanwhile is never followed. A lookup is one indexed query.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.campaigns.models import Campaign, CampaignUtm
from tandem.core.audit import record_audit

CACHE_SECONDS = 30.0
MAX_MAPPINGS = 200  # per campaign
Tags = tuple[str, str, str]  # (utm_campaign, utm_source, utm_medium), normalised

_cache: dict[Tags, int] | None = None
_loaded_at = 0.0


def forget() -> None:
    """Drop the cached mappings (after a change; tests)."""
    global _cache
    _cache = None


def _mappings() -> dict[Tags, int]:
    global _cache, _loaded_at
    if _cache is None or time.monotonic() - _loaded_at > CACHE_SECONDS:
        _cache = {
            (c, s, m): campaign_id
            for c, s, m, campaign_id in CampaignUtm.objects.values_list(
                "utm_campaign", "utm_source", "utm_medium", "campaign_id"
            )
        }
        _loaded_at = time.monotonic()
    return _cache


def normal_tag(value: Any) -> str:
    """A source or medium as mappings compare it: trimmed, lower-case."""
    return str(value or "").strip().lower()[:200]


def _candidates(c: str, s: str, m: str) -> tuple[list[Tags], list[Tags]]:
    """The mappings that could match, most specific first: with utm_campaign, without."""
    first: list[Tags] = []
    if c:
        first = [t for t in ((c, s, m), (c, s, ""), (c, "", m)) if t[1] or t[2]]
        first = list(dict.fromkeys([*first, (c, "", "")]))
    last = [t for t in (("", s, m), ("", s, ""), ("", "", m)) if t[1] or t[2]]
    return first, list(dict.fromkeys(last))


def resolve(*, utm_campaign: str, utm_source: str = "", utm_medium: str = "") -> Campaign | None:
    """The campaign these tags map to, or None. `utm_campaign` comes as a campaign key
    (services.campaign_key); source and medium as sent."""
    c, s, m = utm_campaign, normal_tag(utm_source), normal_tag(utm_medium)
    if not (c or s or m):
        return None
    found, stale = _resolve_once(c, s, m)
    if stale:  # a mapping changed in another process: read them again, once
        forget()
        found, _ = _resolve_once(c, s, m)
    return found


def _resolve_once(c: str, s: str, m: str) -> tuple[Campaign | None, bool]:
    mappings = _mappings()
    first, last = _candidates(c, s, m)
    for tags in first:
        if tags in mappings:
            return _fetch(tags, mappings[tags])
    if c:
        found = Campaign.objects.filter(key=c).first()
        if found is not None:
            return found, False
    for tags in last:
        if tags in mappings:
            return _fetch(tags, mappings[tags])
    return None, False


def _fetch(tags: Tags, campaign_id: int) -> tuple[Campaign | None, bool]:
    """The mapped campaign, if the mapping still holds (one query)."""
    c, s, m = tags
    found = Campaign.objects.filter(
        pk=campaign_id,
        utm_mappings__utm_campaign=c,
        utm_mappings__utm_source=s,
        utm_mappings__utm_medium=m,
    ).first()
    return found, found is None


# --- what marketers keep ----------------------------------------------------------------


def mappings_of(campaign: Campaign) -> list[dict[str, Any]]:
    return [
        {
            "id": u.pk,
            "utm_campaign": u.utm_campaign,
            "utm_source": u.utm_source,
            "utm_medium": u.utm_medium,
        }
        for u in campaign.utm_mappings.order_by("utm_campaign", "utm_source", "utm_medium", "id")
    ]


def check_key_free(key: str, campaign: Campaign | None) -> None:
    """A campaign key must not be another campaign's utm_campaign alias (which would win)."""
    taken = (
        CampaignUtm.objects.filter(utm_campaign=key, utm_source="", utm_medium="")
        .exclude(campaign=campaign)
        .select_related("campaign")
        .first()
    )
    if taken is not None:
        raise ValidationError(
            {"key": f"utm_campaign={key} already maps to the campaign {taken.campaign.name}."}
        )


def clean_mappings(campaign: Campaign | None, raw: list[Any]) -> list[Tags]:
    """The mappings asked for, normalised and checked; errors name `utm_mappings.<n>`."""
    from tandem.campaigns.services import campaign_key

    if not isinstance(raw, list):
        raise ValidationError({"utm_mappings": "Give a list of mappings."})
    if len(raw) > MAX_MAPPINGS:
        raise ValidationError({"utm_mappings": f"At most {MAX_MAPPINGS} mappings a campaign."})
    out: list[Tags] = []
    errors: dict[str, str] = {}
    for n, item in enumerate(raw):
        field = f"utm_mappings.{n}"
        if not isinstance(item, dict):
            errors[field] = "Give utm_campaign, utm_source and/or utm_medium."
            continue
        unknown = set(item) - {"utm_campaign", "utm_source", "utm_medium", "id"}
        if unknown:
            errors[field] = f"Unknown: {', '.join(sorted(unknown))}."
            continue
        raw_c = str(item.get("utm_campaign") or "").strip()
        tags = (
            campaign_key(raw_c),
            normal_tag(item.get("utm_source")),
            normal_tag(item.get("utm_medium")),
        )
        if raw_c and not tags[0]:
            errors[f"{field}.utm_campaign"] = "Use letters, digits or dashes."
        elif tags == ("", "", ""):
            errors[field] = "Give a utm_campaign, a utm_source or a utm_medium."
        elif tags in out:
            errors[field] = "This mapping is listed twice."
        elif campaign is not None and tags == (campaign.key, "", ""):
            errors[f"{field}.utm_campaign"] = f"{campaign.key} is the campaign's key already."
        else:
            other = _taken_by(tags, campaign)
            if other:
                errors[field] = f"{_label(tags)} already maps to the campaign {other}."
            out.append(tags)
    if errors:
        raise ValidationError(errors)
    return out


def _taken_by(tags: Tags, campaign: Campaign | None) -> str:
    c, s, m = tags
    qs = CampaignUtm.objects.filter(utm_campaign=c, utm_source=s, utm_medium=m)
    if campaign is not None:
        qs = qs.exclude(campaign=campaign)
    name = qs.values_list("campaign__name", flat=True).first()
    if name:
        return name
    if c and not s and not m:
        keyed = Campaign.objects.filter(key=c)
        if campaign is not None:
            keyed = keyed.exclude(pk=campaign.pk)
        return keyed.values_list("name", flat=True).first() or ""
    return ""


def _label(tags: Tags) -> str:
    names = ("utm_campaign", "utm_source", "utm_medium")
    return " ".join(f"{n}={v}" for n, v in zip(names, tags, strict=True) if v)


def set_utm_mappings(
    *, actor: Actor, campaign: Campaign, mappings: list[Any]
) -> list[dict[str, Any]]:
    """Make these the campaign's UTM mappings (a list of {utm_campaign, utm_source,
    utm_medium}); touchpoints already recorded keep their campaign."""
    require(actor, "campaigns.manage")
    wanted = clean_mappings(campaign, mappings)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        current = {
            (u.utm_campaign, u.utm_source, u.utm_medium): u.pk for u in campaign.utm_mappings.all()
        }
        gone = [pk for tags, pk in current.items() if tags not in wanted]
        new = [t for t in wanted if t not in current]
        if not gone and not new:
            return mappings_of(campaign)
        CampaignUtm.objects.filter(pk__in=gone).delete()
        for tags in new:
            if _taken_by(tags, campaign):  # taken meanwhile
                raise ValidationError({"utm_mappings": f"{_label(tags)} maps to another campaign."})
            try:
                with transaction.atomic():
                    CampaignUtm.objects.create(
                        campaign=campaign,
                        utm_campaign=tags[0],
                        utm_source=tags[1],
                        utm_medium=tags[2],
                    )
            except IntegrityError:
                raise ValidationError(
                    {"utm_mappings": f"{_label(tags)} maps to another campaign."}
                ) from None
        record_audit(
            actor=actor,
            event="utm_mappings_changed",
            target=campaign,
            changes={
                "utm_mappings": [
                    sorted(_label(t) for t in current),
                    sorted(_label(t) for t in wanted),
                ]
            },
        )
        forget()
        transaction.on_commit(forget)
    return mappings_of(campaign)
