"""Who am I, and who can own a row: the user lookups an API client needs."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, P, QueryEx, Router, Schema

from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, User

router = Router(tags=["users"])


class TeamRef(Schema):
    id: int
    name: str


class TokenInfo(Schema):
    name: str
    prefix: str
    scope: str


class MeOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    team: TeamRef | None
    token: TokenInfo | None = Field(description="The token this request came with, if any.")


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    role: str


class UserList(Schema):
    items: list[UserOut]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, Any]:
    """The user (and token) this request acts as."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    user = actor.user
    assert user is not None
    return {
        "id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "team": user.team,
        "token": actor.token,
    }


@router.get("/users", response=UserList)
def list_users(
    request: HttpRequest,
    q: QueryEx[
        str | None, P(max_length=150, pattern=r"^[^\x00]*$", description="User name or prefix")
    ] = None,
    role: Role | None = None,
) -> dict[str, Any]:
    """Active users, for picking an owner by id or user name."""
    users = User.objects.filter(is_active=True).order_by("username")
    if q and q.strip():
        term = q.strip()
        users = users.filter(
            Q(username__istartswith=term)
            | Q(first_name__istartswith=term)
            | Q(last_name__istartswith=term)
        )
    if role:
        users = users.filter(role=role)
    return {"items": list(users)}
