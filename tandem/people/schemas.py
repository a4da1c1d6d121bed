"""What the API takes and returns for people and companies (fields listed by name).

Inputs forbid unknown fields, so a misspelt field is a 422 naming it rather
than a silently ignored value. The schemas state what a schema can (types,
lengths, country codes, enums), so the OpenAPI document tells a client before
it sends; the services, which the web forms share, check everything again and
the rules no schema can state (an owner that exists, a real phone number).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Annotated, Any, Literal

import phonenumbers
from django.db import models
from django.urls import reverse
from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from tandem.people import extensions
from tandem.people.models import ActivityKind, Company, CompanySize, Person, PhoneKind, Stage


def _id_or_name(value: Any) -> Any:
    """An id or a name, nothing pydantic would coerce: `true` is not id 1, nor 1.5 id 1."""
    if value is None or isinstance(value, str) or (type(value) is int):
        return value
    raise ValueError("Give an id (a whole number) or a name.")


IdOrName = Annotated[int | str, BeforeValidator(_id_or_name)]
OWNER_HELP = "User id or user name; null for nobody."
COMPANY_HELP = "Company id, or a name: an existing company with that name, else a new one."

# What the schemas state, so a client (and Schemathesis) knows before sending: the
# column lengths, the country codes, an address's shape. Rules no schema can state
# (an owner or company that exists, a phone number that is real) stay in the
# services and answer 422 naming the field.
COUNTRIES = sorted(phonenumbers.SUPPORTED_REGIONS | {"XK"})
COUNTRY_CODES = frozenset(["", *COUNTRIES, *(c.lower() for c in COUNTRIES)])


def _country_code(value: str) -> str:
    if value not in COUNTRY_CODES:
        raise ValueError(f"{value!r} is not a two-letter ISO country code (e.g. DE, US).")
    return value


# The codes clean_country takes, listed in the schema (either case, or "" for none).
CountryCode = Annotated[
    str,
    AfterValidator(_country_code),
    WithJsonSchema({"type": "string", "enum": sorted(COUNTRY_CODES)}),
]
COUNTRY_HELP = "ISO 3166 two-letter code, any case; empty for none."
EMAIL_MAX = 254
PHONE_MAX = 50
NOT_BLANK = r"\S"  # something besides spaces


# A new person needs a first or last name or an email address (create_person's rule).
NAME_OR_EMAIL: dict[str, Any] = {
    "anyOf": [
        {"required": ["first_name"], "properties": {"first_name": {"pattern": NOT_BLANK}}},
        {"required": ["last_name"], "properties": {"last_name": {"pattern": NOT_BLANK}}},
        {"required": ["email"], "properties": {"email": {"minLength": 1}}},
    ]
}


def text(model: type[models.Model], name: str, **kw: Any) -> Any:
    """A text field as long as its column allows (the services trim and check it too)."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length
    return Field(kw.pop("default", ""), max_length=field.max_length, **kw)


EmailAddress = Annotated[
    str, Field(min_length=1, max_length=EMAIL_MAX, json_schema_extra={"format": "email"})
]
NoEmail = Literal[""]


def storable(value: Any) -> Any:
    """Text the database can hold: PostgreSQL refuses NUL, and no database takes lone surrogates."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("Must not contain NUL characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("Must be valid Unicode text.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            storable(item)
    elif isinstance(value, list):
        for item in value:
            storable(item)
    return value


NO_NUL = r"^[^\x00]*$"


def iso_8601(value: Any) -> Any:
    """A time as the schema says (ISO 8601 text), not a number read as a Unix time."""
    if isinstance(value, str):
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("Give a time in ISO 8601, e.g. 2026-01-31T09:00:00Z.") from None
    elif value is not None and not isinstance(value, dt.datetime):
        raise ValueError("Give a time in ISO 8601, e.g. 2026-01-31T09:00:00Z.")
    return value


def in_utc(value: dt.datetime | None) -> dt.datetime | None:
    """An offset time as UTC: PostgreSQL takes offsets up to 15:59, ISO 8601 up to 23:59."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("This time is out of range.") from None


Moment = Annotated[dt.datetime, BeforeValidator(iso_8601), AfterValidator(in_utc)]


def state_storable(schema: dict[str, Any], cls: Any = None) -> None:
    """Say in a model's JSON schema what `storable` checks: text holds no NUL."""
    for prop in schema.get("properties", {}).values():
        for branch in prop.get("anyOf", [prop]):
            if branch.get("type") != "string" or {"enum", "const", "format"} & branch.keys():
                continue
            if "pattern" in branch:
                branch.setdefault("allOf", []).append({"pattern": NO_NUL})
            else:
                branch["pattern"] = NO_NUL


def stating(extra: dict[str, Any]) -> Any:
    """`json_schema_extra` for an input with a rule across fields (`extra`), text storable."""

    def apply(schema: dict[str, Any], cls: Any) -> None:
        state_storable(schema)
        schema.update(copy.deepcopy(extra))

    return apply


class StrictIn(Schema):
    """Input: unknown fields are refused, and text must be storable (the schema says so)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=state_storable)

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return storable(value)


# --- small pieces -------------------------------------------------------------


class UserRef(Schema):
    id: int
    username: str


class CompanyRef(Schema):
    id: int
    name: str


class EmailOut(Schema):
    id: int
    email: str
    is_primary: bool


class PhoneOut(Schema):
    id: int
    number: str = Field(description="E.164")
    original: str
    kind: str
    is_primary: bool


# --- people ---------------------------------------------------------------------


class PersonIn(StrictIn):
    """A name or an email address is needed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=stating(NAME_OR_EMAIL))

    first_name: str = text(Person, "first_name")
    last_name: str = text(Person, "last_name")
    email: EmailAddress | NoEmail = Field("", description="The primary email address.")
    phone: str = Field(
        "", max_length=PHONE_MAX, description="The primary phone; without +, read in `country`."
    )
    company: IdOrName | None = Field(None, description=COMPANY_HELP)
    title: str = text(Person, "title")
    country: CountryCode = Field("", description=COUNTRY_HELP)
    street: str = text(Person, "street")
    city: str = text(Person, "city")
    postcode: str = text(Person, "postcode")
    region: str = text(Person, "region")
    stage: Stage = Stage.LEAD
    owner: IdOrName | None = Field(None, description=OWNER_HELP)
    source: str = text(Person, "source")
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class PersonPatch(StrictIn):
    """Only the fields sent change; `null` or "" clears a field."""

    first_name: str | None = text(Person, "first_name", default=None)
    last_name: str | None = text(Person, "last_name", default=None)
    email: EmailAddress | NoEmail | None = Field(
        None, description="Sets the primary email; an empty value clears it."
    )
    phone: str | None = Field(
        None,
        max_length=PHONE_MAX,
        description="Sets the primary phone; an empty value clears it.",
    )
    company: IdOrName | None = Field(None, description=COMPANY_HELP)
    title: str | None = text(Person, "title", default=None)
    country: CountryCode | None = Field(None, description=COUNTRY_HELP)
    street: str | None = text(Person, "street", default=None)
    city: str | None = text(Person, "city", default=None)
    postcode: str | None = text(Person, "postcode", default=None)
    region: str | None = text(Person, "region", default=None)
    owner: IdOrName | None = Field(None, description=OWNER_HELP)
    source: str | None = text(Person, "source", default=None)
    custom_fields: dict[str, Any] | None = Field(
        None, description="Merged into the current values; null or '' clears one."
    )
    stage: Annotated[
        Any,
        WithJsonSchema(
            {"not": {}, "description": "Not here: POST /people/{id}/stage with a reason."}
        ),
    ] = None

    @field_validator("stage")
    @classmethod
    def _stage_has_its_own_endpoint(cls, value: Any) -> Any:
        raise ValueError("Change the stage with POST /api/v1/people/{id}/stage, giving a reason.")


class PersonOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    email: str = Field(description="The primary email, normalised.")
    emails: list[EmailOut]
    phone: str = Field(description="The primary phone, E.164.")
    phones: list[PhoneOut]
    company: CompanyRef | None
    owner: UserRef | None
    stage: Stage
    stage_changed_at: dt.datetime | None
    title: str
    street: str
    city: str
    postcode: str
    region: str
    country: str
    source: str
    custom_fields: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
    url: str = Field(description="The person's page in the web app.")

    @staticmethod
    def resolve_emails(obj: Person) -> list[Any]:
        return list(obj.emails.all())

    @staticmethod
    def resolve_phones(obj: Person) -> list[Any]:
        return list(obj.phones.all())

    @staticmethod
    def resolve_url(obj: Person, context: dict[str, Any]) -> str:
        return context["request"].build_absolute_uri(reverse("people:detail", args=[obj.pk]))


class PersonConsentStepOut(Schema):
    action: str = Field(description="requested, confirmed, granted or withdrawn")
    at: dt.datetime
    method: str = Field(
        description="How: form, api, booth, import, email_link, unsubscribe or staff"
    )
    ip: str | None
    user_agent: str
    form: str | None = Field(description="The web form's name, when it came from one.")
    text_version: int | None = Field(description="The version of the words shown.")
    how: str = Field(description="The proof an API caller gave of how it was given.")
    recorded_by: str | None = Field(description="The user who recorded it through the API.")


class PersonConsentOut(Schema):
    """One consent purpose and the person's state for it, with its proof."""

    purpose: str = Field(description="The purpose's key, as `may_email` takes it.")
    purpose_name: str
    status: Literal["granted", "pending", "withdrawn", "none"] = Field(
        description="pending: waiting for the double opt-in confirmation; none: never given."
    )
    text_version: int | None = Field(description="The version of the words consented to.")
    text: str = Field(description="Those words.")
    at: dt.datetime | None = Field(description="When the latest step happened.")
    method: str = Field(description="How the latest step was taken (see `events`).")
    ip: str | None = Field(description="From where the latest step came.")
    form: str | None
    how: str = Field(
        description="The proof given with the latest step, when an API caller gave it."
    )
    recorded_by: str | None = Field(description="Who recorded the latest step through the API.")
    events: list[PersonConsentStepOut] = Field(
        description="Each step, newest first (the newest 200 of the person): the proof."
    )


class ScoreReasonOut(Schema):
    """One line of a score's explanation."""

    rule: str = Field(description="The rule (or override) in words.")
    points: int = Field(description="Points it gives now (after decay and caps).")
    detail: str = Field(description="When and how often, the points before decay, who overrode.")


class PersonDetailOut(PersonOut):
    """One person as GET /people/{id} returns it: the list's fields, consents, score and
    routing (`owner` is the list's field; routing sets it)."""

    consents: list[PersonConsentOut] = Field(description="Every consent purpose, with the state.")
    score: int = Field(
        0, description="Combined score (fit + engagement, or the override's while one holds)."
    )
    fit_score: int = Field(0, description="Points from who the person is (fit rules).")
    engagement_score: int = Field(0, description="Points from what they did, decayed.")
    score_explanation: list[ScoreReasonOut] = Field(
        default_factory=list, description="Which rules (and override) gave the score."
    )

    routed_by: str | None = Field(
        None, description="The routing rule that chose the current owner (or queue)."
    )
    routed_at: dt.datetime | None = Field(None, description="When the person was last routed.")
    sla_due_at: dt.datetime | None = Field(
        None, description="When the first contact is due under the SLA of the current hand-off."
    )
    first_contact_at: dt.datetime | None = Field(
        None, description="When a person first called, emailed or met them since the hand-off."
    )

    @staticmethod
    def _routing(obj: Person) -> Any:
        # Hand-offs are routing's, above people: routing provides them (ADR 0005); read
        # once for the four fields.
        if not hasattr(obj, "_routing_card"):
            section = extensions.person_section("routing")
            obj._routing_card = section.load(obj) if section else None  # type: ignore[attr-defined]
        return obj._routing_card  # type: ignore[attr-defined]

    @staticmethod
    def resolve_routed_by(obj: Person) -> str | None:
        card = PersonDetailOut._routing(obj)
        return card.routed_by if card else None

    @staticmethod
    def resolve_routed_at(obj: Person) -> dt.datetime | None:
        card = PersonDetailOut._routing(obj)
        return card.routed_at if card else None

    @staticmethod
    def resolve_sla_due_at(obj: Person) -> dt.datetime | None:
        card = PersonDetailOut._routing(obj)
        return card.sla_due_at if card else None

    @staticmethod
    def resolve_first_contact_at(obj: Person) -> dt.datetime | None:
        card = PersonDetailOut._routing(obj)
        return card.first_contact_at if card else None

    @staticmethod
    def _score(obj: Person) -> Any:
        # Scores are scoring's, above people: scoring provides them (ADR 0005).
        section = extensions.person_section("score")
        return section.load(obj) if section else None

    @staticmethod
    def resolve_score(obj: Person) -> int:
        card = PersonDetailOut._score(obj)
        return card.score if card else 0

    @staticmethod
    def resolve_fit_score(obj: Person) -> int:
        card = PersonDetailOut._score(obj)
        return card.fit_score if card else 0

    @staticmethod
    def resolve_engagement_score(obj: Person) -> int:
        card = PersonDetailOut._score(obj)
        return card.engagement_score if card else 0

    @staticmethod
    def resolve_score_explanation(obj: Person) -> list[Any]:
        card = PersonDetailOut._score(obj)
        return card.explanation if card else []

    @staticmethod
    def resolve_consents(obj: Person) -> list[Any]:
        # Consent is capture's, above people: capture provides it (ADR 0005).
        section = extensions.person_section("consents")
        return section.load(obj) if section else []


class PersonPage(Schema):
    items: list[PersonOut]
    count: int
    count_exact: bool = Field(description="False when the count is capped.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    limit: int
    offset: int


class StageIn(StrictIn):
    to: Stage
    reason: str = Field("", description="Required going backwards, or to disqualified/recycled.")


class StageChangeOut(Schema):
    id: int
    from_stage: str = Field(description="Empty for the first stage.")
    to_stage: Stage
    changed_at: dt.datetime
    actor: UserRef | None
    actor_label: str
    reason: str


class StageHistory(Schema):
    items: list[StageChangeOut]


class TimelineEntryOut(Schema):
    kind: str = Field(description="note, call, meeting, email, stage or touchpoint")
    at: dt.datetime
    actor: str
    title: str
    body: str
    outcome: str
    id: int = Field(description="Id of the activity, stage change or touchpoint (by kind).")
    person_id: int | None


class Timeline(Schema):
    items: list[TimelineEntryOut]


class ActivityIn(StrictIn):
    kind: ActivityKind
    subject: str = Field("", max_length=200)
    body: str = ""
    outcome: str = Field("", max_length=200)
    occurred_at: Moment | None = Field(None, description="Defaults to now.")


class ActivityOut(Schema):
    id: int
    kind: str
    person_id: int | None
    company_id: int | None
    occurred_at: dt.datetime
    actor: UserRef | None
    actor_label: str
    subject: str
    body: str
    outcome: str
    created_at: dt.datetime


class EmailIn(StrictIn):
    email: EmailAddress
    make_primary: bool = False


class PhoneIn(StrictIn):
    phone: str = Field(
        min_length=1, max_length=PHONE_MAX, description="Without +, read in the person's country."
    )
    kind: PhoneKind = PhoneKind.WORK
    make_primary: bool = False


# --- companies ------------------------------------------------------------------


class CompanyIn(StrictIn):
    name: str = text(Company, "name", default=..., pattern=NOT_BLANK)
    domain: str = text(Company, "domain", description="A domain name (or a URL on it).")
    industry: str = text(Company, "industry")
    size: CompanySize | None = None
    country: CountryCode = Field("", description=COUNTRY_HELP)
    owner: IdOrName | None = Field(None, description=OWNER_HELP)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class CompanyPatch(StrictIn):
    name: str = text(Company, "name", default=None, pattern=NOT_BLANK)  # a name stays
    domain: str | None = text(Company, "domain", default=None)
    industry: str | None = text(Company, "industry", default=None)
    size: CompanySize | None = None
    country: CountryCode | None = Field(None, description=COUNTRY_HELP)
    owner: IdOrName | None = Field(None, description=OWNER_HELP)
    custom_fields: dict[str, Any] | None = None


class CompanyOut(Schema):
    id: int
    name: str
    domain: str
    industry: str
    size: str
    country: str
    owner: UserRef | None
    custom_fields: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
    url: str = Field(description="The company's page in the web app.")

    @staticmethod
    def resolve_url(obj: Company, context: dict[str, Any]) -> str:
        return context["request"].build_absolute_uri(
            reverse("people:company_detail", args=[obj.pk])
        )


class CompanyPage(Schema):
    items: list[CompanyOut]
    count: int
    count_exact: bool
    next_cursor: str | None
    limit: int
    offset: int
