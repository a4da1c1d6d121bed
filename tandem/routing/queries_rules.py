"""Routing's reads: the rules in order and in words, who is away and how full, and the
routing card of a person (the person page and the person API's `routed_by` & co.)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone

from tandem.accounts.models import User
from tandem.people.models import Person
from tandem.routing.models import Handoff, OutOfOffice, RoutingRule, RuleKind, SalesCapacity


def rules() -> QuerySet[RoutingRule]:
    return RoutingRule.objects.select_related("team", "user").order_by("position", "id")


def describe(rule: RoutingRule) -> str:
    """The rule in words: what it matches, then whom it gives the lead to."""
    parts: list[str] = []
    if rule.kind == RuleKind.TERRITORY:
        if rule.countries:
            parts.append("country " + ", ".join(rule.countries))
        if rule.regions:
            parts.append("region " + ", ".join(rule.regions))
        if rule.postcode_ranges:
            parts.append(
                "postcode "
                + ", ".join(f"{lo}–{hi}" if lo != hi else lo for lo, hi in rule.postcode_ranges)
            )
    elif rule.kind == RuleKind.SEGMENT:
        if rule.industries:
            parts.append("industry " + ", ".join(rule.industries))
        if rule.company_sizes:
            parts.append("size " + ", ".join(rule.company_sizes))
        if rule.custom_field:
            parts.append(f"{rule.custom_field} is " + " or ".join(rule.custom_values))
    matched = "; ".join(parts) if parts else "any lead"
    if rule.kind == RuleKind.NAMED_ACCOUNTS:
        return "Leads of a company with an owner → the company's owner"
    if rule.user_id is not None:
        target = f"{rule.user}"
        if rule.kind == RuleKind.FALLBACK and rule.team_id is not None:
            target += f" (else team {rule.team}'s queue)"
    elif rule.kind == RuleKind.FALLBACK:
        target = f"team {rule.team}'s queue (no owner yet)"
    else:
        target = f"team {rule.team}, in turn"
    return f"{matched[:1].upper()}{matched[1:]} → {target}"


@dataclass(frozen=True)
class Availability:
    user: User
    max_open_handoffs: int | None
    open_handoffs: int
    away: list[OutOfOffice]
    is_away_today: bool


def availability() -> list[Availability]:
    """Every active user with their capacity, open hand-offs and out-of-office days to come."""
    today = timezone.localdate()
    users = list(User.objects.filter(is_active=True).select_related("team").order_by("username"))
    limits = dict(SalesCapacity.objects.values_list("user_id", "max_open_handoffs"))
    open_counts = dict(
        Handoff.objects.filter(is_current=True, status="open", owner__isnull=False)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    away: dict[int, list[OutOfOffice]] = {}
    for row in OutOfOffice.objects.filter(ends_on__gte=today).order_by("starts_on"):
        away.setdefault(row.user_id, []).append(row)
    return [
        Availability(
            user=u,
            max_open_handoffs=limits.get(u.pk),
            open_handoffs=open_counts.get(u.pk, 0),
            away=away.get(u.pk, []),
            is_away_today=any(a.starts_on <= today <= a.ends_on for a in away.get(u.pk, [])),
        )
        for u in users
    ]


@dataclass(frozen=True)
class RoutingCard:
    """A person's current hand-off, as the person page and API show it."""

    owner: str
    team: str
    routed_by: str
    routed_at: dt.datetime
    reason: str
    sla_due_at: dt.datetime | None
    first_contact_at: dt.datetime | None
    status: str

    @property
    def sentence(self) -> str:
        return f"Routed to {self.owner or self.team or 'nobody yet'} by rule {self.routed_by}"


def person_routing(person: Person) -> RoutingCard | None:
    handoff = (
        Handoff.objects.filter(person_id=person.pk, is_current=True)
        .select_related("owner", "team")
        .first()
    )
    if handoff is None:
        return None
    return RoutingCard(
        owner=str(handoff.owner) if handoff.owner else "",
        team=str(handoff.team) if handoff.team else "",
        routed_by=handoff.routed_by,
        routed_at=handoff.routed_at,
        reason=handoff.reason,
        sla_due_at=handoff.due_at,
        first_contact_at=handoff.first_contact_at,
        status=handoff.get_status_display(),
    )
