"""/capture: the phone page salespeople and booth staff capture leads with (J2, J4).

With JavaScript every entry is queued on the phone (IndexedDB) with a
client-made UUID and sent to `sync` one by one when there is a network; a
service worker keeps the page itself available offline. Without JavaScript
the same form posts here and is saved at once. Either way the entry goes
through `capture_quickly` and so through `capture_person`: a replayed UUID
never makes a second person or touchpoint.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import can, page_requires, require
from tandem.campaigns.models import Touchpoint
from tandem.capture.quick.forms import (
    PERSON_FIELDS,
    QuickCaptureForm,
    add_service_errors,
    with_card,
)
from tandem.capture.quick.services import CHANNEL, QuickResult, capture_quickly
from tandem.people.schemas import storable

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "capture" / "quick"
SCOPE = "/capture"
# What the service worker keeps for offline use, besides the page itself.
SHELL_ASSETS = (
    "tandem/app.css",
    "vendor/htmx-2.0.11.min.js",
    "capture/quick/quick.css",
    "capture/quick/quick.js",
    "capture/quick/icon.svg",
)
# The JSON keys an offline entry may carry (anything else is ignored).
ENTRY_KEYS = (
    *PERSON_FIELDS,
    "campaign",
    "location",
    "place",
    "interest",
    "note",
    "sold_on_spot",
    "own_network",
    "captured_at",
)


def person_url(person_id: int) -> str:
    try:
        return reverse("people:detail", args=[person_id])
    except NoReverseMatch:
        return f"/people/{person_id}/"


def _recent(user_id: int) -> list[Touchpoint]:
    """Today's quick captures by this user, newest first, for the page without JavaScript."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = list(
        Touchpoint.objects.filter(
            channel=CHANNEL, occurred_at__gte=start, detail__captured_by=user_id
        )
        .select_related("person")
        .order_by("-occurred_at", "-id")[:10]
    )
    for tp in rows:
        tp.person_url = person_url(tp.person_id)  # type: ignore[attr-defined]
    return rows


def _render(request: HttpRequest, form: QuickCaptureForm, status: int = 200) -> HttpResponse:
    assert request.user.pk is not None
    context = {
        "form": form,
        "person_fields": [form[name] for name in ("first_name", "last_name", "email", "phone")],
        "work_fields": [form[name] for name in ("company", "title")],
        "address_fields": [form[name] for name in ("street", "postcode", "city", "country")],
        "recent": _recent(request.user.pk),
    }
    return render(request, "capture/quick/page.html", context, status=status)


def _saved_message(result: QuickResult, actor: Actor) -> str:
    """What the salesperson reads next to the Save button: who, new or known, whose."""
    person = result.person
    name = str(person) or person.email
    if result.capture.replayed:
        return f"{name} was already saved from this entry ({result.owner_note(actor)})."
    what = "new person" if result.capture.created else "known person, touchpoint added"
    extra = " · moved to customer" if result.moved_to_customer else ""
    if result.stage_note:
        extra = f" · sale noted ({result.stage_note})"
    return f"Saved {name}: {what}, {result.owner_note(actor)}{extra}."


def _saved_item(result: QuickResult) -> dict[str, Any]:
    """One line of "Saved today by you", for the page to add without a reload."""
    tp = result.capture.touchpoint
    return {
        "touchpoint_id": tp.pk,
        "name": str(result.person) or result.person.email,
        "url": person_url(result.person.pk),
        "kind": tp.get_kind_display(),
        "location": tp.location,
        "time": timezone.localtime(tp.occurred_at).strftime("%H:%M"),
    }


@page_requires("people.create")
@require_http_methods(["GET", "POST"])
def page(request: HttpRequest) -> HttpResponse:
    """The capture page; a plain post (no JavaScript) saves at once or reads a card."""
    actor = Actor.for_user(request.user)  # type: ignore[arg-type]
    require(actor, "people.create")
    if request.method == "GET":
        keep = {k: request.GET[k] for k in ("campaign", "location", "place") if request.GET.get(k)}
        return _render(request, QuickCaptureForm(initial=keep))

    form = QuickCaptureForm(request.POST, request.FILES)
    try:
        card = form.card()
    except ValidationError as err:
        form.is_valid()
        add_service_errors(form, err)
        return _render(request, form, status=422)

    if request.POST.get("action") == "read_card":
        if not card:
            form.is_valid()
            form.add_error("scan_text", "Paste the badge text or choose a .vcf file first.")
            return _render(request, form, status=422)
        filled = QuickCaptureForm(with_card(request.POST, card, overwrite=True))
        messages.info(request, "Card read: check the fields, then save.")
        return _render(request, filled)

    if card:
        form = QuickCaptureForm(with_card(request.POST, card, overwrite=False))
    if form.is_valid():
        try:
            result = capture_quickly(actor=actor, entry=form.entry())
        except ValidationError as err:
            add_service_errors(form, err)
        else:
            messages.success(request, _saved_message(result, actor), extra_tags="saved")
            data = form.cleaned_data
            keep = {
                "campaign": data["campaign"].pk if data.get("campaign") else "",
                "location": data.get("location") or "",
                "place": data.get("place") or "",
            }
            query = urlencode({k: v for k, v in keep.items() if v})
            return redirect(reverse("quick:page") + (f"?{query}" if query else ""))
    return _render(request, form, status=422)


def _failed(status: int, message: str, errors: dict[str, Any] | None = None) -> JsonResponse:
    return JsonResponse(
        {"status": "failed", "message": message, "errors": errors or {}}, status=status
    )


def _form_errors(form: QuickCaptureForm) -> tuple[str, dict[str, list[str]]]:
    errors = {name: [str(m) for m in msgs] for name, msgs in form.errors.items()}
    parts = []
    for name, msgs in errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(msgs)}" if label else " ".join(msgs))
    return "; ".join(parts), errors


def _unstorable(data: dict[str, Any]) -> dict[str, list[str]]:
    """Values no database stores (NUL, lone surrogates), by field: a 422, never a 500."""
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        try:
            storable(value)
        except ValueError as exc:
            errors[name] = [f"{exc} Type the value again."]
    return errors


@require_POST
def sync(request: HttpRequest) -> JsonResponse:
    """One queued entry from the phone, as JSON with its `uuid`; CSRF-checked.

    200 when saved (or saved before: `replayed`), 422 with the reason when the
    entry cannot be saved as it is, 401 when the session has ended.
    """
    if not request.user.is_authenticated:
        return _failed(401, "Signed out: sign in again, then sync.")
    actor = Actor.for_user(request.user)  # type: ignore[arg-type]
    if not can(actor, "people.create"):
        return _failed(403, "You may not add people.")
    try:
        body = json.loads(request.body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _failed(400, "The entry is not valid JSON.")
    except RecursionError:
        return _failed(400, "The entry is nested too deeply to be an entry.")
    if not isinstance(body, dict):
        return _failed(400, "The entry must be a JSON object.")
    if not str(body.get("uuid") or "").strip():
        return _failed(422, "The entry has no uuid.", {"uuid": ["Required."]})
    data = {key: body[key] for key in ENTRY_KEYS if body.get(key) not in (None, "")}
    unstorable = _unstorable({"uuid": body["uuid"], **data})
    if unstorable:
        return _failed(
            422, "; ".join(f"{k}: {' '.join(v)}" for k, v in unstorable.items()), unstorable
        )
    data["client_uuid"] = str(body["uuid"])
    form = QuickCaptureForm(data)
    if form.is_valid():
        try:
            result = capture_quickly(actor=actor, entry=form.entry())
        except ValidationError as err:
            add_service_errors(form, err)
        else:
            person = result.person
            return JsonResponse(
                {
                    "status": "synced",
                    "uuid": form.cleaned_data["client_uuid"],
                    "replayed": result.capture.replayed,
                    "created": result.capture.created,
                    "kind": result.kind,
                    "moved_to_customer": result.moved_to_customer,
                    "stage_note": result.stage_note,
                    "message": _saved_message(result, actor),
                    "saved": _saved_item(result),
                    "person": {
                        "id": person.pk,
                        "name": str(person) or person.email,
                        "url": person_url(person.pk),
                        "owner_id": person.owner_id,
                    },
                }
            )
    message, errors = _form_errors(form)
    return _failed(422, message, errors)


@lru_cache(maxsize=1)
def _worker_source(asset_urls: tuple[str, ...]) -> str:
    source = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    shell = [SCOPE, *asset_urls]
    version = hashlib.sha256((source + json.dumps(shell)).encode()).hexdigest()[:12]
    return source.replace('"__SHELL__"', json.dumps(shell)).replace("__VERSION__", version)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The offline worker, served under /capture so its scope can cover the page.

    The page lives at /capture (no slash), which is outside this script's
    default scope (/capture/), hence Service-Worker-Allowed.
    """
    body = _worker_source(tuple(static(path) for path in SHELL_ASSETS))
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = SCOPE
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """Lets the page be added to the home screen and open like an app."""
    data = {
        "name": "Tandem quick capture",
        "short_name": "Capture",
        "start_url": SCOPE,
        "scope": SCOPE,
        "display": "standalone",
        "background_color": "#f5f7fb",
        "theme_color": "#111827",
        "icons": [
            {"src": static("capture/quick/icon.svg"), "sizes": "any", "type": "image/svg+xml"}
        ],
    }
    response = JsonResponse(data)
    response["Content-Type"] = "application/manifest+json"
    return response
