"""Rule sets and rules: drafts are edited, then activated (audited; everyone is rescored)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.campaigns.models import Campaign
from tandem.core.audit import record_audit, snapshot
from tandem.people.models import Person
from tandem.scoring import engine, tasks
from tandem.scoring.conditions import clean_engagement, clean_fit
from tandem.scoring.models import Rule, RuleKind, RuleSet, RuleSetStatus

RULE_FIELDS = (
    "kind", "label", "points", "position", "field", "operator", "value", "source",
    "touchpoint_kind", "campaign", "form_id", "page_contains", "activity_kind",
    "half_life_days", "max_points",
)  # fmt: skip
_AUDITED_RULE_FIELDS = tuple(f for f in RULE_FIELDS)
# Up to this many people, activating rescores them right after the commit; more go
# to a background rescore (tandem worker), so the page answers at once.
INLINE_RESCORE_PEOPLE = 20_000


def _draft(rule_set: RuleSet) -> None:
    if rule_set.status != RuleSetStatus.DRAFT:
        raise ValidationError(
            {
                "rule_set": f"Version {rule_set.version} is {rule_set.status}: copy it to a new draft to change it."
            }
        )


def create_rule_set(
    *,
    actor: Actor,
    name: str = "",
    copy_from: RuleSet | None = None,
    mql_threshold: int | None = None,
) -> RuleSet:
    """A new draft version, empty or a copy of `copy_from` (usually the active set)."""
    require(actor, "scoring.manage_rules")
    threshold = (
        mql_threshold
        if mql_threshold is not None
        else (copy_from.mql_threshold if copy_from else 50)
    )
    if threshold < 0:
        raise ValidationError({"mql_threshold": "At least 0."})
    with transaction.atomic():
        top = RuleSet.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
        rule_set = RuleSet.objects.create(
            version=top + 1,
            name=(name or "").strip()[:200] or (copy_from.name if copy_from else ""),
            mql_threshold=threshold,
            created_by=actor.user,
        )
        if copy_from is not None:
            Rule.objects.bulk_create(
                Rule(rule_set=rule_set, **{f: getattr(r, f) for f in RULE_FIELDS})
                for r in copy_from.rules.all()
            )
        record_audit(
            actor=actor,
            event="created",
            target=rule_set,
            changes={
                "version": [None, rule_set.version],
                "copied_from": [None, copy_from.version if copy_from else None],
            },
        )
    return rule_set


def update_rule_set(*, actor: Actor, rule_set: RuleSet, data: dict[str, Any]) -> RuleSet:
    require(actor, "scoring.manage_rules")
    _draft(rule_set)
    unknown = set(data) - {"name", "mql_threshold", "notes"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This cannot be changed here."})
    if "mql_threshold" in data and (
        data["mql_threshold"] is None or int(data["mql_threshold"]) < 0
    ):
        raise ValidationError({"mql_threshold": "At least 0."})
    with transaction.atomic():
        before = snapshot(rule_set, data)
        for name, value in data.items():
            setattr(rule_set, name, value.strip() if isinstance(value, str) else value)
        rule_set.save()
        after = snapshot(rule_set, data)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changes:
            record_audit(actor=actor, event="changed", target=rule_set, changes=changes)
    return rule_set


def clean_rule(data: dict[str, Any], current: Rule | None) -> dict[str, Any]:
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not a rule setting."})
    merged = {f: getattr(current, f) for f in RULE_FIELDS} if current else {}
    merged.update(data)
    kind = merged.get("kind")
    if kind not in RuleKind.values:
        raise ValidationError({"kind": "Use fit or engagement."})
    try:
        points = int(merged.get("points"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(
            {"points": "Give a whole number of points (negative allowed)."}
        ) from None
    if abs(points) > 1000:
        raise ValidationError({"points": "Between -1000 and 1000."})
    out: dict[str, Any] = {
        "kind": kind,
        "points": points,
        "label": str(merged.get("label") or "").strip()[:200],
        "position": int(merged.get("position") or 0),
    }
    if kind == RuleKind.FIT:
        field, operator = str(merged.get("field") or ""), str(merged.get("operator") or "")
        if not field:
            raise ValidationError({"field": "Choose the field the rule tests."})
        out.update(
            field=field, operator=operator, value=clean_fit(field, operator, merged.get("value"))
        )
        out.update(source="", touchpoint_kind="", campaign=None, form_id=None, page_contains="")
        out.update(activity_kind="", half_life_days=None, max_points=None)
    else:
        campaign = merged.get("campaign")
        if campaign is not None and not isinstance(campaign, Campaign):
            campaign = Campaign.objects.filter(pk=campaign).first()
            if campaign is None:
                raise ValidationError({"campaign": "There is no such campaign."})
        out.update(clean_engagement({**merged, "campaign": campaign}))
        out.update(field="", operator="", value="")
    return out


def _rule_changes(before: dict[str, Any], rule: Rule) -> dict[str, list[Any]]:
    after = snapshot(rule, [f if f != "campaign" else "campaign" for f in _AUDITED_RULE_FIELDS])
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


def add_rule(*, actor: Actor, rule_set: RuleSet, data: dict[str, Any]) -> Rule:
    require(actor, "scoring.manage_rules")
    _draft(rule_set)
    clean = clean_rule(data, None)
    with transaction.atomic():
        rule = Rule.objects.create(rule_set=rule_set, **clean)
        record_audit(
            actor=actor,
            event="rule_added",
            target=rule_set,
            changes={f"rule {rule.pk}": [None, snapshot(rule, _AUDITED_RULE_FIELDS)]},
        )
    return rule


def update_rule(*, actor: Actor, rule: Rule, data: dict[str, Any]) -> Rule:
    require(actor, "scoring.manage_rules")
    _draft(rule.rule_set)
    clean = clean_rule(data, rule)
    with transaction.atomic():
        before = snapshot(rule, _AUDITED_RULE_FIELDS)
        for name, value in clean.items():
            setattr(rule, name, value)
        rule.save()
        changes = _rule_changes(before, rule)
        if changes:
            record_audit(
                actor=actor,
                event="rule_changed",
                target=rule.rule_set,
                changes={f"rule {rule.pk}.{k}": v for k, v in changes.items()},
            )
    return rule


def delete_rule(*, actor: Actor, rule: Rule) -> None:
    require(actor, "scoring.manage_rules")
    _draft(rule.rule_set)
    with transaction.atomic():
        record_audit(
            actor=actor,
            event="rule_removed",
            target=rule.rule_set,
            changes={f"rule {rule.pk}": [snapshot(rule, _AUDITED_RULE_FIELDS), None]},
        )
        rule.delete()


def _rescore_after_activation() -> None:
    if Person.objects.filter(deleted_at__isnull=True).count() <= INLINE_RESCORE_PEOPLE:
        engine.rescore_everyone()
    else:
        tasks.rescore_everyone.enqueue()


def activate_rule_set(*, actor: Actor, rule_set: RuleSet, reason: str = "") -> RuleSet:
    """Make this draft the rule set that scores everyone; the active one is retired.

    Audited with the versions before and after; everyone is rescored after the
    commit (at once for a small database, by the worker for a big one).
    """
    require(actor, "scoring.manage_rules")
    with transaction.atomic():
        rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        _draft(rule_set)
        if not rule_set.rules.exists():
            raise ValidationError({"rule_set": "Add at least one rule before activating."})
        previous = RuleSet.objects.select_for_update().filter(status=RuleSetStatus.ACTIVE).first()
        if previous is not None:
            previous.status = RuleSetStatus.RETIRED
            previous.save(update_fields=["status"])
            record_audit(
                actor=actor,
                event="retired",
                target=previous,
                changes={"status": [RuleSetStatus.ACTIVE, RuleSetStatus.RETIRED]},
            )
        rule_set.status = RuleSetStatus.ACTIVE
        rule_set.activated_at = timezone.now()
        rule_set.activated_by = actor.user
        rule_set.activation_key = uuid.uuid4()
        rule_set.save(update_fields=["status", "activated_at", "activated_by", "activation_key"])
        record_audit(
            actor=actor,
            event="activated",
            target=rule_set,
            changes={
                "status": [RuleSetStatus.DRAFT, RuleSetStatus.ACTIVE],
                "replaces_version": [None, previous.version if previous else None],
                "reason": [None, (reason or "").strip()],
            },
        )
        transaction.on_commit(_rescore_after_activation)
    return rule_set
