"""Reads for campaigns: the list (keyset pages, counts for the page's rows only) and one campaign."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from tandem.accounts.models import User
from tandem.campaigns.filters import CampaignFilter
from tandem.campaigns.models import Campaign, Touchpoint
from tandem.core.pagination import Page, paginate


def campaigns_for_list(*, viewer: User | None, filters: CampaignFilter) -> QuerySet[Campaign]:
    """Campaigns the viewer may see, filtered: everyone signed in sees every campaign."""
    return filters.apply(Campaign.objects.all()).select_related("owner")


def with_counts(campaigns: list[Campaign]) -> list[Campaign]:
    """Set `form_count`, `touchpoint_count` and `people_count` on each listed campaign.

    Two grouped queries over the listed ids (touchpoints through
    touchpoint_campaign_idx), whatever the page size: the list never counts the
    touchpoints of campaigns it does not show.
    """
    ids = [c.pk for c in campaigns]
    touch: dict[int, tuple[int, int]] = {}
    forms: dict[int, int] = {}
    if ids:
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
    return campaigns


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
    """One campaign with its counts; raises Campaign.DoesNotExist."""
    return with_counts([Campaign.objects.select_related("owner").get(pk=pk)])[0]


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
