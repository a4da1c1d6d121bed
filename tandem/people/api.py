"""People and companies over HTTP: fetch the visible row, call the service, return it.

Permissions, validation and audit live in people/services.py; request.auth is
the acting `Actor` (accounts/api_auth.py); errors are mapped in core/api_errors.py.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from ninja import P, Query, QueryEx, Router, Status

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.core.api_errors import conflict
from tandem.core.pagination import MAX_LIMIT, MAX_OFFSET, Page
from tandem.people import services
from tandem.people.filters import CompanyFilter, PersonFilter
from tandem.people.models import Company, Person, PersonEmail, PersonPhone
from tandem.people.queries import (
    companies_page,
    company_detail,
    people_page,
    person_detail,
    person_timeline,
    stage_history,
    with_contact_details,
)
from tandem.people.schemas import (
    ActivityIn,
    ActivityOut,
    CompanyIn,
    CompanyOut,
    CompanyPage,
    CompanyPatch,
    EmailIn,
    EmailOut,
    Moment,
    PersonDetailOut,
    PersonIn,
    PersonPage,
    PersonPatch,
    PhoneIn,
    PhoneOut,
    StageHistory,
    StageIn,
    Timeline,
)

router = Router(tags=["people"])
companies = Router(tags=["companies"])

LIMIT_HELP = f"1 to {MAX_LIMIT}"
OFFSET_HELP = f"0 to {MAX_OFFSET}; page deeper with `cursor`"


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _user(ref: int | str | None) -> User | None:
    """The user an `owner` field names, by id or user name."""
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        return None
    if isinstance(ref, int) or ref.strip().isdigit():
        user = User.objects.filter(pk=int(ref)).first()
    else:
        user = User.objects.filter(username=ref.strip()).first()
    if user is None:
        raise ValidationError({"owner": f"There is no user {ref!r}."})
    return user


def _resolve(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Owner and company references to rows; a company named but unknown is created.

    Call inside the request's transaction, so a rejected request leaves no new company.
    """
    out = dict(data)
    if "owner" in out:
        out["owner"] = _user(out["owner"])
    if "company" in out:
        ref = out["company"]
        empty = ref is None or (isinstance(ref, str) and not ref.strip())
        out["company"] = (
            None if empty else services.find_or_create_company(actor=actor, name_or_id=ref)
        )
    return out


def _page(page: Page) -> dict[str, Any]:
    return {
        "items": page.items,
        "count": page.count,
        "count_exact": page.count_exact,
        "next_cursor": page.next_cursor,
        "limit": page.limit,
        "offset": page.offset,
    }


# --- people ---------------------------------------------------------------------------


@router.get("/people", response=PersonPage)
def list_people(
    request: HttpRequest,
    filters: Query[PersonFilter],
    limit: QueryEx[int, P(ge=1, le=MAX_LIMIT, description=LIMIT_HELP)] = 50,
    offset: QueryEx[int, P(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
    cursor: str | None = None,
) -> dict[str, Any]:
    """People, filtered and sorted; page with `offset` near the top, `next_cursor` deeper."""
    page = people_page(
        viewer=_actor(request).user, filters=filters, limit=limit, cursor=cursor, offset=offset
    )
    page.items = with_contact_details(page.items)
    return _page(page)


@router.post("/people", response={201: PersonDetailOut}, openapi_extra=conflict())
def create_person(request: HttpRequest, payload: PersonIn) -> Person:
    """Add a person; `email` and `phone` become the primary ones (409 if the email is taken)."""
    actor = _actor(request)
    data = payload.model_dump()
    email, phone, stage = data.pop("email"), data.pop("phone"), data.pop("stage")
    with transaction.atomic():
        person = services.create_person(
            actor=actor, data=_resolve(actor, data), email=email, phone=phone, stage=stage
        )
    return person_detail(person.pk)


@router.get("/people/{person_id}", response=PersonDetailOut)
def get_person(request: HttpRequest, person_id: int) -> Person:
    return person_detail(person_id)


@router.patch("/people/{person_id}", response=PersonDetailOut, openapi_extra=conflict())
def update_person(request: HttpRequest, person_id: int, payload: PersonPatch) -> Person:
    """Change the fields sent, all or nothing. `null` or "" clears a field."""
    actor, person = _actor(request), person_detail(person_id)
    data = payload.model_dump(exclude_unset=True)
    for name in ("email", "phone"):
        if name in data and data[name] is None:
            data[name] = ""  # the service reads None as "not sent"
    with transaction.atomic():
        services.update_person(actor=actor, person=person, data=_resolve(actor, data))
    return person_detail(person_id)


@router.delete("/people/{person_id}", response={204: None})
def delete_person(request: HttpRequest, person_id: int) -> Status:
    """Soft delete: an admin can restore the person."""
    services.delete_person(actor=_actor(request), person=person_detail(person_id))
    return Status(204, None)


@router.post("/people/{person_id}/restore", response=PersonDetailOut)
def restore_person(request: HttpRequest, person_id: int) -> Person:
    """Bring back a deleted person (admins only)."""
    person = person_detail(person_id, include_deleted=True)
    services.restore_person(actor=_actor(request), person=person)
    return person_detail(person_id)


@router.post("/people/{person_id}/stage", response=PersonDetailOut)
def change_stage(request: HttpRequest, person_id: int, payload: StageIn) -> Person:
    """Move the person along the funnel; backwards or out of it needs a `reason`."""
    services.change_stage(
        person=person_detail(person_id),
        to_stage=payload.to,
        actor=_actor(request),
        reason=payload.reason,
    )
    return person_detail(person_id)


@router.get("/people/{person_id}/stages", response=StageHistory)
def list_stage_changes(request: HttpRequest, person_id: int) -> dict[str, Any]:
    """Every stage change, newest first: from, to, when, who and why."""
    return {"items": stage_history(person_detail(person_id))}


@router.get("/people/{person_id}/timeline", response=Timeline)
def get_timeline(
    request: HttpRequest,
    person_id: int,
    limit: QueryEx[int, P(ge=1, le=MAX_LIMIT, description=LIMIT_HELP)] = 100,
    before: QueryEx[Moment | None, P(description="Only entries before this time")] = None,
) -> dict[str, Any]:
    """Activities and stage changes in one list, newest first."""
    entries = person_timeline(person_detail(person_id), limit=limit, before=before)
    return {"items": [e.as_dict() for e in entries]}


@router.post("/people/{person_id}/activities", response={201: ActivityOut})
def log_activity(request: HttpRequest, person_id: int, payload: ActivityIn) -> Any:
    """Log a note, call, meeting or email on the person's timeline."""
    return services.log_activity(
        actor=_actor(request), person=person_detail(person_id), **payload.model_dump()
    )


@router.post("/people/{person_id}/emails", response={201: EmailOut}, openapi_extra=conflict())
def add_email(request: HttpRequest, person_id: int, payload: EmailIn) -> PersonEmail:
    return services.add_email(
        actor=_actor(request),
        person=person_detail(person_id),
        email=payload.email,
        make_primary=payload.make_primary,
    )


@router.post("/people/{person_id}/emails/{email_id}/primary", response=PersonDetailOut)
def make_primary_email(request: HttpRequest, person_id: int, email_id: int) -> Person:
    """Make one of the person's addresses the primary one."""
    address = PersonEmail.objects.get(person=person_detail(person_id), pk=email_id)
    services.make_primary_email(actor=_actor(request), person=address.person, email_id=address.pk)
    return person_detail(person_id)


@router.delete("/people/{person_id}/emails/{email_id}", response={204: None})
def remove_email(request: HttpRequest, person_id: int, email_id: int) -> Status:
    """Remove an address; if it was the primary one, the next becomes primary."""
    address = PersonEmail.objects.get(person=person_detail(person_id), pk=email_id)
    services.remove_email(actor=_actor(request), person=address.person, email_id=address.pk)
    return Status(204, None)


@router.post("/people/{person_id}/phones", response={201: PhoneOut})
def add_phone(request: HttpRequest, person_id: int, payload: PhoneIn) -> PersonPhone:
    return services.add_phone(
        actor=_actor(request),
        person=person_detail(person_id),
        phone=payload.phone,
        kind=payload.kind,
        make_primary=payload.make_primary,
    )


@router.delete("/people/{person_id}/phones/{phone_id}", response={204: None})
def remove_phone(request: HttpRequest, person_id: int, phone_id: int) -> Status:
    number = PersonPhone.objects.get(person=person_detail(person_id), pk=phone_id)
    services.remove_phone(actor=_actor(request), person=number.person, phone_id=number.pk)
    return Status(204, None)


# --- companies ------------------------------------------------------------------------


@companies.get("/companies", response=CompanyPage)
def list_companies(
    request: HttpRequest,
    filters: Query[CompanyFilter],
    limit: QueryEx[int, P(ge=1, le=MAX_LIMIT, description=LIMIT_HELP)] = 50,
    offset: QueryEx[int, P(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
    cursor: str | None = None,
) -> dict[str, Any]:
    page = companies_page(
        viewer=_actor(request).user, filters=filters, limit=limit, cursor=cursor, offset=offset
    )
    return _page(page)


@companies.post("/companies", response={201: CompanyOut})
def create_company(request: HttpRequest, payload: CompanyIn) -> Company:
    actor = _actor(request)
    company = services.create_company(actor=actor, data=_resolve(actor, payload.model_dump()))
    return company_detail(company.pk)


@companies.get("/companies/{company_id}", response=CompanyOut)
def get_company(request: HttpRequest, company_id: int) -> Company:
    return company_detail(company_id)


@companies.patch("/companies/{company_id}", response=CompanyOut)
def update_company(request: HttpRequest, company_id: int, payload: CompanyPatch) -> Company:
    actor = _actor(request)
    data = _resolve(actor, payload.model_dump(exclude_unset=True))
    services.update_company(actor=actor, company=company_detail(company_id), data=data)
    return company_detail(company_id)


@companies.delete("/companies/{company_id}", response={204: None})
def delete_company(request: HttpRequest, company_id: int) -> Status:
    """Soft delete; the company's people stay linked to it."""
    services.delete_company(actor=_actor(request), company=company_detail(company_id))
    return Status(204, None)


@companies.post("/companies/{company_id}/restore", response=CompanyOut)
def restore_company(request: HttpRequest, company_id: int) -> Company:
    """Bring back a deleted company (admins only)."""
    company = company_detail(company_id, include_deleted=True)
    services.restore_company(actor=_actor(request), company=company)
    return company_detail(company_id)


@companies.get("/companies/{company_id}/people", response=PersonPage)
def list_company_people(
    request: HttpRequest,
    company_id: int,
    filters: Query[PersonFilter],
    limit: QueryEx[int, P(ge=1, le=MAX_LIMIT, description=LIMIT_HELP)] = 50,
    offset: QueryEx[int, P(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The company's people, with the same filters, sorts and paging as /people."""
    company = company_detail(company_id)
    page = people_page(
        viewer=_actor(request).user,
        filters=filters.model_copy(update={"company": company.pk}),
        limit=limit,
        cursor=cursor,
        offset=offset,
    )
    page.items = with_contact_details(page.items)
    return _page(page)
