"""The people list and the person page with its panels (the funnel is reports')."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.models import Role
from tandem.accounts.permissions import can, page_requires, require
from tandem.core.audit import audit_for, record_audit
from tandem.core.spreadsheet import csv_response
from tandem.people import extensions, services
from tandem.people.custom_fields import definitions
from tandem.people.filters import PersonFilter
from tandem.people.forms import (
    ActivityForm,
    EmailForm,
    PersonForm,
    PhoneForm,
    StageForm,
    add_service_errors,
    focus_first_error,
)
from tandem.people.models import (
    Company,
    CustomField,
    CustomFieldEntity,
    Person,
    PersonPhone,
    Stage,
)
from tandem.people.queries import (
    latest_interest,
    people_export_rows,
    people_page,
    person_detail,
    person_timeline,
    stage_history,
)
from tandem.people.views.common import (
    PAGE_SIZE,
    PERSON_SORTS,
    audit_rows,
    current_actor,
    current_user,
    custom_rows,
    fragments,
    hx_target,
    is_htmx,
    list_context,
    messages_of,
    owner_options,
    timeline_rows,
    url_without,
)
from tandem.people.views.records import (
    RecordKind,
    delete_record,
    log_record_activity,
    record_or_404,
    restore_record,
)


def _phone_rows(phones: list[PersonPhone]) -> list[dict[str, Any]]:
    rows = []
    for phone in phones:
        try:
            pretty = phonenumbers.format_number(
                phonenumbers.parse(phone.number), phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
        except phonenumbers.NumberParseException:
            pretty = phone.number
        original = phone.original if phone.original not in (pretty, phone.number) else ""
        rows.append({"phone": phone, "pretty": pretty, "original": original})
    return rows


def _address_lines(person: Person) -> list[str]:
    """Street / postcode and city / region and country, leaving out what is empty."""
    lines = [
        person.street,
        " ".join(p for p in (person.postcode, person.city) if p),
        ", ".join(p for p in (person.region, person.country) if p),
    ]
    return [line for line in lines if line]


def _resolve_company(actor: Actor, text: str, current: Company | None) -> Company | None:
    """The person form's company box: empty is none, the current name keeps it, else find or add."""
    text = (text or "").strip()
    if not text:
        return None
    if current is not None and text == current.name:
        return current
    return services.find_or_create_company(actor=actor, name_or_id=text)


def _duplicate_owner(err: services.DuplicateEmailError) -> Person | None:
    return Person.objects.filter(pk=err.person_id).first()


# --- people list --------------------------------------------------------------------


@page_requires("people.view")
def person_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "people.view")
    context, filters = list_context(
        request,
        PersonFilter,
        lambda **read: people_page(viewer=user, limit=PAGE_SIZE, **read),
    )
    filter_company = None
    if filters is not None and filters.company:
        filter_company = Company.objects.filter(pk=filters.company).only("name").first()
    context |= {
        "filter_company": filter_company,
        "clear_company_url": url_without(request, "company"),
        "extra_filter_params": [c.param for c in extensions.list_conditions()],
        "can_create": can(user, "people.create"),
        "can_export": can(user, "people.export"),
        "export_url": reverse("people:export")
        + ("?" + request.GET.urlencode() if request.GET else ""),
    }
    if hx_target(request) == "results":
        return render(request, "people/_list.html", {**context, "oob": True})
    context.update(
        stages=Stage.choices,
        owners=owner_options(user),
        sorts=PERSON_SORTS + [(s.key, s.label) for s in extensions.list_sorts()],
        extra_filters=_extra_filters(context["params"]),
    )
    status = 400 if context["errors"] else 200
    return render(request, "people/person_list.html", context, status=status)


def _extra_filters(params: dict[str, str]) -> list[dict[str, Any]]:
    """The list filters other apps define (consent's "may be emailed for"), as selects."""
    return [
        {
            "param": c.param,
            "label": c.label,
            "any_label": c.any_label,
            "choices": c.choices(),
            "value": params.get(c.param, ""),
        }
        for c in extensions.list_conditions()
    ]


@login_required
def person_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """GET: the people list as it is filtered and sorted, as a CSV file (all pages).

    Bulk export is marketing's and management's (the `people.export` action): the
    database is the company's, not a file to take along.
    """
    user = current_user(request)
    require(user, "people.export")
    try:
        filters = PersonFilter.from_query(request.GET.dict())
        rows = people_export_rows(viewer=user, filters=filters)
    except ValidationError as err:
        return HttpResponse(
            "; ".join(f"{k}: {v}" for k, v in messages_of(err).items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )

    stamp = timezone.localtime().strftime("%Y-%m-%d")
    response = csv_response(rows, filename=f"tandem-people-{stamp}.csv", bom=True)
    record_audit(
        actor=Actor.for_user(user),
        event="exported",
        target=user,
        changes={"people_export": [None, request.GET.urlencode() or "all"]},
    )
    return response


# --- person page --------------------------------------------------------------------


def _stage_context(
    request: HttpRequest, person: Person, form: StageForm | None = None, notice: str = ""
) -> dict[str, Any]:
    user = current_user(request)
    live = person.deleted_at is None
    return {
        "person": person,
        "stage_form": form or StageForm(current=person.stage),
        "history": stage_history(person),
        "can_change_stage": live and can(user, "people.change_stage", person),
        "stage_notice": notice,
    }


def _timeline_context(
    request: HttpRequest, person: Person, form: ActivityForm | None = None
) -> dict[str, Any]:
    entries = person_timeline(person)
    return {
        "timeline": timeline_rows(entries),
        "interest": latest_interest(entries),
        "activity_form": form or ActivityForm(),
        "activity_url": reverse("people:log_activity", args=[person.pk]),
        "can_log": person.deleted_at is None
        and can(current_user(request), "people.log_activity", person),
    }


@dataclass(frozen=True)
class ContactKind:
    """An email address or a phone number on the person page: the same panel, two configs."""

    name: str  # "email": the form's context key, the URL's `<name>_id`, the service keyword
    plural: str  # "emails": the panel's template, its list's context key and page anchor
    form: type[EmailForm] | type[PhoneForm]
    field: str  # the form field the service's `name` error goes next to
    rows: Callable[[Person], list[Any]]
    add: Callable[..., Any]  # (actor, person, cleaned_data) -> the service call
    remove: Callable[..., Any]

    @property
    def template(self) -> str:
        return f"people/_{self.plural}.html"


EMAIL = ContactKind(
    name="email",
    plural="emails",
    form=EmailForm,
    field="address",
    rows=lambda person: list(person.emails.all()),
    add=lambda actor, person, data: services.add_email(
        actor=actor, person=person, email=data["address"], make_primary=data["make_primary"]
    ),
    remove=services.remove_email,
)
PHONE = ContactKind(
    name="phone",
    plural="phones",
    form=PhoneForm,
    field="number",
    rows=lambda person: _phone_rows(list(person.phones.all())),
    add=lambda actor, person, data: services.add_phone(
        actor=actor,
        person=person,
        phone=data["number"],
        kind=data["kind"],
        make_primary=data["make_primary"],
    ),
    remove=services.remove_phone,
)


def _contact_context(
    request: HttpRequest,
    person: Person,
    kind: ContactKind,
    form: EmailForm | PhoneForm | None = None,
    duplicate_of: Person | None = None,
) -> dict[str, Any]:
    return {
        "person": person,
        kind.plural: kind.rows(person),
        f"{kind.name}_form": form or kind.form(),
        f"{kind.name}_duplicate_of": duplicate_of,
        "can_edit": person.deleted_at is None and can(current_user(request), "people.edit", person),
    }


def _person_audit_context(person: Person, defs: list[CustomField] | None = None) -> dict[str, Any]:
    if defs is None:
        defs = definitions(CustomFieldEntity.PERSON)
    return {"audit": audit_rows(audit_for(person), Person, defs)}


def _person_page(
    request: HttpRequest,
    person: Person,
    *,
    stage_form: StageForm | None = None,
    activity_form: ActivityForm | None = None,
    email_form: EmailForm | None = None,
    email_duplicate_of: Person | None = None,
    phone_form: PhoneForm | None = None,
    phone_duplicate_of: Person | None = None,
) -> HttpResponse:
    """The whole person page; a form passed in (with its errors) replaces the blank one."""
    user = current_user(request)
    defs = definitions(CustomFieldEntity.PERSON)
    live = person.deleted_at is None
    context: dict[str, Any] = {
        "person": person,
        "address_lines": _address_lines(person),
        "custom_rows": custom_rows(defs, person.custom_fields or {}),
        "is_deleted": not live,
        "can_edit": live and can(user, "people.edit", person),
        "can_delete": live and can(user, "people.delete", person),
        "can_restore": not live and can(user, "people.restore", person),
    }
    context.update(_stage_context(request, person, stage_form))
    context.update(_timeline_context(request, person, activity_form))
    context.update(_contact_context(request, person, EMAIL, email_form, email_duplicate_of))
    context.update(_contact_context(request, person, PHONE, phone_form, phone_duplicate_of))
    context.update(_person_audit_context(person, defs))
    # Cards other apps add (consent, ADR 0005); visibility is this page's, checked above.
    context["sections"] = [
        {"key": s.key, "template": s.template, "data": s.load(person)}
        for s in extensions.person_sections()
    ]
    return render(request, "people/person_detail.html", context)


@login_required
def person_page(request: HttpRequest, pk: int) -> HttpResponse:
    require(current_user(request), "people.view")
    return _person_page(request, record_or_404(request, PERSON, pk, allow_deleted=True))


@login_required
@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "people.create")
    defs = definitions(CustomFieldEntity.PERSON)
    duplicate_of = None
    if request.method == "POST":
        form = PersonForm(request.POST, creating=True, custom_definitions=defs)
        if form.is_valid():
            actor = current_actor(request)
            try:
                with transaction.atomic():
                    company = _resolve_company(actor, form.cleaned_data["company"], None)
                    person = services.create_person(
                        actor=actor,
                        data={**form.person_data(), "company": company},
                        email=form.cleaned_data["email"],
                        phone=form.cleaned_data["phone"],
                        stage=form.cleaned_data["stage"],
                    )
            except services.DuplicateEmailError as err:
                form.add_error("email", "This email already belongs to another person.")
                duplicate_of = _duplicate_owner(err)
            except ValidationError as err:
                add_service_errors(form, err)
            else:
                messages.success(request, f"Added {person}.")
                return redirect("people:detail", pk=person.pk)
    else:
        initial: dict[str, Any] = {"stage": Stage.LEAD}
        if user.role == Role.SALESPERSON:
            initial["owner"] = user.pk
        company_id = request.GET.get("company", "")
        if company_id.isdigit():
            company = Company.objects.live().filter(pk=int(company_id)).first()
            if company:
                initial["company"] = company.name
        form = PersonForm(initial=initial, creating=True, custom_definitions=defs)
    focus_first_error(form)
    return render(
        request,
        "people/person_form.html",
        {"form": form, "creating": True, "duplicate_of": duplicate_of},
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    person = record_or_404(request, PERSON, pk)
    require(user, "people.edit", person)
    defs = definitions(CustomFieldEntity.PERSON)
    emails = list(person.emails.all())
    phones = list(person.phones.all())
    initial = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": emails[0].email if emails and emails[0].is_primary else "",
        "phone": phones[0].original if phones and phones[0].is_primary else "",
        "title": person.title,
        "company": person.company.name if person.company else "",
        "street": person.street,
        "city": person.city,
        "postcode": person.postcode,
        "region": person.region,
        "country": person.country,
        "source": person.source,
        "owner": person.owner_id,
    }
    form_kwargs: dict[str, Any] = {
        "initial": initial,
        "creating": False,
        "custom_definitions": defs,
        "custom_values": person.custom_fields or {},
        "current_owner_id": person.owner_id,
    }
    duplicate_of = None
    if request.method == "POST":
        form = PersonForm(request.POST, **form_kwargs)
        if form.is_valid():
            actor = current_actor(request)
            data = form.person_data()
            for name in ("email", "phone"):
                if name in form.changed_data:
                    data[name] = form.cleaned_data[name]
            try:
                with transaction.atomic():
                    if "company" in form.changed_data:
                        data["company"] = _resolve_company(
                            actor, form.cleaned_data["company"], person.company
                        )
                    services.update_person(actor=actor, person=person, data=data)
            except services.DuplicateEmailError as err:
                form.add_error("email", "This email already belongs to another person.")
                duplicate_of = _duplicate_owner(err)
            except ValidationError as err:
                add_service_errors(form, err)
            else:
                messages.success(request, f"Saved {person}.")
                return redirect("people:detail", pk=person.pk)
    else:
        form = PersonForm(**form_kwargs)
    focus_first_error(form)
    return render(
        request,
        "people/person_form.html",
        {"form": form, "creating": False, "person": person, "duplicate_of": duplicate_of},
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_record(request, pk, PERSON)


@login_required
@require_POST
def person_restore(request: HttpRequest, pk: int) -> HttpResponse:
    return restore_record(request, pk, PERSON)


@login_required
@require_POST
def person_change_stage(request: HttpRequest, pk: int) -> HttpResponse:
    person = record_or_404(request, PERSON, pk)
    require(current_user(request), "people.change_stage", person)
    form = StageForm(request.POST, current=person.stage)
    if form.is_valid():
        try:
            person = services.change_stage(
                person=person,
                to_stage=form.cleaned_data["to_stage"],
                reason=form.cleaned_data["reason"],
                actor=current_actor(request),
            )
        except ValidationError as err:
            add_service_errors(form, err, {"to": "to_stage"})
        else:
            notice = f"Moved to {person.get_stage_display()}."
            if not is_htmx(request):
                messages.success(request, notice)
                return redirect("people:detail", pk=person.pk)
            return fragments(
                request,
                ("people/_stage.html", _stage_context(request, person, notice=notice)),
                ("people/_stage_badge.html", {"person": person, "oob": True}),
                (
                    "people/_timeline_list.html",
                    {**_timeline_context(request, person), "oob": True},
                ),
                ("people/_audit.html", {**_person_audit_context(person), "oob": True}),
            )
    if is_htmx(request):
        return fragments(request, ("people/_stage.html", _stage_context(request, person, form)))
    return _person_page(request, person, stage_form=form)


PERSON = RecordKind(
    noun="person",
    actions="people",
    detail=person_detail,
    detail_url="people:detail",
    list_url="people:list",
    delete=services.delete_person,
    restore=services.restore_person,
    deleted_message="Deleted {}. An admin can restore them.",
    timeline_context=_timeline_context,
    page=_person_page,
)


@login_required
@require_POST
def person_log_activity(request: HttpRequest, pk: int) -> HttpResponse:
    return log_record_activity(request, pk, PERSON)


# --- emails and phones ------------------------------------------------------------------


def _contact_answer(
    request: HttpRequest,
    person: Person,
    kind: ContactKind,
    form: EmailForm | PhoneForm | None = None,
    duplicate_of: Person | None = None,
) -> HttpResponse:
    """The panel and the audit (HTMX), the page with the form's errors, or back to the panel."""
    person = person_detail(person.pk)  # fresh emails or phones after the change
    if is_htmx(request):
        return fragments(
            request,
            (kind.template, _contact_context(request, person, kind, form, duplicate_of)),
            ("people/_audit.html", {**_person_audit_context(person), "oob": True}),
        )
    if form is not None and form.errors:
        page_forms: dict[str, Any] = {
            f"{kind.name}_form": form,
            f"{kind.name}_duplicate_of": duplicate_of,
        }
        return _person_page(request, person, **page_forms)
    return redirect(reverse("people:detail", args=[person.pk]) + f"#{kind.plural}")


def _add_contact(request: HttpRequest, pk: int, kind: ContactKind) -> HttpResponse:
    person = record_or_404(request, PERSON, pk)
    require(current_user(request), "people.edit", person)
    form = kind.form(request.POST)
    duplicate_of = None
    if form.is_valid():
        try:
            kind.add(current_actor(request), person, form.cleaned_data)
        except services.DuplicateEmailError as err:
            form.add_error(kind.field, "This email already belongs to another person.")
            duplicate_of = _duplicate_owner(err)
        except ValidationError as err:
            add_service_errors(form, err, {kind.name: kind.field})
        else:
            return _contact_answer(request, person, kind)
    return _contact_answer(request, person, kind, form, duplicate_of)


def _change_contact(
    request: HttpRequest, pk: int, kind: ContactKind, change: Callable[..., Any], item_id: int
) -> HttpResponse:
    """Remove an address or number, or make one primary; a refusal is named on the panel."""
    person = record_or_404(request, PERSON, pk)
    require(current_user(request), "people.edit", person)
    form = kind.form()
    try:
        change(actor=current_actor(request), person=person, **{f"{kind.name}_id": item_id})
    except ValidationError as err:
        add_service_errors(form, err, {kind.name: kind.field})
        if not is_htmx(request):
            messages.error(request, " ".join(err.messages))
            return redirect(reverse("people:detail", args=[person.pk]) + f"#{kind.plural}")
    return _contact_answer(request, person, kind, form)


@login_required
@require_POST
def person_add_email(request: HttpRequest, pk: int) -> HttpResponse:
    return _add_contact(request, pk, EMAIL)


@login_required
@require_POST
def person_remove_email(request: HttpRequest, pk: int, email_id: int) -> HttpResponse:
    return _change_contact(request, pk, EMAIL, EMAIL.remove, email_id)


@login_required
@require_POST
def person_make_primary_email(request: HttpRequest, pk: int, email_id: int) -> HttpResponse:
    return _change_contact(request, pk, EMAIL, services.make_primary_email, email_id)


@login_required
@require_POST
def person_add_phone(request: HttpRequest, pk: int) -> HttpResponse:
    return _add_contact(request, pk, PHONE)


@login_required
@require_POST
def person_remove_phone(request: HttpRequest, pk: int, phone_id: int) -> HttpResponse:
    return _change_contact(request, pk, PHONE, PHONE.remove, phone_id)
