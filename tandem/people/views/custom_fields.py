"""The custom-field settings pages: an admin adds, changes and deletes the fields
people and companies carry. They sit in the settings area beside users and
teams (`admin_section`), but the fields are people's, so the pages are too."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from tandem.accounts.pages import render_admin, request_actor
from tandem.accounts.permissions import page_requires
from tandem.accounts.queries import audit_trail
from tandem.people.custom_fields import (
    create_custom_field,
    delete_custom_field,
    update_custom_field,
)
from tandem.people.forms import CustomFieldForm
from tandem.people.models import CustomField, CustomFieldEntity
from tandem.people.queries import custom_fields_by_entity

admin_page = page_requires


@admin_page("people.manage_custom_fields")
def custom_field_list(request: HttpRequest) -> HttpResponse:
    return render_admin(
        request,
        "people/custom_fields.html",
        {"groups": custom_fields_by_entity()},
        section="custom_fields",
    )


@admin_page("people.manage_custom_fields")
def custom_field_new(request: HttpRequest) -> HttpResponse:
    entity = request.GET.get("entity")
    initial = {"entity": entity if entity in CustomFieldEntity.values else "person"}
    form = CustomFieldForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            field = create_custom_field(actor=request_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Added the field {field.label}.")
            return redirect("people:custom_fields")
    status = 400 if form.errors else 200
    return render_admin(
        request,
        "people/custom_field_form.html",
        {"form": form, "field": None},
        section="custom_fields",
        status=status,
    )


@admin_page("people.manage_custom_fields")
def custom_field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=pk)
    initial = {
        "entity": field.entity,
        "label": field.label,
        "key": field.key,
        "field_type": field.field_type,
        "required": field.required,
        "choices": "\n".join(field.choices or []),
    }
    form = CustomFieldForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "entity"}
        try:
            field = update_custom_field(actor=request_actor(request), field=field, data=data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Saved the field {field.label}.")
            return redirect("people:custom_fields")
    context = {"form": form, "field": field, "audit": audit_trail(field)}
    status = 400 if form.errors else 200
    return render_admin(
        request, "people/custom_field_form.html", context, section="custom_fields", status=status
    )


@admin_page("people.manage_custom_fields")
def custom_field_delete(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=pk)
    if request.method == "POST":
        delete_custom_field(actor=request_actor(request), field=field)
        messages.success(request, f"Deleted the field {field.label}.")
        return redirect("people:custom_fields")
    return render_admin(
        request, "people/custom_field_delete.html", {"field": field}, section="custom_fields"
    )
