"""Reads for the admin pages: users, teams, roles, custom fields, tokens and audit trails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from tandem.accounts.models import ApiToken, Role, Team, User
from tandem.accounts.permissions import ACTION_LABELS, ACTIONS, describe_access
from tandem.core.audit import audit_for

ACCESS_LABELS = {"all": "All", "own_or_unowned": "Own or unowned", "own": "Own only", "no": "No"}


def users_for_admin() -> QuerySet[User]:
    return User.objects.select_related("team").order_by("username")


def teams_with_member_counts() -> QuerySet[Team]:
    return Team.objects.annotate(
        member_count=Count("members"),
        active_count=Count("members", filter=Q(members__is_active=True)),
    ).order_by("name")


def tokens_for_admin() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("user", "created_by").order_by("-created_at", "-id")


@dataclass(frozen=True)
class AccessCell:
    role_label: str
    access: str  # "all", "own_or_unowned", "own" or "no"
    label: str


@dataclass(frozen=True)
class ActionRow:
    action: str
    label: str
    cells: list[AccessCell]


def _words(action: str) -> str:
    """ "imports.run" → "Imports: run", for an action that has no label yet."""
    area, _, verb = action.partition(".")
    return f"{area.capitalize()}: {verb.replace('_', ' ')}"


def role_matrix() -> list[ActionRow]:
    """What each role may do, one row per action, straight from accounts/permissions.py."""
    known = [a for a in ACTION_LABELS if a in ACTIONS]
    rows = []
    for action in known + sorted(set(ACTIONS) - set(known)):
        cells = []
        for role in Role:
            access = describe_access(role.value, action)
            cells.append(
                AccessCell(role_label=role.label, access=access, label=ACCESS_LABELS[access])
            )
        rows.append(
            ActionRow(action=action, label=ACTION_LABELS.get(action) or _words(action), cells=cells)
        )
    return rows


def users_grouped_by_role() -> list[tuple[str, str, list[User]]]:
    users = list(users_for_admin())
    return [(role.value, role.label, [u for u in users if u.role == role.value]) for role in Role]


@dataclass(frozen=True)
class AuditLine:
    at: Any
    actor_label: str
    event: str
    changes: list[tuple[str, str, str]]  # field, from, to — ready to show


def _shown(name: str, value: Any, names: dict[str, dict[Any, str]]) -> str:
    if value is None or value == "":
        return "—"
    if name in names:
        return names[name].get(value, f"#{value}")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def audit_trail(target: Any, limit: int = 50) -> list[AuditLine]:
    """The audit events of a user, team or custom field, with ids shown as names."""
    events = audit_for(target, limit=limit)
    names: dict[str, dict[Any, str]] = {
        "role": dict(Role.choices),
        "team": dict(Team.objects.values_list("pk", "name")),
    }
    return [
        AuditLine(
            at=event.at,
            actor_label=event.actor_label,
            event=event.event.replace("_", " "),
            changes=[
                (field.replace("_", " "), _shown(field, old, names), _shown(field, new, names))
                for field, (old, new) in (event.changes or {}).items()
            ],
        )
        for event in events
    ]


def owner_by_ref(ref: int | str | None) -> User | None:
    """The user an API's `owner` field names, by id or user name; None for none given.

    ValidationError naming `owner` when nobody has that id or name (an id past 64 bits
    names nobody rather than overflowing).
    """
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        return None
    if isinstance(ref, int) or (ref.strip().isascii() and ref.strip().isdigit()):
        user = User.objects.filter(pk=int(ref)).first() if int(ref) < 2**63 else None
    else:
        user = User.objects.filter(username=ref.strip()).first()
    if user is None:
        raise ValidationError({"owner": f"There is no user {ref!r}."})
    return user
