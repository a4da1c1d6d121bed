"""The funnel overview, the people list and the person page with its panels."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tandem.accounts.models import Role
from tandem.core.actor import Actor
from tandem.core.audit import audit_for, record_audit
from tandem.core.permissions import can, page_requires, require
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
    FUNNEL_ORDER,
    Company,
    CustomField,
    CustomFieldEntity,
    Person,
    PersonPhone,
    Stage,
)
from tandem.people.queries import (
    latest_interest,
    lifecycle_counts,
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
    first_page_url,
    fragments,
    hx_target,
    is_htmx,
    messages_of,
    next_url,
    owner_options,
    page_position,
    page_summary,
    timeline_rows,
    url_without,
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


# --- funnel ---------------------------------------------------------------------------


@page_requires("people.view")
def overview(request: HttpRequest) -> HttpResponse:
    require(current_user(request), "people.view")
    list_url = reverse("people:list")
    funnel: list[dict[str, Any]] = []
    exits: list[dict[str, Any]] = []
    lifecycle_rows = lifecycle_counts()
    for row in lifecycle_rows:
        item = {
            "stage": row.stage,
            "count": f"{row.count:,}",
            # A plain string: a localised "42,5" would break the CSS width.
            "percent": f"{row.share * 100:.1f}",
            "url": f"{list_url}?stage={row.stage.value}",
        }
        (funnel if row.stage in FUNNEL_ORDER else exits).append(item)
    total = sum(row.count for row in lifecycle_rows)
    return render(
        request,
        "people/overview.html",
        {"funnel": funnel, "exits": exits, "total": f"{total:,}", "list_url": list_url},
    )


# --- people list --------------------------------------------------------------------


@page_requires("people.view")
def person_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "people.view")
    params = request.GET.dict()
    errors: dict[str, str] = {}
    page = None
    filter_company = None
    at = page_position(request)
    try:
        filters = PersonFilter.from_query(params)
    except ValidationError as err:
        errors = messages_of(err)
    else:
        try:
            page = people_page(
                viewer=user, filters=filters, limit=PAGE_SIZE, cursor=params.get("cursor") or None
            )
        except ValidationError as err:
            errors = messages_of(err)
        if filters.company:
            filter_company = Company.objects.filter(pk=filters.company).only("name").first()
    context: dict[str, Any] = {
        "page": page,
        "summary": page_summary(page, at) if page else None,
        "next_url": next_url(request, page, at) if page else "",
        "first_url": first_page_url(request) if at else "",
        "params": params,
        "errors": errors,
        "general_error": errors.get("cursor") or errors.get(""),
        "is_filtered": bool(page and filters.is_filtered),
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
        sorts=PERSON_SORTS,
        extra_filters=_extra_filters(params),
    )
    status = 400 if errors else 200
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


def _person_or_404(request: HttpRequest, pk: int, *, allow_deleted: bool = False) -> Person:
    """A live person; admins (who may restore) also reach deleted ones where allowed."""
    include_deleted = allow_deleted and can(current_user(request), "people.restore")
    try:
        return person_detail(pk, include_deleted=include_deleted)
    except Person.DoesNotExist:
        raise Http404("There is no such person.") from None


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


def _emails_context(
    request: HttpRequest,
    person: Person,
    form: EmailForm | None = None,
    duplicate_of: Person | None = None,
) -> dict[str, Any]:
    return {
        "person": person,
        "emails": list(person.emails.all()),
        "email_form": form or EmailForm(),
        "email_duplicate_of": duplicate_of,
        "can_edit": person.deleted_at is None and can(current_user(request), "people.edit", person),
    }


def _phones_context(
    request: HttpRequest, person: Person, form: PhoneForm | None = None
) -> dict[str, Any]:
    return {
        "person": person,
        "phones": _phone_rows(list(person.phones.all())),
        "phone_form": form or PhoneForm(),
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
    context.update(_emails_context(request, person, email_form, email_duplicate_of))
    context.update(_phones_context(request, person, phone_form))
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
    return _person_page(request, _person_or_404(request, pk, allow_deleted=True))


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
    person = _person_or_404(request, pk)
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
    person = _person_or_404(request, pk)
    require(current_user(request), "people.delete", person)
    if request.method == "POST":
        services.delete_person(actor=current_actor(request), person=person)
        messages.success(request, f"Deleted {person}. An admin can restore them.")
        return redirect("people:list")
    return render(request, "people/confirm_delete.html", {"object": person, "kind": "person"})


@login_required
@require_POST
def person_restore(request: HttpRequest, pk: int) -> HttpResponse:
    # Permission first, so a non-admin learns "not allowed" rather than "not found".
    require(current_user(request), "people.restore")
    person = _person_or_404(request, pk, allow_deleted=True)
    services.restore_person(actor=current_actor(request), person=person)
    messages.success(request, f"Restored {person}.")
    return redirect("people:detail", pk=person.pk)


@login_required
@require_POST
def person_change_stage(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(request, pk)
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


@login_required
@require_POST
def person_log_activity(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(request, pk)
    require(current_user(request), "people.log_activity", person)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            services.log_activity(
                actor=current_actor(request),
                person=person,
                kind=form.cleaned_data["kind"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                outcome=form.cleaned_data["outcome"],
                occurred_at=form.cleaned_data["occurred_at"],
            )
        except ValidationError as err:
            add_service_errors(form, err)
        else:
            if not is_htmx(request):
                messages.success(request, "Logged.")
                return redirect(reverse("people:detail", args=[person.pk]) + "#timeline")
            return fragments(request, ("people/_timeline.html", _timeline_context(request, person)))
    if is_htmx(request):
        return fragments(
            request, ("people/_timeline.html", _timeline_context(request, person, form))
        )
    return _person_page(request, person, activity_form=form)


def _emails_answer(
    request: HttpRequest,
    person: Person,
    form: EmailForm | None = None,
    duplicate_of: Person | None = None,
) -> HttpResponse:
    person = person_detail(person.pk)  # fresh emails after the change
    if is_htmx(request):
        return fragments(
            request,
            ("people/_emails.html", _emails_context(request, person, form, duplicate_of)),
            ("people/_audit.html", {**_person_audit_context(person), "oob": True}),
        )
    if form is not None and form.errors:
        return _person_page(request, person, email_form=form, email_duplicate_of=duplicate_of)
    return redirect(reverse("people:detail", args=[person.pk]) + "#emails")


@login_required
@require_POST
def person_add_email(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(request, pk)
    require(current_user(request), "people.edit", person)
    form = EmailForm(request.POST)
    duplicate_of = None
    if form.is_valid():
        try:
            services.add_email(
                actor=current_actor(request),
                person=person,
                email=form.cleaned_data["address"],
                make_primary=form.cleaned_data["make_primary"],
            )
        except services.DuplicateEmailError as err:
            form.add_error("address", "This email already belongs to another person.")
            duplicate_of = _duplicate_owner(err)
        except ValidationError as err:
            add_service_errors(form, err, {"email": "address"})
        else:
            return _emails_answer(request, person)
    return _emails_answer(request, person, form, duplicate_of)


@login_required
@require_POST
def person_remove_email(request: HttpRequest, pk: int, email_id: int) -> HttpResponse:
    person = _person_or_404(request, pk)
    require(current_user(request), "people.edit", person)
    form = EmailForm()
    try:
        services.remove_email(actor=current_actor(request), person=person, email_id=email_id)
    except ValidationError as err:
        add_service_errors(form, err, {"email": "address"})
        if not is_htmx(request):
            messages.error(request, " ".join(err.messages))
            return redirect(reverse("people:detail", args=[person.pk]) + "#emails")
    return _emails_answer(request, person, form)


@login_required
@require_POST
def person_make_primary_email(request: HttpRequest, pk: int, email_id: int) -> HttpResponse:
    person = _person_or_404(request, pk)
    require(current_user(request), "people.edit", person)
    form = EmailForm()
    try:
        services.make_primary_email(actor=current_actor(request), person=person, email_id=email_id)
    except ValidationError as err:
        add_service_errors(form, err, {"email": "address"})
        if not is_htmx(request):
            messages.error(request, " ".join(err.messages))
            return redirect(reverse("people:detail", args=[person.pk]) + "#emails")
    return _emails_answer(request, person, form)


def _phones_answer(
    request: HttpRequest, person: Person, form: PhoneForm | None = None
) -> HttpResponse:
    person = person_detail(person.pk)
    if is_htmx(request):
        return fragments(
            request,
            ("people/_phones.html", _phones_context(request, person, form)),
            ("people/_audit.html", {**_person_audit_context(person), "oob": True}),
        )
    if form is not None and form.errors:
        return _person_page(request, person, phone_form=form)
    return redirect(reverse("people:detail", args=[person.pk]) + "#phones")


@login_required
@require_POST
def person_add_phone(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(request, pk)
    require(current_user(request), "people.edit", person)
    form = PhoneForm(request.POST)
    if form.is_valid():
        try:
            services.add_phone(
                actor=current_actor(request),
                person=person,
                phone=form.cleaned_data["number"],
                kind=form.cleaned_data["kind"],
                make_primary=form.cleaned_data["make_primary"],
            )
        except ValidationError as err:
            add_service_errors(form, err, {"phone": "number"})
        else:
            return _phones_answer(request, person)
    return _phones_answer(request, person, form)


@login_required
@require_POST
def person_remove_phone(request: HttpRequest, pk: int, phone_id: int) -> HttpResponse:
    person = _person_or_404(request, pk)
    require(current_user(request), "people.edit", person)
    form = PhoneForm()
    try:
        services.remove_phone(actor=current_actor(request), person=person, phone_id=phone_id)
    except ValidationError as err:
        add_service_errors(form, err, {"phone": "number"})
        if not is_htmx(request):
            messages.error(request, " ".join(err.messages))
            return redirect(reverse("people:detail", args=[person.pk]) + "#phones")
    return _phones_answer(request, person, form)
