"""What the people and company pages share: who asks, HTMX answers, pagers, and
rows shaped for templates (audit, timeline, custom fields) so templates only show."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.loader import render_to_string

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.core.models import AuditEvent
from tandem.core.pagination import Page
from tandem.people.models import (
    ActivityKind,
    Company,
    CustomField,
    CustomFieldType,
    Person,
    Stage,
)
from tandem.people.queries import (
    TimelineEntry,
)

PAGE_SIZE = 50
PERSON_SORTS = [
    ("name", "Name, A–Z"),
    ("-name", "Name, Z–A"),
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("-updated_at", "Recently updated"),
    ("email", "Email"),
]
COMPANY_SORTS = [
    ("name", "Name, A–Z"),
    ("-name", "Name, Z–A"),
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("-updated_at", "Recently updated"),
]
KIND_LABELS = {**dict(ActivityKind.choices), "stage": "Stage", "touchpoint": "Touchpoint"}
EVENT_LABELS = {
    "created": "Created",
    "changed": "Changed",
    "deleted": "Deleted",
    "restored": "Restored",
    "erased": "Erased",
    "stage_changed": "Changed the stage",
    "email_added": "Added an email",
    "email_removed": "Removed an email",
    "phone_added": "Added a phone",
    "phone_removed": "Removed a phone",
}
EXTRA_FIELD_LABELS = {
    "title": "Job title",
    "email": "Primary email",
    "phone": "Primary phone",
    "emails": "Emails",
    "phones": "Phones",
}


# --- helpers ---------------------------------------------------------------------


def current_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "login_required runs first"
    return user


def current_actor(request: HttpRequest) -> Actor:
    return Actor.for_user(current_user(request))


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def hx_target(request: HttpRequest) -> str:
    if not is_htmx(request) or request.headers.get("HX-History-Restore-Request"):
        return ""
    return request.headers.get("HX-Target", "")


def fragments(request: HttpRequest, *parts: tuple[str, dict[str, Any]]) -> HttpResponse:
    """Several fragments in one HTMX answer: the target first, out-of-band swaps after."""
    return HttpResponse(
        "".join(render_to_string(name, ctx, request=request) for name, ctx in parts)
    )


def messages_of(err: ValidationError) -> dict[str, str]:
    if hasattr(err, "error_dict"):
        return {k: " ".join(v) for k, v in err.message_dict.items()}
    return {"": " ".join(err.messages)}


def page_summary(page: Page, at: int) -> dict[str, Any]:
    """'51–100 of 1,234' for the pager; the total is capped on big tables."""
    shown = len(page.items)
    total = f"{page.count:,}" if page.count_exact else f"{page.count:,}+"
    return {
        "first": at + 1 if shown else 0,
        "last": at + shown,
        "total": total,
        "is_capped": not page.count_exact,
        "is_empty": shown == 0,
    }


def next_url(request: HttpRequest, page: Page, at: int) -> str:
    if not page.next_cursor:
        return ""
    params = request.GET.copy()
    params["cursor"] = page.next_cursor
    params["at"] = str(at + len(page.items))
    return "?" + params.urlencode()


def first_page_url(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("cursor", None)
    params.pop("at", None)
    return "?" + params.urlencode()


def url_without(request: HttpRequest, *names: str) -> str:
    params: QueryDict = request.GET.copy()
    for name in (*names, "cursor", "at"):
        params.pop(name, None)
    return "?" + params.urlencode()


def page_position(request: HttpRequest) -> int:
    """Where the page starts, for display only (keyset pages do not know it)."""
    raw = request.GET.get("at", "")
    return int(raw) if raw.isdigit() and request.GET.get("cursor") else 0


def list_context(
    request: HttpRequest, filter_class: Any, read_page: Callable[..., Page]
) -> tuple[dict[str, Any], Any]:
    """A list page's filter (from the query string), its page and the pager around it.

    `read_page(filters=, cursor=)` reads the page; a bad filter or cursor is put in
    `errors` by field, next to its input. Returns the context and the filter (None
    when the filter itself is refused). People, companies and campaigns share it.
    """
    params = request.GET.dict()
    errors: dict[str, str] = {}
    page: Page | None = None
    filters: Any = None
    at = page_position(request)
    try:
        filters = filter_class.from_query(params)
        page = read_page(filters=filters, cursor=params.get("cursor") or None)
    except ValidationError as err:
        errors = messages_of(err)
    context = {
        "page": page,
        "summary": page_summary(page, at) if page else None,
        "next_url": next_url(request, page, at) if page else "",
        "first_url": first_page_url(request) if at else "",
        "params": params,
        "errors": errors,
        "general_error": errors.get("cursor") or errors.get(""),
        "is_filtered": bool(page and filters.is_filtered),
    }
    return context, filters


def owner_options(user: User) -> list[tuple[str, str]]:
    """The owner filter: anyone, unowned, me, then everyone else (users are few)."""
    options = [("none", "Unowned"), (str(user.pk), f"Me ({user.get_full_name() or user.username})")]
    for other in (
        User.objects.filter(is_active=True)
        .exclude(pk=user.pk)
        .order_by("first_name", "last_name", "username")
    ):
        options.append((str(other.pk), other.get_full_name() or other.username))
    return options


def display_value(value: Any) -> str:
    if value in (None, "", {}, []):
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def custom_rows(defs: list[CustomField], values: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for d in defs:
        value = values.get(d.key)
        if d.field_type == CustomFieldType.DATE and value:
            with contextlib.suppress(ValueError):
                value = dt.date.fromisoformat(str(value)).strftime("%-d %b %Y")
        rows.append({"label": d.label, "value": display_value(value), "required": d.required})
    return rows


def field_label(model: type[models.Model], name: str) -> str:
    if name in EXTRA_FIELD_LABELS:
        return EXTRA_FIELD_LABELS[name]
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name.replace("_", " ").capitalize()
    return str(getattr(field, "verbose_name", name)).capitalize()


def audit_rows(
    events: list[AuditEvent], model: type[models.Model], defs: list[CustomField]
) -> list[dict[str, Any]]:
    """Audit events as who / when / what, with ids shown as names.

    Owners and companies are stored as ids; they are looked up in two queries
    for the whole list, never per event.
    """
    user_ids: set[int] = set()
    company_ids: set[int] = set()
    for event in events:
        for name, pair in (event.changes or {}).items():
            ids = {v for v in pair if isinstance(v, int)} if isinstance(pair, list) else set()
            if name == "owner":
                user_ids |= ids
            elif name == "company":
                company_ids |= ids
    users = User.objects.in_bulk(list(user_ids)) if user_ids else {}
    companies = Company.objects.in_bulk(list(company_ids)) if company_ids else {}
    labels = {d.key: d.label for d in defs}

    def show(name: str, value: Any) -> str:
        if name == "owner" and value in users:
            u = users[value]
            return u.get_full_name() or u.username
        if name == "company" and value in companies:
            return companies[value].name
        if name == "stage" and value in Stage.values:
            return Stage(value).label
        return display_value(value)

    rows = []
    for event in events:
        changes = []
        for name, pair in (event.changes or {}).items():
            if not isinstance(pair, list) or len(pair) != 2:
                continue
            before, after = pair
            if name == "custom_fields" and isinstance(before or {}, dict):
                old, new = before or {}, after or {}
                for key in sorted(set(old) | set(new)):
                    if old.get(key) != new.get(key):
                        changes.append(
                            {
                                "field": labels.get(key, key),
                                "before": display_value(old.get(key)),
                                "after": display_value(new.get(key)),
                            }
                        )
                continue
            changes.append(
                {
                    "field": field_label(model, name),
                    "before": show(name, before),
                    "after": show(name, after),
                }
            )
        rows.append(
            {
                "at": event.at,
                "actor": event.actor_label,
                "event": EVENT_LABELS.get(event.event, event.event.replace("_", " ").capitalize()),
                "is_creation": event.event == "created",
                "changes": changes,
            }
        )
    return rows


def timeline_rows(
    entries: list[TimelineEntry], people: dict[int, Person] | None = None
) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        person = people.get(e.person_id) if people and e.person_id else None
        rows.append(
            {
                "entry": e,
                "kind_label": KIND_LABELS.get(e.kind, e.kind.capitalize()),
                "person": person,
                "person_id": e.person_id if people is not None else None,
            }
        )
    return rows
