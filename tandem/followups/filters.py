"""The one filter of the task list: the Tasks page, the cards and the API share it.

"Today" is the viewer's day: the site's time zone (TANDEM_TIME_ZONE, as every page
shows times), from its midnight to the next. The three `due` values split the open
tasks with no overlap, as the Tasks page groups them:

- overdue: the due time has passed;
- today: due later today;
- upcoming: due after today, or with no due time.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from pydantic import Field

from tandem.accounts.models import User
from tandem.followups.models import TaskKind, TaskStatus
from tandem.people.filters import QueryFilter
from tandem.people.models import Company, Person

Due = Literal["today", "overdue", "upcoming"]
BIGINT_MAX = 2**63 - 1


def today_bounds(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The start of the viewer's today and of their tomorrow, as aware times.

    Combined with the zone itself (not now + 24 h), so a day with a daylight-saving
    change is 23 or 25 hours long, as on the wall clock.
    """
    tz = timezone.get_current_timezone()
    today = timezone.localtime(now or timezone.now(), tz).date()
    start = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def due_ranges(now: dt.datetime) -> dict[str, Q]:
    """The dated part of each `due` value at `now` (upcoming also takes undated tasks)."""
    _, tomorrow = today_bounds(now)
    return {
        "overdue": Q(due_at__lt=now),
        "today": Q(due_at__gte=now, due_at__lt=tomorrow),
        "upcoming": Q(due_at__gte=tomorrow),
    }


def due_condition(due: str, now: dt.datetime) -> Q:
    """Open tasks overdue, due later today, or upcoming (after today or undated) at `now`."""
    ranges = due_ranges(now)
    if due not in ranges:
        raise ValidationError({"due": "Use today, overdue or upcoming."})
    dated = ranges[due] | Q(due_at__isnull=True) if due == "upcoming" else ranges[due]
    return Q(status=TaskStatus.OPEN) & dated


def is_overdue(*, status: str, due_at: dt.datetime | None, now: dt.datetime) -> bool:
    return status == TaskStatus.OPEN and due_at is not None and due_at < now


def owner_condition(owner: str, viewer: User | None) -> Q:
    """`me`, `none` (unowned), a user id or a user name; an unknown one is a 422 naming owner."""
    ref = owner.strip()
    if ref.lower() == "me":
        if viewer is None:
            raise ValidationError({"owner": "'me' needs a signed-in user."})
        return Q(owner_id=viewer.pk)
    if ref.lower() == "none":
        return Q(owner__isnull=True)
    if ref.isascii() and ref.isdigit():
        if len(ref) < 19 and User.objects.filter(pk=int(ref)).exists():
            return Q(owner_id=int(ref))
    elif User.objects.filter(username=ref).exists():
        return Q(owner__username=ref)
    raise ValidationError({"owner": f"There is no user {ref!r}."})


class TaskFilter(QueryFilter):
    owner: str | None = Field(
        None,
        max_length=150,
        description="`me`, a user id or user name, or `none` for unowned tasks",
    )
    status: TaskStatus | None = Field(None, description="open, done or cancelled")
    kind: TaskKind | None = Field(None, description="call, email, meeting or todo")
    person: int | None = Field(None, ge=1, le=BIGINT_MAX, description="Person id")
    company: int | None = Field(
        None, ge=1, le=BIGINT_MAX, description="Company id: tasks about it or about its people"
    )
    due: Due | None = Field(
        None,
        description=(
            "Open tasks only, in the site's time zone: `overdue` (due time passed), "
            "`today` (due later today), `upcoming` (after today, or no due time)"
        ),
    )

    @property
    def is_filtered(self) -> bool:
        return any([self.owner, self.status, self.kind, self.person, self.company, self.due])

    def apply(self, qs: QuerySet, *, viewer: User | None, now: dt.datetime) -> QuerySet:
        if self.owner and self.owner.strip():
            qs = qs.filter(owner_condition(self.owner, viewer))
        if self.status:
            qs = qs.filter(status=self.status)
        if self.kind:
            qs = qs.filter(kind=self.kind)
        if self.person:
            if not Person.objects.filter(pk=self.person).exists():
                raise ValidationError({"person": f"There is no person {self.person}."})
            qs = qs.filter(person_id=self.person)
        if self.company:
            if not Company.objects.filter(pk=self.company).exists():
                raise ValidationError({"company": f"There is no company {self.company}."})
            qs = qs.filter(Q(company_id=self.company) | Q(person__company_id=self.company))
        if self.due:
            qs = qs.filter(due_condition(self.due, now))
        return qs
