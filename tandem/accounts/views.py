"""Log in and out, password reset, and the admin pages (users, teams, roles,
custom fields, API tokens).

Every admin page checks its action through accounts/permissions.py on the server:
anonymous visitors go to the login page, signed-in non-admins get 403.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from tandem.accounts import queries
from tandem.accounts.forms import (
    LoginForm,
    RoleChangeForm,
    TandemPasswordResetForm,
    TeamForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
)
from tandem.accounts.models import ApiToken, Role, Team, User
from tandem.accounts.pages import render_admin, request_actor
from tandem.accounts.permissions import page_requires
from tandem.accounts.services import (
    RESET_EMAIL_TEMPLATE,
    RESET_SUBJECT_TEMPLATE,
    create_team,
    create_token,
    create_user,
    rename_team,
    revoke_token,
    send_password_reset,
    update_user,
)
from tandem.core import ratelimit
from tandem.core.http import client_ip

log = logging.getLogger(__name__)

LOGIN_WINDOW_SECONDS = 300


# --- Log in, log out, password reset --------------------------------------------


def _username_key(username: str) -> str:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:40]
    return f"login:user:{digest}"


def _ip_key(request: HttpRequest) -> str:
    return f"login:ip:{client_ip(request)}"


def _login_keys(request: HttpRequest, username: str) -> list[str]:
    return [_ip_key(request), _username_key(username)]


def _wait_text(seconds: int) -> str:
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class TandemLoginView(auth_views.LoginView):
    """Django's login, with failed attempts limited per IP address and per user name.

    Each try is counted before the password is checked, in the same statement
    that reads the count (an UPSERT ... RETURNING, atomic on SQLite and
    PostgreSQL): a burst of parallel tries gets at most the limit of password
    checks, never a few more between a read and a write (issue 17, point 5).
    Over the limit the password is not even checked (so guessing gains
    nothing), and the answer is 429 with Retry-After. A successful login gives
    back the IP's count for this try and clears the user name's; the IP count
    runs out with its window.
    """

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limit = settings.TANDEM_LOGIN_RATE
        keys = _login_keys(request, request.POST.get("username", ""))
        results = ratelimit.hit_many(
            [(key, limit) for key in keys], window_seconds=LOGIN_WINDOW_SECONDS
        )
        blocked = [r for r in results if not r.allowed]
        if blocked:
            retry_after = max(r.retry_after for r in blocked)
            form = self.get_form_class()(
                request, initial={"username": request.POST.get("username", "")}
            )
            response = self.render_to_response(
                self.get_context_data(
                    form=form,
                    rate_limited=(
                        "Too many failed log-in attempts. Wait "
                        f"{_wait_text(retry_after)} and try again, or reset your password."
                    ),
                ),
                status=429,
            )
            response["Retry-After"] = str(retry_after)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        ratelimit.refund(_ip_key(self.request), window_seconds=LOGIN_WINDOW_SECONDS)
        ratelimit.clear(_username_key(form.get_user().get_username()))
        ratelimit.clear(_username_key(self.request.POST.get("username", "")))
        return super().form_valid(form)


class TandemPasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by email. Limited per IP: each request sends an email."""

    template_name = "accounts/password_reset_form.html"
    form_class = TandemPasswordResetForm
    email_template_name = RESET_EMAIL_TEMPLATE
    subject_template_name = RESET_SUBJECT_TEMPLATE
    success_url = reverse_lazy("password_reset_done")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "label_suffix": ""}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        result = ratelimit.hit(
            f"pwreset:ip:{client_ip(request)}",
            limit=settings.TANDEM_LOGIN_RATE,
            window_seconds=LOGIN_WINDOW_SECONDS,
        )
        if not result.allowed:
            response = self.render_to_response(
                self.get_context_data(
                    rate_limited=(
                        "Too many reset requests from here. Wait "
                        f"{_wait_text(result.retry_after)} and try again."
                    )
                ),
                status=429,
            )
            response["Retry-After"] = str(result.retry_after)
            return response
        return super().post(request, *args, **kwargs)


class TandemPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class TandemPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password from the emailed link; doing so lifts a login lock on the name."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "label_suffix": ""}

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        ratelimit.clear(_username_key(form.user.get_username()))
        return response


class TandemPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- Admin pages ------------------------------------------------------------------------

ViewFunc = Callable[..., HttpResponseBase]


def admin_page(action: str) -> Callable[[ViewFunc], ViewFunc]:
    """Log-in required, then `action` checked through accounts/permissions.py (403 otherwise)."""
    return page_requires(action)


def _email_link(request: HttpRequest, user: User, *, invited: bool) -> bool:
    """Send the set-password link; a failure is shown to the admin, not raised."""
    try:
        send_password_reset(
            actor=request_actor(request),
            user=user,
            domain=request.get_host(),
            use_https=request.is_secure(),
            invited=invited,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    except OSError as exc:  # smtplib errors are OSErrors too
        log.warning("password reset email to user %s failed: %s", user.pk, exc)
        messages.error(request, f"The email to {user.email} could not be sent: {exc}")
        return False
    messages.success(request, f"Sent a password-reset email to {user.email}.")
    return True


# Users


@admin_page("accounts.manage_users")
def user_list(request: HttpRequest) -> HttpResponse:
    return render_admin(
        request, "accounts/users.html", {"users": queries.users_for_admin()}, section="users"
    )


@admin_page("accounts.manage_users")
def user_new(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = create_user(
                actor=request_actor(request),
                username=data["username"],
                password=data["password"] or None,
                data={k: data[k] for k in ("first_name", "last_name", "email", "role", "team")},
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Added {user.username}.")
            if data["send_reset"]:
                _email_link(request, user, invited=True)
            return redirect("accounts:user_edit", pk=user.pk)
    status = 400 if form.errors else 200
    return render_admin(
        request, "accounts/user_new.html", {"form": form}, section="users", status=status
    )


@admin_page("accounts.manage_users")
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(User, pk=pk)
    initial = {
        "first_name": subject.first_name,
        "last_name": subject.last_name,
        "email": subject.email,
        "role": subject.role,
        "team": subject.team_id,
        "is_active": subject.is_active,
    }
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            update_user(actor=request_actor(request), user=subject, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Saved {subject.username}.")
            return redirect("accounts:user_edit", pk=subject.pk)
    context = {
        "subject": subject,
        "form": form,
        "audit": queries.audit_trail(subject),
        "tokens": subject.api_tokens.order_by("-created_at"),
    }
    status = 400 if form.errors else 200
    return render_admin(request, "accounts/user_edit.html", context, section="users", status=status)


@require_POST
@admin_page("accounts.manage_users")
def user_send_reset(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(User, pk=pk)
    _email_link(request, subject, invited=False)
    return redirect("accounts:user_edit", pk=subject.pk)


# Teams


@admin_page("accounts.manage_teams")
def team_list(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = create_team(actor=request_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Added the team {team.name}.")
            return redirect("accounts:teams")
    context = {"teams": queries.teams_with_member_counts(), "form": form}
    status = 400 if form.errors else 200
    return render_admin(request, "accounts/teams.html", context, section="teams", status=status)


@admin_page("accounts.manage_teams")
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk)
    form = TeamForm(
        request.POST or None, initial={"name": team.name, "description": team.description}
    )
    if request.method == "POST" and form.is_valid():
        try:
            rename_team(actor=request_actor(request), team=team, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Saved the team {form.cleaned_data['name']}.")
            return redirect("accounts:teams")
    context = {
        "team": team,
        "form": form,
        "members": team.members.order_by("username"),
        "audit": queries.audit_trail(team),
    }
    status = 400 if form.errors else 200
    return render_admin(request, "accounts/team_edit.html", context, section="teams", status=status)


# Roles


@admin_page("accounts.manage_users")
def role_list(request: HttpRequest) -> HttpResponse:
    error: dict[str, Any] = {}
    if request.method == "POST":
        form = RoleChangeForm(request.POST)
        if form.is_valid():
            subject = form.cleaned_data["user"]
            try:
                update_user(
                    actor=request_actor(request),
                    user=subject,
                    data={"role": form.cleaned_data["role"]},
                )
            except ValidationError as exc:
                error = {
                    "user_id": subject.pk,
                    "role": form.cleaned_data["role"],
                    "message": " ".join(exc.messages),
                }
            else:
                subject.refresh_from_db()
                messages.success(
                    request, f"{subject.username} is now {subject.get_role_display().lower()}."
                )
                return redirect("accounts:roles")
        else:
            raw_id = request.POST.get("user", "")
            error = {
                "user_id": int(raw_id) if raw_id.isdigit() else None,
                "role": request.POST.get("role", ""),
                "message": " ".join(str(m) for ms in form.errors.values() for m in ms),
            }
            if error["user_id"] is None:
                messages.error(request, error["message"])
    context = {
        "roles": queries.users_grouped_by_role(),
        "role_choices": Role.choices,
        "matrix": queries.role_matrix(),
        "error": error,
    }
    return render_admin(
        request, "accounts/roles.html", context, section="roles", status=400 if error else 200
    )


# API tokens


@admin_page("accounts.manage_tokens")
def token_list(request: HttpRequest) -> HttpResponse:
    return render_admin(
        request, "accounts/tokens.html", {"tokens": queries.tokens_for_admin()}, section="tokens"
    )


@admin_page("accounts.manage_tokens")
def token_new(request: HttpRequest) -> HttpResponse:
    initial = {"user": request.GET.get("user")} if request.GET.get("user") else {}
    form = TokenForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = create_token(actor=request_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            # The one and only time the plain token is shown: answer the POST itself
            # (no redirect to a page that could show it again) and keep it out of caches.
            response = render_admin(
                request,
                "accounts/token_created.html",
                {"token": token, "raw": raw},
                section="tokens",
            )
            response["Cache-Control"] = "no-store"
            return response
    status = 400 if form.errors else 200
    return render_admin(
        request, "accounts/token_new.html", {"form": form}, section="tokens", status=status
    )


@require_POST
@admin_page("accounts.manage_tokens")
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk)
    was_active = token.is_active
    revoke_token(actor=request_actor(request), token=token)
    if was_active:
        messages.success(request, f"Revoked {token.name} ({token.user.username}).")
    else:
        messages.info(request, f"{token.name} was already revoked.")
    next_url = request.POST.get("next")
    if next_url == "user":
        return redirect("accounts:user_edit", pk=token.user_id)
    return redirect(reverse("accounts:tokens"))
