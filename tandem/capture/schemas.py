"""What POST /api/v1/capture takes and returns (fields listed by name).

The person fields are flat, as in POST /api/v1/people; inputs forbid unknown
fields so a misspelt one is a 422 naming it. Values are checked by the
services (capture_person, the consent service); these schemas check types.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from tandem.campaigns.models import TouchpointKind
from tandem.people.models import Person
from tandem.people.schemas import (  # unknown fields refused, text storable
    COUNTRY_HELP,
    NAME_OR_EMAIL,
    PHONE_MAX,
    CountryCode,
    EmailAddress,
    Moment,
    NoEmail,
    StrictIn,
    stating,
    text,
)

IdOrKey = int | str


class TouchpointBody(StrictIn):
    kind: TouchpointKind = Field(TouchpointKind.API, description="What happened.")
    occurred_at: Moment | None = Field(
        None, description="When; now if left out. Without a time zone, UTC."
    )
    campaign: IdOrKey | None = Field(
        None, description="Campaign id or key; else the one `utm_campaign` maps to."
    )
    channel: str = Field("", max_length=50)
    utm_source: str = Field("", max_length=200)
    utm_medium: str = Field("", max_length=200)
    utm_campaign: str = Field("", max_length=200)
    utm_term: str = Field("", max_length=200)
    utm_content: str = Field("", max_length=200)
    referrer: str = Field("", max_length=2000, description="An http(s) URL.")
    page_url: str = Field("", max_length=2000, description="An http(s) URL.")
    note: str = Field("", max_length=5000)


class ConsentBody(StrictIn):
    """Consent the caller collected and vouches for: its proof is required."""

    purpose: str = Field(description="The consent purpose's key, e.g. `newsletter`.")
    text_version: int | None = Field(
        description="The version of the purpose's text the person agreed to. Required; "
        "null only to withdraw a purpose that has no text.",
    )
    granted: bool = Field(description="true: granted; false: withdrawn.")
    how: str = Field(
        min_length=1,
        max_length=300,
        description="How the person gave (or withdrew) it, kept as proof, e.g. "
        "“ticked the newsletter box on partner.example/webinar”.",
    )


class CaptureIn(StrictIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra=stating(NAME_OR_EMAIL))

    first_name: str = text(Person, "first_name")
    last_name: str = text(Person, "last_name")
    email: EmailAddress | NoEmail = Field(
        "", description="Finds the person (normalised), else a new one is made."
    )
    phone: str = Field("", max_length=PHONE_MAX, description="Without +, read in `country`.")
    company: IdOrKey | None = Field(
        None,
        description="Company id, or a name: an existing company with that name, else a new one.",
    )
    title: str = text(Person, "title")
    country: CountryCode = Field("", description=COUNTRY_HELP)
    street: str = text(Person, "street")
    city: str = text(Person, "city")
    postcode: str = text(Person, "postcode")
    region: str = text(Person, "region")
    source: str = text(Person, "source")
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    touchpoint: TouchpointBody = Field(default_factory=lambda: TouchpointBody.model_validate({}))
    consents: list[ConsentBody] = Field(default_factory=list)


class CapturedPerson(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    stage: str
    url: str = Field(description="The person's page in the web app.")


class CampaignRef(Schema):
    id: int
    key: str
    name: str


class CapturedTouchpoint(Schema):
    id: int
    kind: str
    occurred_at: dt.datetime
    campaign: CampaignRef | None
    channel: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    referrer: str
    page_url: str
    note: str


class ConsentOut(Schema):
    purpose: str
    status: str = Field(description="granted, pending or withdrawn")
    text_version: int | None
    method: str = Field(description="How it was recorded: `api`.")
    how: str = Field(description="The proof given with it.")


class CaptureOut(Schema):
    person: CapturedPerson
    touchpoint: CapturedTouchpoint
    created: bool = Field(description="True when this capture made a new person.")
    proposed: dict[str, Any] = Field(
        description="Values that differ from the person's filled fields: kept, not applied."
    )
    consents: list[ConsentOut]
