"""What the API takes and returns for campaigns (fields listed by name).

Inputs forbid unknown fields (a misspelt field is a 422 naming it). What a
schema can state is stated here (lengths, kinds, dates); the rest is the
service's: a key taken by another campaign answers 409; an end before the
start, or an empty key with a name that makes none (no letter or digit), 422.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Annotated, Any

from django.urls import reverse
from ninja import Schema
from pydantic import BeforeValidator, Field, StrictBool

from tandem.campaigns.models import Campaign, CampaignKind
from tandem.people.schemas import StrictIn, UserRef


def _iso_date(value: Any) -> Any:
    """A date as the schema says (YYYY-MM-DD), not a time or a number read as one."""
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value)
    raise ValueError("Give a date as YYYY-MM-DD, e.g. 2026-03-01.")


Day = Annotated[dt.date, BeforeValidator(_iso_date)]
KEY_PATTERN = r"^$|[A-Za-z0-9]"  # empty (made from the name) or with a letter or digit
KEY_HELP = (
    "What utm_campaign values map to; stored as a lower-case slug "
    "('Spring Fair' → spring-fair). Made from the name when empty."
)


class CampaignIn(StrictIn):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S", description="Not blank.")
    key: str = Field("", max_length=100, pattern=KEY_PATTERN, description=KEY_HELP)
    kind: CampaignKind = CampaignKind.OTHER
    description: str = ""
    starts_on: Day | None = None
    ends_on: Day | None = Field(None, description="Not before `starts_on`.")
    is_active: StrictBool = True


class CampaignPatch(StrictIn):
    """Only the fields sent change; `null` clears a date (and nothing else).

    The other fields are not nullable (the schema says so, and null is a 422);
    their None default only marks "not sent" for `exclude_unset`.
    """

    name: str = Field(None, min_length=1, max_length=200, pattern=r"\S")  # type: ignore[assignment]
    key: str = Field(None, max_length=100, pattern=r"[A-Za-z0-9]", description=KEY_HELP)  # type: ignore[assignment]
    kind: CampaignKind = None  # type: ignore[assignment]
    description: str = None  # type: ignore[assignment]
    starts_on: Day | None = None
    ends_on: Day | None = Field(None, description="Not before `starts_on`.")
    is_active: StrictBool = None  # type: ignore[assignment]


class CampaignOut(Schema):
    id: int
    name: str
    key: str
    kind: CampaignKind
    description: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    owner: UserRef | None
    is_active: bool
    created_at: dt.datetime
    form_count: int = Field(description="Web forms that credit this campaign.")
    touchpoint_count: int
    people_count: int = Field(description="Distinct people with a touchpoint of this campaign.")
    url: str = Field(description="The campaign's page in the web app.")

    @staticmethod
    def resolve_url(obj: Campaign, context: dict[str, Any]) -> str:
        return context["request"].build_absolute_uri(reverse("campaigns:detail", args=[obj.pk]))


class CampaignPage(Schema):
    items: list[CampaignOut]
    count: int
    count_exact: bool = Field(description="False when the count is capped.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    limit: int
    offset: int
