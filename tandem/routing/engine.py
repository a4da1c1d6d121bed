"""Assignment: which human gets each lead, set-based (issue 20, point 2).

`route_people` reads the leads, the active rules, the teams, who is away and who is
full in a handful of queries, decides in memory (the first active rule, by position,
that matches a lead and finds someone available), then writes the hand-offs, the
owners (through people's set-based service), the audit events and the rules'
round-robin pointers with one statement per table. Routing 10k MQLs stays in
seconds on SQLite and PostgreSQL (bench/routing.py).

Round-robin: a team's active members in id order, starting after the member the
rule gave its last lead; a member who is out of office on the routing day, or who
holds `max_open_hand-offs` open hand-offs already, is passed over. A rule that finds
nobody available does not match: the next rule is tried, down to the fallback. A
lead no rule takes still gets a hand-off (no owner, no team: "No rule matched"), so
the untouched-leads view shows it: nobody loses a lead silently (principle 5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.campaigns.models import Touchpoint, TouchpointKind
from tandem.core.bulk import insert_new
from tandem.core.models import AuditEvent
from tandem.followups.services import create_task
from tandem.notifications.services import notify
from tandem.people.bulk import assign_owners_bulk, person_label
from tandem.people.models import Person
from tandem.routing.models import (
    Handoff,
    HandoffStatus,
    OutOfOffice,
    RoutingRule,
    RuleKind,
    SalesCapacity,
)
from tandem.sla.services import Clock, start_clock

NO_RULE = "No rule matched"
CHUNK = 5000  # ids per IN (...) list
TELL_BATCH = 1000  # hand-offs told per background task
# Leads met in person get a contact task due by their SLA (J4: every booth lead not sold).
TASK_KINDS = frozenset({TouchpointKind.BOOTH_SCAN.value, TouchpointKind.STORE_VISIT.value})


@dataclass
class Lead:
    """What rules read of one person (and their company)."""

    pk: int
    name: str
    country: str
    region: str
    postcode: str
    source: str
    custom_fields: dict[str, Any]
    company_owner_id: int | None
    industry: str
    company_size: str
    company_custom_fields: dict[str, Any]
    touchpoint_kind: str


@dataclass
class Pool:
    """Who can take leads right now: members by team, away today, room left."""

    team_of: dict[int, int | None]  # active user id -> team id
    members: dict[int, list[int]]  # team id -> active member ids, in id order
    away: set[int]
    room: dict[int, int]  # user id -> open hand-offs they may still take (absent: no limit)

    def available(self, user_id: int | None, *, mind_capacity: bool = True) -> bool:
        if user_id is None or user_id not in self.team_of or user_id in self.away:
            return False
        return not mind_capacity or self.room.get(user_id, 1) > 0

    def take(self, user_id: int) -> None:
        if user_id in self.room:
            self.room[user_id] -= 1


@dataclass
class Decision:
    rule: RoutingRule | None
    owner_id: int | None
    team_id: int | None

    @property
    def routed_by(self) -> str:
        return self.rule.name if self.rule is not None else NO_RULE


@dataclass
class Routed:
    handoffs: list[Handoff] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.handoffs)


# --- matching ------------------------------------------------------------------------------


def _fold(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value if value is not None else "").strip().casefold()


def postcode_in(postcode: str, ranges: list[list[str]]) -> bool:
    """`postcode` within one of the ranges, compared as text without spaces: "10000"-"19999"
    holds 10115; a range of prefixes ("SW1"-"SW9") holds "SW1A 1AA"."""
    code = postcode.replace(" ", "").upper()
    if not code:
        return False
    for low, high in ranges:
        low, high = low.replace(" ", "").upper(), high.replace(" ", "").upper()
        if code >= low and code[: len(high)] <= high:
            return True
    return False


def matches(rule: RoutingRule, lead: Lead) -> bool:
    """Whether the lead is one the rule is about (not yet whether someone can take it)."""
    if rule.kind == RuleKind.TERRITORY:
        if rule.countries and lead.country.upper() not in {c.upper() for c in rule.countries}:
            return False
        if rule.regions and _fold(lead.region) not in {_fold(r) for r in rule.regions}:
            return False
        return not rule.postcode_ranges or postcode_in(lead.postcode, rule.postcode_ranges)
    if rule.kind == RuleKind.SEGMENT:
        if rule.industries and _fold(lead.industry) not in {_fold(i) for i in rule.industries}:
            return False
        if rule.company_sizes and lead.company_size not in rule.company_sizes:
            return False
        if rule.custom_field:
            key = rule.custom_field
            value = lead.custom_fields.get(key, lead.company_custom_fields.get(key))
            if value in (None, "") or _fold(value) not in {_fold(v) for v in rule.custom_values}:
                return False
        return True
    if rule.kind == RuleKind.NAMED_ACCOUNTS:
        return lead.company_owner_id is not None
    return True  # round-robin and fallback take any lead


def _next_in_turn(rule: RoutingRule, pool: Pool, pointers: dict[int, int | None]) -> int | None:
    """The team member after the rule's last one who is in and has room (round-robin)."""
    members = pool.members.get(rule.team_id or 0, [])
    if not members:
        return None
    last = pointers.get(rule.pk)
    start = 0
    if last is not None:
        start = next((i for i, uid in enumerate(members) if uid > last), 0)
    for step in range(len(members)):
        uid = members[(start + step) % len(members)]
        if pool.available(uid):
            pointers[rule.pk] = uid
            return uid
    return None


def decide(
    lead: Lead,
    rules: list[RoutingRule],
    pool: Pool,
    pointers: dict,
    skip: int | None = None,
) -> Decision:
    """The first rule that matches and finds someone available; `skip`: a user who must
    not get this lead (the owner whose SLA it breached), as if away for it."""
    if skip is None or skip in pool.away:
        return _decide(lead, rules, pool, pointers)
    pool.away.add(skip)
    try:
        return _decide(lead, rules, pool, pointers)
    finally:
        pool.away.discard(skip)


def _decide(lead: Lead, rules: list[RoutingRule], pool: Pool, pointers: dict) -> Decision:
    for rule in rules:
        if not matches(rule, lead):
            continue
        if rule.kind == RuleKind.NAMED_ACCOUNTS:
            # The account's leads are its owner's, full or not; away, the next rule decides.
            owner = lead.company_owner_id
            if pool.available(owner, mind_capacity=False):
                return Decision(rule, owner, pool.team_of.get(owner or 0))
            continue
        if rule.user_id is not None:
            mind = rule.kind != RuleKind.FALLBACK  # the last resort takes the lead anyway
            if pool.available(rule.user_id, mind_capacity=mind):
                pool.take(rule.user_id)
                return Decision(rule, rule.user_id, rule.team_id or pool.team_of[rule.user_id])
            if rule.team_id is None:
                continue  # the user is away: the next rule decides
        if rule.team_id is not None:
            if rule.kind == RuleKind.FALLBACK:
                return Decision(rule, None, rule.team_id)  # the team's queue: no owner yet
            uid = _next_in_turn(rule, pool, pointers)
            if uid is not None:
                pool.take(uid)
                return Decision(rule, uid, rule.team_id)
    return Decision(None, None, None)


# --- reading -------------------------------------------------------------------------------


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def load_leads(person_ids: list[int]) -> list[Lead]:
    latest_kind = Subquery(
        Touchpoint.objects.filter(person_id=OuterRef("pk"))
        .order_by("-occurred_at", "-id")
        .values("kind")[:1]
    )
    leads = []
    for part in _chunks(person_ids):
        rows = (
            Person.objects.filter(pk__in=part, deleted_at__isnull=True)
            .annotate(latest_kind=latest_kind)
            .order_by("pk")
            .values_list(
                "pk",
                "first_name",
                "last_name",
                "email",
                "country",
                "region",
                "postcode",
                "source",
                "custom_fields",
                "company__owner_id",
                "company__industry",
                "company__size",
                "company__custom_fields",
                "latest_kind",
            )
        )
        for r in rows:
            leads.append(
                Lead(
                    pk=r[0],
                    name=person_label(r[0], r[1], r[2], r[3]),
                    country=r[4],
                    region=r[5],
                    postcode=r[6],
                    source=r[7],
                    custom_fields=r[8] or {},
                    company_owner_id=r[9],
                    industry=r[10] or "",
                    company_size=r[11] or "",
                    company_custom_fields=r[12] or {},
                    touchpoint_kind=r[13] or "",
                )
            )
    return leads


def load_pool(day: dt.date) -> Pool:
    team_of: dict[int, int | None] = {}
    members: dict[int, list[int]] = {}
    for uid, team_id in (
        User.objects.filter(is_active=True).order_by("pk").values_list("pk", "team_id")
    ):
        team_of[uid] = team_id
        if team_id is not None:
            members.setdefault(team_id, []).append(uid)
    away = set(
        OutOfOffice.objects.filter(starts_on__lte=day, ends_on__gte=day).values_list(
            "user_id", flat=True
        )
    )
    limits = dict(
        SalesCapacity.objects.filter(max_open_handoffs__isnull=False).values_list(
            "user_id", "max_open_handoffs"
        )
    )
    room = {uid: int(limit) for uid, limit in limits.items() if limit is not None}
    if room:
        for uid, count in (
            Handoff.objects.filter(owner_id__in=list(room), is_current=True, status="open")
            .order_by()
            .values("owner_id")
            .annotate(n=Count("id"))
            .values_list("owner_id", "n")
        ):
            room[uid] -= count
    return Pool(team_of=team_of, members=members, away=away, room=room)


# --- writing -------------------------------------------------------------------------------


def route_people(
    *,
    actor: Actor,
    person_ids: Iterable[int],
    reasons: dict[int, str],
    now: dt.datetime | None = None,
    skip_owners: dict[int, int] | None = None,
) -> Routed:
    """Give each live person a hand-off (owner or team queue, the rule, the SLA clock),
    set their owner, and tell the owner (and, for booth and store leads, add a call task)
    after the commit. The caller decides who is routed (MQL: `mql.qualify`)."""
    now = now or timezone.now()
    ids = sorted({int(i) for i in person_ids})
    routed = Routed()
    if not ids:
        return routed
    with transaction.atomic():
        rules = list(
            RoutingRule.objects.select_for_update()
            .filter(is_active=True)
            .order_by("position", "id")
        )
        leads = load_leads(ids)
        pool = load_pool(timezone.localdate(now))
        pointers: dict[int, int | None] = {r.pk: r.last_assigned_id for r in rules}
        clocks: dict[tuple[int | None, str, str], Clock] = {}
        decisions: list[tuple[Lead, Decision, Clock]] = []
        for lead in leads:
            decision = decide(lead, rules, pool, pointers, (skip_owners or {}).get(lead.pk))
            key = (decision.team_id, lead.source, lead.touchpoint_kind)
            if key not in clocks:
                clocks[key] = start_clock(
                    team_id=decision.team_id,
                    source=lead.source,
                    touchpoint_kind=lead.touchpoint_kind,
                    start=now,
                )
            decisions.append((lead, decision, clocks[key]))
        live = [lead.pk for lead, _, _ in decisions]
        for part in _chunks(live):
            current = Handoff.objects.filter(person_id__in=part, is_current=True)
            current.filter(status=HandoffStatus.OPEN).update(
                is_current=False, status=HandoffStatus.REASSIGNED
            )
            current.update(is_current=False)
        routed.handoffs = [
            Handoff(
                person_id=lead.pk,
                owner_id=d.owner_id,
                team_id=d.team_id,
                is_current=True,
                reason=(reasons.get(lead.pk) or "")[:300],
                rule_id=d.rule.pk if d.rule is not None else None,
                routed_by=d.routed_by[:200],
                routed_at=now,
                sla_policy_id=clock.policy_id,
                sla_name=clock.policy_name[:100],
                due_at=clock.due_at,
                remind_at=clock.remind_at,
                reassign_on_breach=clock.reassign_on_breach,
                status=HandoffStatus.OPEN,
            )
            for lead, d, clock in decisions
        ]
        insert_new(routed.handoffs)
        assign_owners_bulk(actor=actor, owners={lead.pk: d.owner_id for lead, d, _ in decisions})
        insert_new(
            AuditEvent(
                actor=actor.user,
                actor_label=actor.label[:150],
                event="routed",
                target_type=Person._meta.label_lower,
                target_id=lead.pk,
                target_repr=lead.name[:200],
                changes={
                    "routed_by": [None, d.routed_by],
                    "rule": [None, d.rule.pk if d.rule is not None else None],
                    "owner": [None, d.owner_id],
                    "team": [None, d.team_id],
                },
            )
            for lead, d, _ in decisions
        )
        for rule in rules:
            if pointers.get(rule.pk) != rule.last_assigned_id:
                RoutingRule.objects.filter(pk=rule.pk).update(last_assigned_id=pointers[rule.pk])
        handoff_ids = [h.pk for h in routed.handoffs]
        transaction.on_commit(partial(enqueue_telling, handoff_ids))
    return routed


def reassign_breached(handoff_ids: list[int], actor: Actor | None = None) -> Routed:
    """Hand on leads whose SLA breached and says to reassign (escalation's hook): routed
    again by the rules, never to the owner who let it breach; the breached hand-off is
    kept as `reassigned`."""
    rows = list(
        Handoff.objects.filter(
            pk__in=handoff_ids, is_current=True, first_contact_at__isnull=True
        ).values_list("person_id", "owner_id", "owner__username")
    )
    if not rows:
        return Routed()
    return route_people(
        actor=actor or Actor.system("routing"),
        person_ids=[person for person, _, _ in rows],
        reasons={
            person: f"SLA breached by {name or 'the team queue'}: reassigned"
            for person, _, name in rows
        },
        skip_owners={person: owner for person, owner, _ in rows if owner is not None},
    )


def enqueue_telling(handoff_ids: list[int]) -> None:
    """The notices and tasks of new hand-offs, in the worker, TELL_BATCH at a time."""
    from tandem.routing.tasks_routing import tell_owners as tell_task

    for start in range(0, len(handoff_ids), TELL_BATCH):
        tell_task.enqueue(handoff_ids=handoff_ids[start : start + TELL_BATCH])


def tell_owners(handoff_ids: list[int], actor: Actor | None = None) -> int:
    """A notification per hand-off to its owner (a queue's: the team's members), and a call
    task for booth and store leads. Both are keyed, so a retry adds none; one transaction
    for them all (one commit, not one per notice). Returns how many hand-offs were told.

    Runs in the worker (tasks_routing.tell_owners, enqueued on routing's commit), so a
    batch of 10k is routed in seconds and the fan-out follows.
    """
    actor = actor or Actor.system("routing")
    handoffs = list(Handoff.objects.filter(pk__in=handoff_ids, is_current=True).order_by("pk"))
    if not handoffs:
        return 0
    leads = {lead.pk: lead for lead in load_leads([h.person_id for h in handoffs])}
    teams = {h.team_id for h in handoffs if h.owner_id is None and h.team_id is not None}
    members: dict[int, list[int]] = {}
    for uid, team_id in User.objects.filter(team_id__in=teams, is_active=True).values_list(
        "pk", "team_id"
    ):
        members.setdefault(team_id, []).append(uid)
    with transaction.atomic():
        for handoff in handoffs:
            lead = leads.get(handoff.person_id)
            if lead is not None:
                _tell(actor, lead, handoff, members)
    return len(handoffs)


def _tell(actor: Actor, lead: Lead, handoff: Handoff, members: dict[int, list[int]]) -> None:
    users = (
        [handoff.owner_id]
        if handoff.owner_id is not None
        else members.get(handoff.team_id or 0, [])
    )
    # In the site's time zone, named, so a reader in another zone is not misled.
    due = f", due {timezone.localtime(handoff.due_at):%d %b %H:%M %Z}" if handoff.due_at else ""
    notify(
        users,
        kind="handoff",
        title=f"New lead: {lead.name}{due}",
        body=f"Routed by {handoff.routed_by}. {handoff.reason}".strip(),
        key=f"handoff:{handoff.pk}",
        url=reverse("people:detail", args=[lead.pk]),
    )
    if lead.touchpoint_kind in TASK_KINDS:
        create_task(
            actor,
            kind="call",
            title=f"Call {lead.name}"[:200],
            owner=User(pk=handoff.owner_id) if handoff.owner_id else None,
            due_at=handoff.due_at,
            person=Person(pk=lead.pk),
            key=f"handoff-task:{handoff.pk}",
        )
