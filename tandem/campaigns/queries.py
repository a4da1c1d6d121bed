"""Reads for campaigns: the list (keyset pages, counts for the page's rows only), one campaign,
and the touchpoints other screens show (a person's timeline)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum

from tandem.accounts.models import User
from tandem.campaigns.filters import CampaignFilter
from tandem.campaigns.models import Campaign, CampaignCost, Touchpoint
from tandem.core.pagination import Page, paginate
from tandem.people.models import Person
from tandem.people.queries import TimelineEntry


def campaigns_for_list(*, viewer: User | None, filters: CampaignFilter) -> QuerySet[Campaign]:
    """Campaigns the viewer may see, filtered: everyone signed in sees every campaign."""
    return (
        filters.apply(Campaign.objects.all())
        .select_related("owner", "parent")
        .prefetch_related("utm_mappings")
    )


def with_counts(campaigns: list[Campaign]) -> list[Campaign]:
    """Set `form_count`, `touchpoint_count`, `people_count` and `actual_cost` (the sum
    of its cost lines, Decimal) on each listed campaign.

    Three grouped queries over the listed ids (touchpoints through
    touchpoint_campaign_idx), whatever the page size: the list never counts the
    touchpoints of campaigns it does not show.
    """
    ids = [c.pk for c in campaigns]
    touch: dict[int, tuple[int, int]] = {}
    forms: dict[int, int] = {}
    costs: dict[int, Decimal] = {}
    if ids:
        costs = cost_totals(ids)
        touch = {
            row["campaign_id"]: (row["n"], row["people"])
            for row in Touchpoint.objects.filter(campaign_id__in=ids)
            .order_by()
            .values("campaign_id")
            .annotate(n=Count("id"), people=Count("person_id", distinct=True))
        }
        forms = dict(
            Campaign.objects.filter(pk__in=ids, forms__isnull=False)
            .order_by()
            .values("pk")
            .annotate(n=Count("forms"))
            .values_list("pk", "n")
        )
    for c in campaigns:
        c.touchpoint_count, c.people_count = touch.get(c.pk, (0, 0))  # type: ignore[attr-defined]
        c.form_count = forms.get(c.pk, 0)  # type: ignore[attr-defined]
        c.actual_cost = costs.get(c.pk, ZERO)  # type: ignore[attr-defined]
    return campaigns


ZERO = Decimal("0.00")


def cost_totals(
    campaign_ids: list[int], *, first: dt.date | None = None, last: dt.date | None = None
) -> dict[int, Decimal]:
    """The sum of each campaign's cost lines (spent in [first, last] when given), exact."""
    qs = CampaignCost.objects.filter(campaign_id__in=campaign_ids)
    if first is not None:
        qs = qs.filter(spent_on__gte=first)
    if last is not None:
        qs = qs.filter(spent_on__lte=last)
    rows = qs.order_by().values("campaign_id").annotate(total=Sum("amount"))
    return {r["campaign_id"]: Decimal(r["total"]).quantize(ZERO) for r in rows}


def descendant_ids(campaign_id: int, *, max_depth: int = 100) -> list[int]:
    """Every campaign under this one, at any depth (one query per level)."""
    found: list[int] = []
    level = [campaign_id]
    for _ in range(max_depth):
        level = [
            pk
            for pk in Campaign.objects.filter(parent_id__in=level).values_list("pk", flat=True)
            if pk not in found and pk != campaign_id
        ]
        if not level:
            break
        found += level
    return found


def rollup(campaign: Campaign) -> dict[str, Any] | None:
    """The budget and cost of a campaign with every campaign under it; None without any."""
    ids = descendant_ids(campaign.pk)
    if not ids:
        return None
    budgets = Campaign.objects.filter(pk__in=[campaign.pk, *ids]).aggregate(
        total=Sum("planned_budget")
    )["total"]
    spent = sum(cost_totals([campaign.pk, *ids]).values(), ZERO)
    return {
        "campaigns": len(ids),
        "planned_budget": None if budgets is None else Decimal(budgets).quantize(ZERO),
        "actual_cost": spent,
    }


def campaign_costs(campaign: Campaign) -> list[CampaignCost]:
    """The campaign's cost lines, newest spending first."""
    return list(campaign.costs.select_related("created_by").order_by("-spent_on", "-id"))


def child_campaigns(campaign: Campaign) -> list[Campaign]:
    """The campaigns directly under this one, by name, with their counts and costs."""
    return with_counts(list(campaign.children.select_related("owner").order_by("name", "id")))


def campaign_people(campaign: Campaign, *, offset: int = 0, limit: int = 25) -> list[Any]:
    """People with a touchpoint of the campaign, the most recently touched first:
    (person, touches, last touch) for one page, grouped in SQL (touchpoint_campaign_idx)."""
    rows = list(
        Touchpoint.objects.filter(campaign=campaign, person__deleted_at__isnull=True)
        .order_by()
        .values("person_id")
        .annotate(n=Count("id"), last=Max("occurred_at"))
        .order_by("-last", "-person_id")[offset : offset + limit]
    )
    people = Person.objects.in_bulk([r["person_id"] for r in rows])
    return [(people[r["person_id"]], r["n"], r["last"]) for r in rows if r["person_id"] in people]


def campaigns_page(
    *,
    viewer: User | None,
    filters: CampaignFilter,
    limit: int = 50,
    cursor: str | None = None,
    offset: int = 0,
) -> Page:
    """One page of campaigns in the filter's order, with a capped count and the page's counts."""
    page = paginate(
        campaigns_for_list(viewer=viewer, filters=filters),
        spec=filters.sort_spec,
        limit=limit,
        cursor=cursor,
        offset=offset,
    )
    page.items = with_counts(page.items)
    return page


def campaign_detail(pk: int) -> Campaign:
    """One campaign with its counts and cost total; raises Campaign.DoesNotExist."""
    campaign = (
        Campaign.objects.select_related("owner", "parent")
        .prefetch_related("utm_mappings")
        .get(pk=pk)
    )
    return with_counts([campaign])[0]


def campaign_forms(campaign: Campaign) -> QuerySet:
    """The campaign's web forms by name, each with its number of submissions."""
    return campaign.forms.annotate(submissions=Count("touchpoints")).order_by("name")


def recent_touchpoints(campaign: Campaign, *, limit: int = 25) -> list[Touchpoint]:
    """The campaign's latest touchpoints with their person and form (touchpoint_campaign_idx)."""
    return list(
        Touchpoint.objects.filter(campaign=campaign)
        .select_related("person", "form")
        .order_by("-occurred_at", "-id")[:limit]
    )


def person_touchpoint_entries(
    person: Person, before: dt.datetime | None, limit: int
) -> list[TimelineEntry]:
    """A person's touchpoints as timeline entries, newest first (people's timeline source)."""
    touchpoints = Touchpoint.objects.filter(person=person).select_related("campaign")
    if before is not None:
        touchpoints = touchpoints.filter(occurred_at__lt=before)
    return [_touchpoint_entry(t) for t in touchpoints.order_by("-occurred_at", "-id")[:limit]]


def _touchpoint_entry(t: Touchpoint) -> TimelineEntry:
    """A touchpoint line: kind, campaign, UTM tags and any values proposed over filled fields."""
    parts = [
        f"{k.removeprefix('utm_')}={getattr(t, k)}"
        for k in ("utm_source", "utm_medium", "utm_campaign")
        if getattr(t, k)
    ]
    if t.page_url:
        parts.append(t.page_url)
    if t.location:
        parts.append(t.location)
    detail = t.detail if isinstance(t.detail, dict) else {}
    interest = str(detail.get("interest") or "")
    if interest:
        parts.insert(0, f"Interest: {interest}")
    proposed = detail.get("proposed")
    if proposed:
        parts.append("Proposed: " + ", ".join(f"{k} = {v}" for k, v in proposed.items()))
    title = t.get_kind_display() + (f" · {t.campaign.name}" if t.campaign is not None else "")
    return TimelineEntry(
        kind="touchpoint",
        at=t.occurred_at,
        actor_label=t.channel or "",
        title=title,
        body="\n".join(parts) if not t.note else "\n".join([t.note, *parts]),
        source_id=t.pk,
        person_id=t.person_id,
        interest=interest,
    )


# --- the people list's campaign filter (people's extension point, ADR 0005) ------------------


def campaign_choices() -> list[tuple[str, str]]:
    """Campaigns for the people list's select, by name (id as the value)."""
    return [
        (str(pk), name)
        for pk, name in Campaign.objects.order_by("name", "id").values_list("pk", "name")
    ]


def touched_by_condition(value: str) -> Q:
    """People with a touchpoint of the campaign `value` (id or key): an EXISTS, one query."""
    text = (value or "").strip()
    campaign_id = (
        int(text)
        if text.isascii() and text.isdigit() and len(text) < 19
        else Campaign.objects.filter(key=text.lower()).values_list("pk", flat=True).first()
    )
    if campaign_id is None or not Campaign.objects.filter(pk=campaign_id).exists():
        raise ValidationError({"campaign": f"There is no campaign {text!r}."})
    return Q(Exists(Touchpoint.objects.filter(person_id=OuterRef("pk"), campaign_id=campaign_id)))
