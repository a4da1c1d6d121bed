"""The company list and company page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tandem.accounts.models import Role
from tandem.accounts.permissions import can, page_requires, require
from tandem.core.audit import audit_for
from tandem.core.pagination import capped_count
from tandem.people import extensions, services
from tandem.people.custom_fields import definitions
from tandem.people.filters import CompanyFilter
from tandem.people.forms import (
    ActivityForm,
    CompanyForm,
    add_service_errors,
    focus_first_error,
)
from tandem.people.models import (
    Company,
    CustomFieldEntity,
    Person,
)
from tandem.people.queries import (
    companies_for_list,
    companies_page,
    company_detail,
    company_people,
    company_timeline,
)
from tandem.people.views.common import (
    COMPANY_SORTS,
    PAGE_SIZE,
    audit_rows,
    current_actor,
    current_user,
    custom_rows,
    hx_target,
    list_context,
    owner_options,
    timeline_rows,
)
from tandem.people.views.records import (
    RecordKind,
    delete_record,
    log_record_activity,
    record_or_404,
    restore_record,
)

# --- companies ------------------------------------------------------------------------


@page_requires("companies.view")
def company_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "companies.view")
    context, _ = list_context(
        request,
        CompanyFilter,
        lambda **read: companies_page(viewer=user, limit=PAGE_SIZE, **read),
    )
    context |= {
        "can_create": can(user, "companies.create"),
    }
    if hx_target(request) == "results":
        return render(request, "people/_company_list.html", {**context, "oob": True})
    context.update(owners=owner_options(user), sorts=COMPANY_SORTS)
    status = 400 if context["errors"] else 200
    return render(request, "people/company_list.html", context, status=status)


@login_required
def company_suggest(request: HttpRequest) -> HttpResponse:
    """Up to 10 company names starting with what was typed, for the person form's list."""
    require(current_user(request), "companies.view")
    text = request.GET.get("company", "").strip()[:200]
    names: list[str] = []
    if text:
        try:
            filters = CompanyFilter.from_query({"q": text})
        except ValidationError:
            filters = None
        if filters is not None:
            qs = companies_for_list(viewer=current_user(request), filters=filters)
            names = list(qs.order_by("name_key", "id").values_list("name", flat=True)[:10])
    return render(request, "people/_company_options.html", {"names": names})


def _company_timeline_context(
    request: HttpRequest,
    company: Company,
    people: list[Person],
    form: ActivityForm | None = None,
) -> dict[str, Any]:
    by_id = {p.pk: p for p in people}
    return {
        "timeline": timeline_rows(company_timeline(company), by_id),
        "activity_form": form or ActivityForm(),
        "activity_url": reverse("people:company_log_activity", args=[company.pk]),
        "can_log": company.deleted_at is None
        and can(current_user(request), "companies.log_activity", company),
    }


def _company_page(
    request: HttpRequest, company: Company, *, activity_form: ActivityForm | None = None
) -> HttpResponse:
    user = current_user(request)
    defs = definitions(CustomFieldEntity.COMPANY)
    live = company.deleted_at is None
    people = company_people(company)
    count, exact = capped_count(Person.objects.filter(company=company, deleted_at__isnull=True))
    context: dict[str, Any] = {
        "company": company,
        "custom_rows": custom_rows(defs, company.custom_fields or {}),
        "people": people,
        "people_count": f"{count:,}" if exact else f"{count:,}+",
        "people_label": "1 person" if count == 1 else f"{count:,}{'' if exact else '+'} people",
        "people_more": count > len(people),
        "people_url": reverse("people:list") + f"?company={company.pk}",
        "is_deleted": not live,
        "can_edit": live and can(user, "companies.edit", company),
        "can_delete": live and can(user, "companies.delete", company),
        "can_restore": not live and can(user, "companies.restore", company),
        "can_add_person": live and can(user, "people.create"),
        "audit": audit_rows(audit_for(company), Company, defs),
    }
    context.update(_company_timeline_context(request, company, people, activity_form))
    # Cards other apps add (tasks, ADR 0005); visibility is this page's, checked above.
    context["sections"] = [
        {"key": s.key, "template": s.template, "data": s.load(company)}
        for s in extensions.company_sections()
    ]
    return render(request, "people/company_detail.html", context)


@login_required
def company_page(request: HttpRequest, pk: int) -> HttpResponse:
    require(current_user(request), "companies.view")
    return _company_page(request, record_or_404(request, COMPANY, pk, allow_deleted=True))


@login_required
@require_http_methods(["GET", "POST"])
def company_create(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "companies.create")
    defs = definitions(CustomFieldEntity.COMPANY)
    if request.method == "POST":
        form = CompanyForm(request.POST, creating=True, custom_definitions=defs)
        if form.is_valid():
            try:
                company = services.create_company(
                    actor=current_actor(request), data=form.company_data()
                )
            except ValidationError as err:
                add_service_errors(form, err)
            else:
                messages.success(request, f"Added {company}.")
                return redirect("people:company_detail", pk=company.pk)
    else:
        initial = {"owner": user.pk} if user.role == Role.SALESPERSON else {}
        form = CompanyForm(initial=initial, creating=True, custom_definitions=defs)
    focus_first_error(form)
    return render(request, "people/company_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = record_or_404(request, COMPANY, pk)
    require(current_user(request), "companies.edit", company)
    defs = definitions(CustomFieldEntity.COMPANY)
    form_kwargs: dict[str, Any] = {
        "initial": {
            "name": company.name,
            "domain": company.domain,
            "industry": company.industry,
            "size": company.size,
            "country": company.country,
            "owner": company.owner_id,
        },
        "creating": False,
        "custom_definitions": defs,
        "custom_values": company.custom_fields or {},
        "current_owner_id": company.owner_id,
    }
    if request.method == "POST":
        form = CompanyForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                services.update_company(
                    actor=current_actor(request), company=company, data=form.company_data()
                )
            except ValidationError as err:
                add_service_errors(form, err)
            else:
                messages.success(request, f"Saved {company}.")
                return redirect("people:company_detail", pk=company.pk)
    else:
        form = CompanyForm(**form_kwargs)
    focus_first_error(form)
    return render(
        request, "people/company_form.html", {"form": form, "creating": False, "company": company}
    )


def _timeline_with_people(
    request: HttpRequest, company: Company, form: ActivityForm | None = None
) -> dict[str, Any]:
    return _company_timeline_context(request, company, company_people(company), form)


COMPANY = RecordKind(
    noun="company",
    actions="companies",
    detail=company_detail,
    detail_url="people:company_detail",
    list_url="people:company_list",
    delete=services.delete_company,
    restore=services.restore_company,
    deleted_message="Deleted {}. Its people stay; an admin can restore it.",
    timeline_context=_timeline_with_people,
    page=_company_page,
)


@login_required
@require_http_methods(["GET", "POST"])
def company_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_record(request, pk, COMPANY)


@login_required
@require_POST
def company_restore(request: HttpRequest, pk: int) -> HttpResponse:
    return restore_record(request, pk, COMPANY)


@login_required
@require_POST
def company_log_activity(request: HttpRequest, pk: int) -> HttpResponse:
    return log_record_activity(request, pk, COMPANY)
