"""The bell's pages: the list, opening one (read, then off to what it is about), the count
fragment HTMX polls, and the email preferences. Every signed-in user has their own; nobody
opens another's (404)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import page_requires
from tandem.notifications import queries, services
from tandem.notifications.context_processors import POLL
from tandem.notifications.forms import EmailPreferencesForm
from tandem.notifications.models import NotificationKind

PAGE_SIZE = 25


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(_user(request))


def _bell(user: User) -> dict[str, Any]:
    count = services.unread_count(user)
    return {
        "template": "notifications/_bell.html",
        "url": reverse("notifications:list"),
        "count_url": reverse("notifications:bell"),
        "trigger": POLL,
        "count": count,
        "count_text": "99+" if count > 99 else str(count),
    }


@page_requires(None)
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first, unread marked; `?unread=1` for only those."""
    unread = request.GET.get("unread") == "1"
    cursor = request.GET.get("cursor") or None
    try:
        page = queries.notifications_page(
            viewer=_user(request), unread=unread, limit=PAGE_SIZE, cursor=cursor
        )
    except ValidationError:  # a cursor from another list or tampered: start at the top
        return redirect(reverse("notifications:list") + ("?unread=1" if unread else ""))
    base = {"unread": "1"} if unread else {}
    next_url = (
        reverse("notifications:list") + "?" + urlencode({**base, "cursor": page.next_cursor})
        if page.next_cursor
        else ""
    )
    bell = _bell(_user(request))
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "items": [
                {"n": n, "kind": NotificationKind(n.kind).label, "is_unread": n.read_at is None}
                for n in page.items
            ],
            "unread_only": unread,
            "unread_total": bell["count"],
            "notification_bell": bell,  # counted here already: no need to wait for HTMX
            "next_url": next_url,
            "first_url": request.path + ("?unread=1" if unread else "") if cursor else "",
        },
    )


@page_requires(None)
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark it read and go where it points, only ever a path inside Tandem (the list
    otherwise). A GET, as it is the link in the email too."""
    notification = queries.notification_for(_user(request), pk)
    services.mark_read(actor=_actor(request), notification=notification)
    if notification.url and services.is_local_path(notification.url):
        return redirect(notification.url)
    return redirect("notifications:list")


@page_requires(None)
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read without leaving the list."""
    notification = queries.notification_for(_user(request), pk)
    services.mark_read(actor=_actor(request), notification=notification)
    return redirect("notifications:list")


@page_requires(None)
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    marked = services.mark_all_read(actor=_actor(request))
    messages.success(request, f"Marked {marked} read." if marked else "Nothing was unread.")
    return redirect("notifications:list")


@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's count, for HTMX to swap in. Signed out (a session that ended while
    the page stayed open): 204, so HTMX leaves the page alone instead of swapping the log-in
    page into the header."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    response = render(request, "notifications/_bell_count.html", {"bell": _bell(_user(request))})
    response["Cache-Control"] = "no-store"
    return response


@page_requires(None)
def email_settings(request: HttpRequest) -> HttpResponse:
    """Which kinds of news also come by email."""
    user = _user(request)
    form = EmailPreferencesForm(
        request.POST or None, initial={"kinds": sorted(services.emailed_kinds(user))}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_email_preferences(
                actor=_actor(request), user=user, kinds=form.cleaned_data["kinds"]
            )
        except ValidationError as err:
            form.add_error(None, err)
        else:
            messages.success(request, "Email preferences saved.")
            return redirect("notifications:settings")
    return render(
        request,
        "notifications/settings.html",
        {"form": form, "email": user.email},
    )
