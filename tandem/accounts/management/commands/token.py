"""`tandem token create|list|revoke`: API tokens from the command line, acting as the system."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.accounts.actor import Actor
from tandem.accounts.models import ApiToken, TokenScope, User
from tandem.accounts.queries import tokens_for_admin
from tandem.accounts.services import create_token, revoke_token


def _find_user(name: str) -> User:
    user = User.objects.filter(username=name).first()
    if user is None:
        matches = list(User.objects.filter(username__iexact=name)[:2])
        user = matches[0] if len(matches) == 1 else None
    if user is None:
        raise CommandError(f"No user named {name!r}.")
    return user


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "Make, list and revoke API tokens. `create` prints the new token once, alone on stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = sub.add_parser("create", help="Make a token and print it (only the token).")
        create.add_argument("--user", required=True, help="User name the token acts as.")
        create.add_argument("--name", default="API token", help="A label: what it is for.")
        create.add_argument(
            "--scope",
            choices=TokenScope.values,
            default=TokenScope.READ_WRITE,
            help="read or read_write (default).",
        )
        listing = sub.add_parser("list", help="List tokens (never their values).")
        listing.add_argument("--user", help="Only this user's tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id (see `token list`).")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("cli")
        action = options["action"]
        if action == "create":
            user = _find_user(options["user"])
            try:
                token, raw = create_token(
                    actor=actor, user=user, name=options["name"], scope=options["scope"]
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            self.stdout.write(raw)
            self.stderr.write(
                f"Token {token.pk} ({token.name}, {token.scope}) for {user.username}. "
                "Copy it now: it is not shown again."
            )
        elif action == "list":
            tokens = tokens_for_admin()
            if options.get("user"):
                tokens = tokens.filter(user=_find_user(options["user"]))
            header = f"{'id':>5}  {'user':<16} {'name':<24} {'prefix':<13} {'scope':<10} {'created':<16} {'last used':<16} revoked"
            self.stdout.write(header)
            for t in tokens:
                self.stdout.write(
                    f"{t.pk:>5}  {t.user.username[:16]:<16} {t.name[:24]:<24} {t.prefix:<13} "
                    f"{t.scope:<10} {_when(t.created_at):<16} {_when(t.last_used_at):<16} "
                    f"{_when(t.revoked_at)}"
                )
        elif action == "revoke":
            found = ApiToken.objects.select_related("user").filter(pk=options["id"]).first()
            if found is None:
                raise CommandError(f"No token with id {options['id']}.")
            token = found
            if not token.is_active:
                self.stdout.write(f"Token {token.pk} ({token.name}) was already revoked.")
                return
            revoke_token(actor=actor, token=token)
            self.stdout.write(f"Revoked token {token.pk} ({token.name}) of {token.user.username}.")
