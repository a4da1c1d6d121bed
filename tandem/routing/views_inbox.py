"""The salesperson's inbox ("My leads") and the Accept / Send back actions (issue 20, 6 and 7).

Both actions work without JavaScript (a plain POST, then back to where the user
was); with HTMX the lead's card is swapped for its answered state in place.
The send-back form opens from a <details> element, so no script is needed either.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import page_requires
from tandem.core.http import safe_next
from tandem.people.models import Person
from tandem.routing import handoffs, inbox
from tandem.routing.forms_handoffs import SendBackForm
from tandem.routing.handoffs import NOTE_MAX_LENGTH


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _back(request: HttpRequest, person: Person) -> str:
    return safe_next(request, reverse("people:detail", args=[person.pk]))


def _page_url(request: HttpRequest) -> str:
    """This inbox's address without its page (the pager adds `page=`)."""
    query = request.GET.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    return f"{request.path}?{encoded}&" if encoded else f"{request.path}?"


@page_requires("routing.respond")
def my_leads(request: HttpRequest) -> HttpResponse:
    """GET: the open hand-offs of the signed-in user (or, `?owner=`, of a team member for
    their manager, of anyone for an admin), overdue ones first, then soonest due, a page
    at a time (`?page=`)."""
    viewer = _user(request)
    owner = viewer
    raw = request.GET.get("owner", "").strip()
    error = ""
    if raw and not (raw.isdigit() and len(raw) < 19):
        error = "Choose a user from the list."
    elif raw:
        owner = get_object_or_404(User, pk=int(raw))
        if not inbox.may_open_inbox(viewer, owner):
            raise PermissionDenied("Only their manager or an admin opens someone's inbox.")
    page = 1
    raw_page = request.GET.get("page", "").strip()
    if raw_page:
        if raw_page.isdigit() and len(raw_page) < 7 and int(raw_page) >= 1:
            page = int(raw_page)
        else:
            error = "page: a whole number from 1 to 999999."
    size = inbox.PAGE_SIZE
    counts = inbox.inbox_counts(owner)
    leads = inbox.inbox_leads(owner, offset=(page - 1) * size)
    choices = inbox.inbox_owner_choices(viewer)
    pages = max(1, -(-counts.waiting // size))
    context = {
        "owner": owner,
        "is_own": owner.pk == viewer.pk,
        "leads": leads,
        "waiting_count": counts.waiting,
        "overdue_count": counts.overdue,
        "page": page,
        "pages": pages,
        "first_shown": (page - 1) * size + 1,
        "last_shown": (page - 1) * size + len(leads),
        "page_url": _page_url(request),
        "owner_choices": choices if len(choices) > 1 else [],
        "page_size": size,
        "error": error,
        "inbox_url": request.get_full_path(),
        # Read once for every card's send-back form.
        "reasons": [(r.key, r.label) for r in handoffs.active_reasons()] if leads else [],
        "note_max": NOTE_MAX_LENGTH,
    }
    return render(request, "routing/inbox.html", context, status=400 if error else 200)


@page_requires("people.view")
def lead_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: one lead's consent for its inbox card (loaded when the card's panel opens)."""
    person = get_object_or_404(Person.objects.live(), pk=pk)
    consents = inbox.lead_consent(person)
    return render(request, "routing/_lead_consent.html", {"person": person, "consents": consents})


def _answered(request: HttpRequest, person: Person, handoff: Any, text: str) -> HttpResponse:
    if _is_htmx(request) and not _from_person_page(request, person):
        # The inbox: the card's buttons give way to the answer, the other cards stay.
        return render(
            request, "routing/_answered.html", {"person": person, "handoff": handoff, "text": text}
        )
    messages.success(request, text)
    if _is_htmx(request):
        # The person page: its hand-off and routing cards, stage and owner all changed, so
        # the page is loaded again (it said "Waiting for the owner" above the answer).
        response = HttpResponse()
        response["HX-Refresh"] = "true"
        return response
    return redirect(_back(request, person))


def _from_person_page(request: HttpRequest, person: Person) -> bool:
    """Whether htmx sent the answer from the person's own page (its current URL's path)."""
    current = urlsplit(request.headers.get("HX-Current-URL", "")).path
    return current == reverse("people:detail", args=[person.pk])


@require_POST
@page_requires("routing.respond")
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person.objects.live(), pk=pk)
    actor = Actor.for_user(_user(request))
    try:
        handoff = handoffs.accept_handoff(actor=actor, person=person)
    except ValidationError as err:
        text = " ".join(err.messages)
        if _is_htmx(request):
            return render(request, "routing/_answered.html", {"person": person, "text": text})
        messages.error(request, text)
        return redirect(_back(request, person))
    return _answered(request, person, handoff, f"Accepted {person}: now sales accepted.")


@page_requires("routing.respond")
def send_back(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the send-back form on its own page; POST: send the lead back to marketing."""
    person = get_object_or_404(Person.objects.live(), pk=pk)
    user = _user(request)
    handoffs.require_respond(user, person)
    open_one = handoffs.open_handoff(person)
    form = SendBackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            handoff = handoffs.send_back_handoff(
                actor=Actor.for_user(user),
                person=person,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as err:
            form.add_service_error(err)
        else:
            label = handoffs.reason_labels().get(handoff.send_back_reason, "")
            return _answered(request, person, handoff, f"Sent {person} back to marketing: {label}.")
    context = {
        "person": person,
        "handoff": open_one,
        "form": form,
        "next": _back(request, person),
        "can_respond": handoffs.may_respond(user, person),
    }
    if _is_htmx(request) and request.method == "POST":
        # htmx swaps only 2xx answers: the form comes back in place with its errors.
        return render(request, "routing/_send_back_form.html", context)
    return render(request, "routing/send_back.html", context, status=400 if form.errors else 200)
