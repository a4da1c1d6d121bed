"""The duplicates pages: the review queue, the merge screen, and the merge history with undo.

Every view checks `people.merge` on the server (accounts/permissions.py): marketers,
managers and admins may merge any pair; a salesperson the pairs of people they
own or nobody owns. Every write goes through dedup/services.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, page_requires, require
from tandem.core.pagination import Page
from tandem.dedup import services
from tandem.dedup.models import CandidateStatus, DuplicateCandidate, Merge
from tandem.dedup.queries import merge_preview, merges_page, pair_people, queue_page
from tandem.people.models import Person

PAGE_SIZE = 25


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "login_required runs first"
    return user


def _person_url(person_id: int) -> str:
    try:
        return reverse("people:detail", args=[person_id])
    except NoReverseMatch:
        return f"/people/{person_id}/"


def _next_url(request: HttpRequest, page: Page) -> str:
    if not page.next_cursor:
        return ""
    params = request.GET.copy()
    params["cursor"] = page.next_cursor
    return "?" + params.urlencode()


def _messages_of(err: ValidationError) -> dict[str, str]:
    if hasattr(err, "error_dict"):
        return {k: " ".join(v) for k, v in err.message_dict.items()}
    return {"": " ".join(err.messages)}


def _page(request: HttpRequest, load: Any) -> tuple[Page | None, str]:
    try:
        return load(cursor=request.GET.get("cursor") or None), ""
    except ValidationError as err:
        return None, " ".join(_messages_of(err).values())


# --- queue -----------------------------------------------------------------------------


@page_requires("people.merge")
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page, error = _page(
        request, lambda cursor: queue_page(viewer=user, limit=PAGE_SIZE, cursor=cursor)
    )
    rows = []
    for candidate in page.items if page else []:
        rows.append(
            {
                "candidate": candidate,
                "people": [
                    {"person": p, "url": _person_url(p.pk)}
                    for p in (candidate.person_a, candidate.person_b)
                ],
                "percent": round(candidate.score * 100),
            }
        )
    return render(
        request,
        "dedup/queue.html",
        {
            "page": page,
            "rows": rows,
            "next_url": _next_url(request, page) if page else "",
            "is_deep": bool(request.GET.get("cursor")),
            "error": error,
            "threshold": round(services.duplicate_threshold() * 100),
        },
        status=400 if error else 200,
    )


# --- merge screen -------------------------------------------------------------------------


def _open_candidate(pk: int) -> DuplicateCandidate:
    candidate = get_object_or_404(DuplicateCandidate, pk=pk)
    if candidate.status != CandidateStatus.OPEN:
        raise Http404("This pair was already resolved.")
    return candidate


def _sides(candidate: DuplicateCandidate, keep: str | None) -> tuple[Person, Person]:
    """(survivor, merged): the older record survives unless the reviewer keeps the other."""
    a, b = pair_people(candidate)
    if keep and keep.isdigit() and int(keep) == b.pk:
        return b, a
    return a, b


def _check_pair(user: User, survivor: Person, merged: Person) -> None:
    require(user, "people.merge", survivor)
    require(user, "people.merge", merged)


def _render_review(
    request: HttpRequest,
    candidate: DuplicateCandidate,
    survivor: Person,
    merged: Person,
    *,
    picked: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    preview = merge_preview(survivor, merged, picked=picked, errors=errors)
    field_names = {row.name for row in preview.rows if row.is_choice}
    general = " ".join(v for k, v in (errors or {}).items() if k not in field_names)
    merged_label, survivor_label = str(merged), str(survivor)
    if merged_label == survivor_label:  # namesakes: the title tells them apart
        merged_label = f"{merged_label} ({merged.email or f'#{merged.pk}'})"
        survivor_label = f"{survivor_label} ({survivor.email or f'#{survivor.pk}'})"
    return render(
        request,
        "dedup/review.html",
        {
            "candidate": candidate,
            "preview": preview,
            "survivor_url": _person_url(survivor.pk),
            "merged_url": _person_url(merged.pk),
            "swap_url": f"{reverse('dedup:review', args=[candidate.pk])}?keep={merged.pk}",
            "general_error": general,
            "percent": round(candidate.score * 100),
            "merged_label": merged_label,
            "survivor_label": survivor_label,
        },
        status=status,
    )


@login_required
@require_GET
def review(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    candidate = _open_candidate(pk)
    survivor, merged = _sides(candidate, request.GET.get("keep"))
    _check_pair(user, survivor, merged)
    if survivor.deleted_at or merged.deleted_at:
        raise Http404("One of these people was deleted or merged.")
    return _render_review(request, candidate, survivor, merged)


@login_required
@require_POST
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    candidate = _open_candidate(pk)
    survivor, merged = _sides(candidate, request.POST.get("survivor"))
    _check_pair(user, survivor, merged)
    picked: dict[str, str] = {
        name: str(request.POST.get(name, ""))
        for name in request.POST
        if name in services.MERGE_FIELDS or name.startswith(services.CUSTOM_PREFIX)
    }
    try:
        services.merge_people(
            actor=Actor.for_user(user), survivor=survivor, merged=merged, choices=picked
        )
    except ValidationError as err:
        return _render_review(
            request,
            candidate,
            survivor,
            merged,
            picked=picked,
            errors=_messages_of(err),
            status=400,
        )
    messages.success(
        request, f"Merged {merged} into {survivor}. You can undo it from the merge history."
    )
    return redirect(_person_url(survivor.pk))


@login_required
@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    candidate = get_object_or_404(DuplicateCandidate, pk=pk)
    try:
        services.dismiss_candidate(actor=Actor.for_user(user), candidate=candidate)
    except ValidationError as err:
        messages.error(request, " ".join(_messages_of(err).values()))
    else:
        a, b = pair_people(candidate)
        messages.success(request, f"Marked {a} and {b} as not duplicates.")
    return redirect("dedup:queue")


# --- history --------------------------------------------------------------------------------


@login_required
@require_GET
def merges(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require(user, "people.merge")
    page, error = _page(request, lambda cursor: merges_page(limit=PAGE_SIZE, cursor=cursor))
    rows = []
    for item in page.items if page else []:
        rows.append(
            {
                "merge": item,
                "survivor_url": _person_url(item.survivor_id),
                "can_undo": item.undone_at is None
                and can(user, "people.merge", item.survivor)
                and can(user, "people.merge", item.merged),
            }
        )
    return render(
        request,
        "dedup/merges.html",
        {
            "page": page,
            "rows": rows,
            "next_url": _next_url(request, page) if page else "",
            "is_deep": bool(request.GET.get("cursor")),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = get_object_or_404(Merge.objects.select_related("survivor", "merged"), pk=pk)
    if not (can(user, "people.merge", item.survivor) and can(user, "people.merge", item.merged)):
        raise PermissionDenied("Not allowed: people.merge")
    try:
        services.unmerge(actor=Actor.for_user(user), merge=item)
    except ValidationError as err:
        messages.error(request, " ".join(_messages_of(err).values()))
    else:
        messages.success(
            request, f"Undid the merge: {item.merged} and {item.survivor} are apart again."
        )
    return redirect("dedup:merges")
