"""Who may do what: the role × action matrix, checked on the server.

Everyone inside the company sees every person and company (the knowledge is
the company's). A salesperson changes the people and companies they own or
that nobody owns; marketers, managers and admins change all of them; only
admins manage users, teams, roles, custom fields and tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, User

# Actions any signed-in member may take on any record.
_EVERYONE = {
    "people.view",
    "people.create",
    "people.log_activity",
    "companies.view",
    "companies.create",
    "companies.log_activity",
}
# Marketing's tools: campaigns and forms.
_MARKETING = {
    "campaigns.manage",
    "capture.manage_forms",
    "imports.run",
    "people.export",
    "scoring.manage_rules",
}
# On one person: all for these roles; a salesperson only for the people they own
# (scores advise, people decide: the owner knows the lead best).
_OWNER_ONLY = {"scoring.override"}
# Actions on one record: all for these roles, own-or-unowned for salespeople.
_RECORD_EDIT = {
    "people.edit",
    "people.change_stage",
    "people.delete",
    "companies.edit",
    "companies.delete",
    "people.merge",
}
_ADMIN_ONLY = {
    "people.restore",
    "people.erase",
    "companies.restore",
    "accounts.manage_users",
    "accounts.manage_teams",
    "accounts.manage_tokens",
    "people.manage_custom_fields",
}
# Predictive scoring (issue 19): marketers and managers read the model's figures; only an
# admin trains one, or decides which version (if any) feeds the MQL decision.
_MARKETING |= {"scoring.view_model"}
_ADMIN_ONLY |= {"scoring.train_model", "scoring.activate_model"}
# Hand-off, SLAs and tasks (issue 20).
# Sales management: routing rules, SLA policies and business hours, and the untouched-leads
# view over everyone's leads are for managers and admins.
_SALES_MANAGEMENT = {"routing.manage_rules", "sla.manage", "routing.view_untouched"}
# Reports both teams read (principle 7: one set of numbers): SLA and send-back reports.
_MARKETING |= {"sla.view_report", "routing.view_send_backs"}
_ADMIN_ONLY |= {"routing.manage_reasons"}
# Accepting or sending back a lead: its owner, the owner's team manager, or an admin.
_HANDOFF = {"routing.respond"}
_EVERYONE |= {"tasks.view", "tasks.create"}
# A task: its owner, or anyone who may edit all records (a salesperson edits their own and
# unowned tasks, as with people).
_RECORD_EDIT |= {"tasks.edit"}
# Revenue (issue 21). Everyone sees deals, attribution and the funnel (principle 7: both
# teams look at the same numbers). Salespeople, managers and admins open deals; a
# salesperson edits, moves and closes only the deals they own, managers and admins all of
# them; marketers read. Pipelines and won/lost reasons are sales management's.
_EVERYONE |= {"deals.view", "reports.view"}
_DEAL_CREATE = {"deals.create"}
_DEAL_EDIT = {"deals.edit", "deals.close", "deals.delete"}
_SALES_MANAGEMENT |= {"deals.manage_pipelines", "deals.manage_reasons"}
_EDIT_ALL_ROLES = {Role.ADMIN, Role.MANAGER, Role.MARKETER}
_DEAL_ROLES = {Role.ADMIN, Role.MANAGER, Role.SALESPERSON}
_MANAGING_ROLES = {Role.ADMIN, Role.MANAGER}
_READ_ACTIONS = {
    "people.view",
    "companies.view",
    "scoring.view_model",
    "tasks.view",
    "sla.view_report",
    "routing.view_untouched",
    "routing.view_send_backs",
    "deals.view",
    "reports.view",
}
ACTIONS = sorted(
    _EVERYONE
    | _RECORD_EDIT
    | _ADMIN_ONLY
    | _MARKETING
    | _OWNER_ONLY
    | _SALES_MANAGEMENT
    | _HANDOFF
    | _DEAL_CREATE
    | _DEAL_EDIT
)
# How the admin's roles page names each action (in this order): words, not codes.
ACTION_LABELS = {
    "people.view": "See people",
    "people.create": "Add people",
    "people.log_activity": "Log calls, meetings and notes on people",
    "people.edit": "Edit people",
    "people.change_stage": "Change a person's stage",
    "people.merge": "Merge duplicate people",
    "people.delete": "Delete people",
    "people.restore": "Restore deleted people",
    "people.erase": "Erase people for good",
    "people.export": "Export people to CSV",
    "people.manage_custom_fields": "Manage custom fields",
    "companies.view": "See companies",
    "companies.create": "Add companies",
    "companies.log_activity": "Log calls, meetings and notes on companies",
    "companies.edit": "Edit companies",
    "companies.delete": "Delete companies",
    "companies.restore": "Restore deleted companies",
    "accounts.manage_users": "Manage users and roles",
    "accounts.manage_teams": "Manage teams",
    "accounts.manage_tokens": "Manage API tokens",
    "campaigns.manage": "Manage campaigns",
    "capture.manage_forms": "Manage web forms",
    "imports.run": "Import people and companies",
    "scoring.manage_rules": "Write and activate scoring rules",
    "scoring.override": "Override a person's score, grade or lead status",
    "scoring.view_model": "See the predictive model's figures",
    "scoring.train_model": "Train a predictive model",
    "scoring.activate_model": "Switch a predictive model in or out of the MQL decision",
    "routing.manage_rules": "Write and order routing rules",
    "routing.manage_reasons": "Edit the list of send-back reasons",
    "routing.view_untouched": "See every team's untouched leads",
    "routing.view_send_backs": "See send-back reasons by campaign and source",
    "routing.respond": "Accept a lead or send it back",
    "sla.manage": "Set SLAs and business hours",
    "sla.view_report": "See the SLA report",
    "tasks.view": "See tasks",
    "tasks.create": "Add tasks",
    "tasks.edit": "Edit and complete tasks",
    "deals.view": "See deals and pipelines",
    "deals.create": "Open deals",
    "deals.edit": "Edit deals and move them between stages",
    "deals.close": "Close deals won or lost",
    "deals.delete": "Delete deals",
    "deals.manage_pipelines": "Set up pipelines and their stages",
    "deals.manage_reasons": "Edit the lists of won and lost reasons",
    "reports.view": "See the funnel, attribution and campaign revenue",
}


def _user_can(user: User, action: str, obj: Any = None) -> bool:
    if not user.is_active:
        return False
    role = Role.ADMIN if user.is_superuser else user.role
    if action in _EVERYONE:
        return True
    if action in _ADMIN_ONLY:
        return role == Role.ADMIN
    if action in _MARKETING:
        return role in _EDIT_ALL_ROLES
    if action in _SALES_MANAGEMENT:
        return role in _MANAGING_ROLES
    if action in _HANDOFF:
        # On a person: its owner; a manager for the people their team's members own.
        if role == Role.ADMIN or obj is None:
            return True
        owner_id = getattr(obj, "owner_id", None)
        if owner_id is not None and owner_id == user.pk:
            return True
        if role == Role.MANAGER and user.team_id is not None and owner_id is not None:
            return User.objects.filter(pk=owner_id, team_id=user.team_id).exists()
        return False
    if action in _DEAL_CREATE:
        return role in _DEAL_ROLES
    if action in _DEAL_EDIT:
        # A deal: all for managers and admins; its owner among salespeople; marketers none.
        if role in _MANAGING_ROLES:
            return True
        if role != Role.SALESPERSON:
            return False
        if obj is None:  # "may edit some deals", e.g. to show a button
            return True
        return getattr(obj, "owner_id", None) == user.pk
    if action in _OWNER_ONLY:
        if role in _EDIT_ALL_ROLES:
            return True
        if obj is None:  # "may do it for some people", e.g. to show a form
            return True
        return getattr(obj, "owner_id", None) == user.pk
    if action in _RECORD_EDIT:
        if role in _EDIT_ALL_ROLES:
            return True
        if obj is None:  # "may edit some records", e.g. to show a form
            return True
        owner_id = getattr(obj, "owner_id", None)
        return owner_id is None or owner_id == user.pk
    raise ValueError(f"unknown action {action!r}")


def can(who: Actor | User | None, action: str, obj: Any = None) -> bool:
    if who is None:
        return False
    if isinstance(who, Actor):
        if who.is_system:
            return True
        if action not in _READ_ACTIONS and not who.can_write:
            return False
        assert who.user is not None
        return _user_can(who.user, action, obj)
    if not getattr(who, "is_authenticated", False):
        return False
    return _user_can(who, action, obj)


def require(who: Actor | User | None, action: str, obj: Any = None) -> None:
    if not can(who, action, obj):
        raise PermissionDenied(f"Not allowed: {action}")


ViewFunc = Callable[..., HttpResponseBase]


def page_requires(action: str | None) -> Callable[[ViewFunc], ViewFunc]:
    """Log-in, then `action` (403 otherwise); `None` lets any signed-in member in.

    The view keeps the action as `required_action`, and the main menu reads it
    (accounts/context_processors.py): a link is shown only to those this check lets in.
    """

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if action is not None:
                require(cast(User, request.user), action)
            return view(request, *args, **kwargs)

        checked = login_required(wrapped)
        checked.required_action = action  # type: ignore[attr-defined]
        return checked

    return decorator


class _OwnedBySomeoneElse:
    """A stand-in record owned by a user who is never the one asking."""

    owner_id = -1


def describe_access(role: str, action: str) -> str:
    """How far `role` may take `action`: "all", "own_or_unowned", "own" or "no".

    Read-only, for the admin's roles page: it asks `_user_can` itself, so the
    page cannot drift from the rules enforced above.
    """
    probe = User(role=role, is_active=True)
    if _user_can(probe, action, _OwnedBySomeoneElse()):
        return "all"
    if _user_can(probe, action, None):
        return "own" if action in _OWNER_ONLY | _DEAL_EDIT else "own_or_unowned"
    return "no"
