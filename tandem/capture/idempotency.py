"""`Idempotency-Key`: a client may retry a write and it happens once (STYLE.md, API).

The same user, endpoint (scope) and key with the same body get the stored
status and body back and nothing new is written; the same key with another
body is refused (422 on the header), since the client has mixed two requests up.

Race safety: the record is inserted *first*, inside the transaction that does
the write, under the unique (user, scope, key) constraint. A concurrent
request with the same key blocks on that insert (PostgreSQL waits on the
uncommitted row; SQLite takes its write lock at BEGIN IMMEDIATE) and then
finds the finished record, so the write never runs twice. A write that fails
rolls back its record too, so a corrected retry with the same key runs.

Any endpoint that clients retry can use `run_once` with its own scope.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import HeaderEx, P

from tandem.accounts.models import User
from tandem.capture.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
# Printable ASCII without spaces at either end (a header's value can carry no more).
KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"


KEY_HELP = (
    "Makes retries safe: the same key and body return the first response and write nothing "
    "new; the same key with another body is a 422."
)
# The header as an API operation's parameter: `idempotency_key: KeyHeader = None`.
KeyHeader = HeaderEx[
    str | None,
    P(alias=HEADER, description=KEY_HELP, max_length=MAX_KEY_LENGTH, pattern=KEY_PATTERN),
]


class IdempotencyError(Exception):
    """The key is unusable or was used for another request; the API answers `status`."""

    def __init__(self, message: str, *, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status

    def body(self) -> dict[str, Any]:
        """In the shape of ninja's validation errors, located on the header."""
        return {"detail": [{"loc": ["header", HEADER], "msg": self.message, "type": "value_error"}]}


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool = False


def request_hash(body: Any) -> str:
    """SHA-256 of the body as canonical JSON: key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def clean_key(raw: str | None) -> str | None:
    """The key as sent, or None when there is none; refuses an unusable one."""
    if raw is None:
        return None
    key = raw.strip()
    if not key:
        raise IdempotencyError(f"{HEADER} is empty: send a unique value or leave the header out.")
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyError(f"{HEADER} is at most {MAX_KEY_LENGTH} characters.")
    if not key.isprintable():
        raise IdempotencyError(f"{HEADER} must be printable text (a UUID is a good choice).")
    return key


def run_once(
    *,
    user: User,
    scope: str,
    key: str | None,
    body: Any,
    write: Callable[[], tuple[int, Any]],
) -> Outcome:
    """Run `write` (returning status and a JSON-ready body) at most once per key.

    Without a key `write` simply runs. Exceptions from `write` propagate and
    leave no record behind.
    """
    if key is None:
        with transaction.atomic():
            status, response = write()
        return Outcome(status, response)
    digest = request_hash(body)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, scope=scope, key=key, request_hash=digest
                )
        except IntegrityError:
            return _replay(user=user, scope=scope, key=key, digest=digest)
        status, response = write()
        record.status_code, record.response = status, response
        record.save(update_fields=["status_code", "response"])
    return Outcome(status, response)


def respond_once(
    request: HttpRequest,
    *,
    user: User,
    scope: str,
    key: str | None,
    write: Callable[[], tuple[int, Any]],
) -> JsonResponse:
    """`run_once` for an API operation: the request's JSON body is what the key stands for;
    a replay is marked `Idempotent-Replayed: true`, an unusable key answered on the header."""
    try:
        outcome = run_once(
            user=user,
            scope=scope,
            key=clean_key(key),
            body=json.loads(request.body or b"{}"),
            write=write,
        )
    except IdempotencyError as err:
        return JsonResponse(err.body(), status=err.status)
    response = JsonResponse(outcome.body, status=outcome.status)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _replay(*, user: User, scope: str, key: str, digest: str) -> Outcome:
    record = IdempotencyRecord.objects.get(user=user, scope=scope, key=key)
    if record.request_hash != digest:
        raise IdempotencyError(
            f"This {HEADER} was used for a request with another body. "
            "Use a new key for a new request."
        )
    if record.status_code is None:  # only if a write committed mid-way; not expected
        raise IdempotencyError(
            f"The request with this {HEADER} is still being processed; retry shortly.",
            status=409,
        )
    return Outcome(record.status_code, record.response, replayed=True)


def forget_records(*, older_than: dt.timedelta) -> int:
    """Delete stored responses past their use (for a periodic clean-up); returns how many."""
    cutoff = timezone.now() - older_than
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
