"""The company list and company page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tandem.accounts.models import Role
from tandem.core.audit import audit_for
from tandem.core.pagination import capped_count
from tandem.core.permissions import can, page_requires, require
from tandem.people import services
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
)

# --- companies ------------------------------------------------------------------------


@page_requires("companies.view")
def company_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "companies.view")
    params = request.GET.dict()
    errors: dict[str, str] = {}
    page = None
    at = page_position(request)
    try:
        filters = CompanyFilter.from_query(params)
    except ValidationError as err:
        errors = messages_of(err)
    else:
        try:
            page = companies_page(
                viewer=user, filters=filters, limit=PAGE_SIZE, cursor=params.get("cursor") or None
            )
        except ValidationError as err:
            errors = messages_of(err)
    context: dict[str, Any] = {
        "page": page,
        "summary": page_summary(page, at) if page else None,
        "next_url": next_url(request, page, at) if page else "",
        "first_url": first_page_url(request) if at else "",
        "params": params,
        "errors": errors,
        "general_error": errors.get("cursor") or errors.get(""),
        "is_filtered": bool(page and filters.is_filtered),
        "can_create": can(user, "companies.create"),
    }
    if hx_target(request) == "results":
        return render(request, "people/_company_list.html", {**context, "oob": True})
    context.update(owners=owner_options(user), sorts=COMPANY_SORTS)
    return render(request, "people/company_list.html", context, status=400 if errors else 200)


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


def _company_or_404(request: HttpRequest, pk: int, *, allow_deleted: bool = False) -> Company:
    include_deleted = allow_deleted and can(current_user(request), "companies.restore")
    try:
        return company_detail(pk, include_deleted=include_deleted)
    except Company.DoesNotExist:
        raise Http404("There is no such company.") from None


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
    return render(request, "people/company_detail.html", context)


@login_required
def company_page(request: HttpRequest, pk: int) -> HttpResponse:
    require(current_user(request), "companies.view")
    return _company_page(request, _company_or_404(request, pk, allow_deleted=True))


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
    company = _company_or_404(request, pk)
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


@login_required
@require_http_methods(["GET", "POST"])
def company_delete(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    require(current_user(request), "companies.delete", company)
    if request.method == "POST":
        services.delete_company(actor=current_actor(request), company=company)
        messages.success(request, f"Deleted {company}. Its people stay; an admin can restore it.")
        return redirect("people:company_list")
    return render(request, "people/confirm_delete.html", {"object": company, "kind": "company"})


@login_required
@require_POST
def company_restore(request: HttpRequest, pk: int) -> HttpResponse:
    require(current_user(request), "companies.restore")
    company = _company_or_404(request, pk, allow_deleted=True)
    services.restore_company(actor=current_actor(request), company=company)
    messages.success(request, f"Restored {company}.")
    return redirect("people:company_detail", pk=company.pk)


@login_required
@require_POST
def company_log_activity(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    require(current_user(request), "companies.log_activity", company)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            services.log_activity(
                actor=current_actor(request),
                company=company,
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
                return redirect(reverse("people:company_detail", args=[company.pk]) + "#timeline")
            if is_htmx(request):  # a fresh form under the updated timeline
                return fragments(
                    request,
                    (
                        "people/_timeline.html",
                        _company_timeline_context(request, company, company_people(company)),
                    ),
                )
    if is_htmx(request):
        people = company_people(company)
        return fragments(
            request,
            ("people/_timeline.html", _company_timeline_context(request, company, people, form)),
        )
    return _company_page(request, company, activity_form=form)
