"""Who acts: a signed-in user, an API token (with its user), or the system."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tandem.accounts.models import ApiToken, User


@dataclass(frozen=True)
class Actor:
    user: User | None
    token: ApiToken | None = None
    system_label: str = ""

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(user=user)

    @classmethod
    def for_token(cls, token: ApiToken) -> Actor:
        return cls(user=token.user, token=token)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(user=None, system_label=label)

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def can_write(self) -> bool:
        """Read-only tokens never write, whatever their user's role."""
        from tandem.accounts.models import TokenScope

        return self.token is None or self.token.scope == TokenScope.READ_WRITE

    @property
    def label(self) -> str:
        if self.user is None:
            return self.system_label or "system"
        # The name people know a colleague by (as the pages show it), the login name
        # when none is set; a token's writes say which token.
        name = self.user.get_full_name() or self.user.username
        if self.token is not None:
            return f"{name} (API token “{self.token.name}”)"
        return name
