"""Users, teams and API tokens: admin-only writes, each audited."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tandem.accounts.actor import Actor
from tandem.accounts.models import ApiToken, Role, Team, TokenScope, User
from tandem.accounts.permissions import require
from tandem.core.audit import diff, record_audit, snapshot

USER_AUDITED = ("username", "first_name", "last_name", "email", "role", "team", "is_active")
TOKEN_PREFIX = "tdm_"  # noqa: S105 (a label, not a secret)


USER_FIELDS = {"first_name", "last_name", "email", "role", "team", "is_active"}


def _clean_user_data(data: dict[str, Any], *, user_pk: int | None = None) -> dict[str, Any]:
    """Check the fields an admin may set; an email belongs to one user only.

    Password reset goes by email, so two users sharing one address would both
    get a link; we refuse that up front.
    """
    unknown = set(data) - USER_FIELDS
    if unknown:
        raise ValidationError(f"Unknown user fields: {', '.join(sorted(unknown))}.")
    out = dict(data)
    if "role" in out and out["role"] not in Role.values:
        raise ValidationError({"role": f"Use one of: {', '.join(Role.values)}."})
    if "team" in out and out["team"] is not None and not isinstance(out["team"], Team):
        raise ValidationError({"team": "Must be a team."})
    for name in ("first_name", "last_name"):
        if name in out:
            out[name] = (out[name] or "").strip()[:150]
    if "email" in out:
        email = (out["email"] or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise ValidationError({"email": "Enter a valid email address."}) from None
            taken = User.objects.filter(email__iexact=email).exclude(
                pk__in=[user_pk] if user_pk is not None else []
            )
            if taken.exists():
                raise ValidationError({"email": f"Another user already has {email}."})
        out["email"] = email
    if "is_active" in out:
        out["is_active"] = bool(out["is_active"])
    return out


def create_user(*, actor: Actor, username: str, password: str | None, data: dict[str, Any]) -> User:
    require(actor, "accounts.manage_users")
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": "Choose a user name."})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"{username!r} is taken."})
    if len(username) > 150 or not re.fullmatch(r"[\w.@+-]+", username):
        raise ValidationError(
            {"username": "Use at most 150 letters, digits and @ . + - _ (no spaces)."}
        )
    fields = _clean_user_data(data)
    user = User(username=username, **fields)
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user.save()
        record_audit(
            actor=actor,
            event="created",
            target=user,
            changes=diff({}, snapshot(user, USER_AUDITED)),
        )
    return user


def update_user(*, actor: Actor, user: User, data: dict[str, Any]) -> User:
    require(actor, "accounts.manage_users", user)
    fields = _clean_user_data(data, user_pk=user.pk)
    if actor.user is not None and actor.user.pk == user.pk:
        if fields.get("role", user.role) != Role.ADMIN or fields.get("is_active", True) is False:
            raise ValidationError({"role": "You cannot remove your own admin rights."})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = snapshot(user, USER_AUDITED)
        for name, value in fields.items():
            setattr(user, name, value)
        changes = diff(before, snapshot(user, USER_AUDITED))
        if changes:
            user.save()
            record_audit(actor=actor, event="changed", target=user, changes=changes)
    return user


def create_team(*, actor: Actor, name: str, description: str = "") -> Team:
    require(actor, "accounts.manage_teams")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the team a name."})
    if len(name) > 100:
        raise ValidationError({"name": "Use at most 100 characters."})
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"There is already a team {name!r}."})
    with transaction.atomic():
        team = Team.objects.create(name=name, description=(description or "").strip()[:300])
        record_audit(actor=actor, event="created", target=team, changes={"name": [None, name]})
    return team


RESET_SUBJECT_TEMPLATE = "accounts/password_reset_subject.txt"
RESET_EMAIL_TEMPLATE = "accounts/password_reset_email.txt"


def send_password_reset(
    *, actor: Actor, user: User, domain: str, use_https: bool, invited: bool = False
) -> None:
    """Email `user` a link to set a new password (the same link as the public reset form).

    Used when an admin creates a user without a password (`invited`) or helps
    one who is locked out. The link works once and expires after
    PASSWORD_RESET_TIMEOUT; sending is synchronous so the admin sees a failure.
    """
    require(actor, "accounts.manage_users", user)
    if not user.email:
        raise ValidationError({"email": "Add an email address to send the reset link to."})
    if not user.is_active:
        raise ValidationError({"is_active": "The user is deactivated: activate them first."})
    context = {
        "email": user.email,
        "domain": domain,
        "site_name": "Tandem",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": "https" if use_https else "http",
        "invited": invited,
    }
    PasswordResetForm().send_mail(
        RESET_SUBJECT_TEMPLATE, RESET_EMAIL_TEMPLATE, context, None, user.email
    )
    record_audit(
        actor=actor,
        event="invited" if invited else "password_reset_sent",
        target=user,
        changes={"email": [None, user.email]},
    )


def rename_team(*, actor: Actor, team: Team, name: str, description: str | None = None) -> Team:
    require(actor, "accounts.manage_teams")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the team a name."})
    if len(name) > 100:
        raise ValidationError({"name": "Use at most 100 characters."})
    if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
        raise ValidationError({"name": f"There is already a team {name!r}."})
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        before = snapshot(team, ("name", "description"))
        team.name = name
        if description is not None:
            team.description = description.strip()[:300]
        changes = diff(before, snapshot(team, ("name", "description")))
        if changes:
            team.save(update_fields=["name", "description"])
            record_audit(actor=actor, event="changed", target=team, changes=changes)
    return team


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    *, actor: Actor, user: User, name: str, scope: str = TokenScope.READ_WRITE
) -> tuple[ApiToken, str]:
    """Make a token for `user`; the plain value is returned once and never stored."""
    require(actor, "accounts.manage_tokens")
    name = (name or "").strip() or "API token"
    if not user.is_active:
        raise ValidationError({"user": f"{user.username} is deactivated: activate them first."})
    if scope not in TokenScope.values:
        raise ValidationError({"scope": f"Use one of: {', '.join(TokenScope.values)}."})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=raw[:12],
            digest=hash_token(raw),
            scope=scope,
            created_by=actor.user,
        )
        record_audit(
            actor=actor, event="token_created", target=user, changes={"token": [None, token.name]}
        )
    return token, raw


def revoke_token(*, actor: Actor, token: ApiToken) -> ApiToken:
    require(actor, "accounts.manage_tokens")
    with transaction.atomic():
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        ):
            token.refresh_from_db()
            record_audit(
                actor=actor,
                event="token_revoked",
                target=token.user,
                changes={"token": [token.name, None]},
            )
    return token


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token for `raw`, its last use noted at most once a minute."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
