"""Users, teams and API tokens: admin-only writes, each audited."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tandem.accounts.models import ApiToken, Role, Team, TokenScope, User
from tandem.core.actor import Actor
from tandem.core.audit import diff, record_audit, snapshot
from tandem.core.permissions import require

USER_AUDITED = ("username", "first_name", "last_name", "email", "role", "team", "is_active")
TOKEN_PREFIX = "tdm_"  # noqa: S105 (a label, not a secret)


def _clean_user_data(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    if "role" in out and out["role"] not in Role.values:
        raise ValidationError({"role": f"Use one of: {', '.join(Role.values)}."})
    if "team" in out and out["team"] is not None and not isinstance(out["team"], Team):
        raise ValidationError({"team": "Must be a team."})
    return out


def create_user(*, actor: Actor, username: str, password: str | None, data: dict[str, Any]) -> User:
    require(actor, "accounts.manage_users")
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": "Choose a user name."})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"{username!r} is taken."})
    fields = _clean_user_data(data)
    user = User(username=username, **fields)
    if password:
        validate_password(password, user)
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
    fields = _clean_user_data(data)
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
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"There is already a team {name!r}."})
    with transaction.atomic():
        team = Team.objects.create(name=name, description=(description or "").strip())
        record_audit(actor=actor, event="created", target=team, changes={"name": [None, name]})
    return team


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    *, actor: Actor, user: User, name: str, scope: str = TokenScope.READ_WRITE
) -> tuple[ApiToken, str]:
    """Make a token for `user`; the plain value is returned once and never stored."""
    require(actor, "accounts.manage_tokens")
    name = (name or "").strip() or "API token"
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
