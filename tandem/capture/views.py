"""The form builder: list, create, edit and show web forms (marketers, managers, admins).

Every page checks "capture.manage_forms" through accounts/permissions.py on the
server: anonymous visitors go to the login page, other roles get 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import page_requires
from tandem.campaigns.models import Touchpoint
from tandem.capture import inbox, webforms
from tandem.capture.forms import ConsentFormSet, WebFormForm
from tandem.capture.models import WebForm
from tandem.core.audit import audit_for

ViewFunc = Callable[..., HttpResponseBase]


manage_forms = page_requires("capture.manage_forms")


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(cast(User, request.user))


@manage_forms
def form_list(request: HttpRequest) -> HttpResponse:
    forms = (
        WebForm.objects.select_related("campaign")
        .annotate(submissions=Count("touchpoints"))
        .order_by("name")
    )
    return render(request, "capture/form_list.html", {"forms": forms})


def _consent_initial(form: WebForm | None) -> list[dict[str, Any]]:
    if form is None:
        return []
    return [
        {"purpose": t.purpose.key, "name": t.purpose.name, "text": t.text}
        for t in webforms.form_consent_texts(form)
    ]


def _initial(form: WebForm | None) -> dict[str, Any]:
    if form is None:
        return {"double_opt_in": True, "is_active": True}
    return {
        "name": form.name,
        "key": form.key,
        "campaign": form.campaign_id,
        "source": form.source,
        "thank_you_message": form.thank_you_message,
        "redirect_url": form.redirect_url,
        "sites": "\n".join(form.sites or []),
        "notify": list(form.notify.values_list("pk", flat=True)),
        "double_opt_in": form.double_opt_in,
        "is_active": form.is_active,
    }


def _editor(request: HttpRequest, web_form: WebForm | None) -> HttpResponse:
    catalogue = webforms.catalogue()
    post = request.POST if request.method == "POST" else None
    current = (
        web_form.fields
        if web_form is not None
        else [
            {"name": "first_name", "required": False},
            {"name": "last_name", "required": False},
            {"name": "email", "required": True},
        ]
    )
    form = WebFormForm(post, initial=_initial(web_form), catalogue=catalogue, current=current)
    consent_rows = ConsentFormSet(post, initial=_consent_initial(web_form), prefix="consent")
    section_errors: dict[str, str] = {}
    if post is not None and form.is_valid() and consent_rows.is_valid():
        data = {
            **form.settings_data(),
            "fields": form.chosen_fields(),
            "consents": [row.cleaned_data for row in consent_rows if row.cleaned_data],
        }
        try:
            if web_form is None:
                web_form = webforms.create_form(actor=_actor(request), data=data)
                messages.success(request, f"Made the form {web_form.name}.")
            else:
                web_form = webforms.update_form(actor=_actor(request), form=web_form, data=data)
                messages.success(request, f"Saved the form {web_form.name}.")
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            for section in ("fields", "consents"):
                if section in errors:
                    section_errors[section] = " ".join(errors.pop(section))
            if errors:
                form.add_service_error(ValidationError(errors))
        else:
            return redirect("capture:form_detail", pk=web_form.pk)
    has_errors = bool(form.errors or section_errors or any(consent_rows.errors))
    context = {
        "web_form": web_form,
        "form": form,
        "field_rows": form.field_rows(),
        "consent_rows": consent_rows,
        "section_errors": section_errors,
    }
    return render(request, "capture/form_edit.html", context, status=400 if has_errors else 200)


@manage_forms
def form_create(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@manage_forms
def form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(WebForm, pk=pk))


@manage_forms
def form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    web_form = get_object_or_404(WebForm.objects.select_related("campaign", "created_by"), pk=pk)
    base_url = request.build_absolute_uri("/").rstrip("/")
    recent = (
        Touchpoint.objects.filter(form=web_form)
        .select_related("person", "campaign")
        .order_by("-occurred_at", "-id")[:20]
    )
    context = {
        "web_form": web_form,
        "fields": webforms.form_fields(web_form),
        "consent_texts": webforms.form_consent_texts(web_form),
        "notify": web_form.notify.order_by("username"),
        "hosted_url": base_url + reverse("capture:form", args=[web_form.key]),
        "json_url": base_url + reverse("capture:form_json", args=[web_form.key]),
        "snippet": webforms.embed_snippet(web_form, base_url=base_url),
        "recent": recent,
        "submissions": Touchpoint.objects.filter(form=web_form).count(),
        "audit": audit_for(web_form, limit=20),
        "inbox": inbox.for_form(web_form),
    }
    return render(request, "capture/form_detail.html", context)


@manage_forms
def form_inbox_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: try the submissions the capture refused again (after fixing the cause)."""
    web_form = get_object_or_404(WebForm, pk=pk)
    if request.method != "POST":
        return redirect("capture:form_detail", pk=pk)
    count = inbox.retry_failed(web_form)
    messages.success(
        request, f"{count} submission{'s' if count != 1 else ''} will be captured again."
    )
    return redirect("capture:form_detail", pk=pk)
