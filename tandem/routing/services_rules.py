"""Writing routing rules, their order, salespeople's capacity and out-of-office, and the
model's MQL threshold: every change checked ("routing.manage_rules") and audited.

A salesperson may record their own out-of-office; everything else is for managers
and admins.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from tandem.accounts.actor import Actor
from tandem.accounts.models import Team, User
from tandem.accounts.permissions import can, require
from tandem.core.audit import diff, record_audit, snapshot
from tandem.people.models import CompanySize, CustomField
from tandem.people.normalize import clean_country
from tandem.routing.models import (
    OutOfOffice,
    RoutingRule,
    RoutingSettings,
    RuleKind,
    SalesCapacity,
)

MANAGE = "routing.manage_rules"
RULE_FIELDS = (
    "name",
    "kind",
    "is_active",
    "countries",
    "regions",
    "postcode_ranges",
    "industries",
    "company_sizes",
    "custom_field",
    "custom_values",
    "team",
    "user",
)
LIST_FIELDS = ("countries", "regions", "industries", "company_sizes", "custom_values")
MAX_ITEMS = 500


def _text_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in (p.strip() for p in value.replace("\n", ",").split(",")) if v]
    if not isinstance(value, list) or not all(isinstance(v, str | int | bool) for v in value):
        raise ValidationError({name: "Give a list of values."})
    out = [str(v).strip() for v in value if str(v).strip()]
    if len(out) > MAX_ITEMS:
        raise ValidationError({name: f"At most {MAX_ITEMS} values."})
    if any(len(v) > 100 for v in out):
        raise ValidationError({name: "Each value: at most 100 characters."})
    return list(dict.fromkeys(out))


def _ranges(value: Any) -> list[list[str]]:
    """Postcode ranges as [["10000", "19999"], ...]; text "10000-19999, 80000-89999" too."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [p.strip() for p in value.replace("\n", ",").split(",") if p.strip()]
    if not isinstance(value, list):
        raise ValidationError({"postcode_ranges": "Give ranges like 10000-19999."})
    out = []
    for item in value:
        if isinstance(item, str):
            parts = [p.strip() for p in item.split("-")]
            if len(parts) == 1:
                parts = parts * 2
        elif isinstance(item, list | tuple):
            parts = [str(p).strip() for p in item]
        else:
            parts = []
        if len(parts) != 2 or not all(parts) or any(len(p) > 20 for p in parts):
            raise ValidationError({"postcode_ranges": f"{item!r}: give a range like 10000-19999."})
        low, high = (p.replace(" ", "").upper() for p in parts)
        if low > high:
            raise ValidationError({"postcode_ranges": f"{item!r}: the first is after the last."})
        out.append([low, high])
    if len(out) > MAX_ITEMS:
        raise ValidationError({"postcode_ranges": f"At most {MAX_ITEMS} ranges."})
    return out


def _team(value: Any) -> Team | None:
    if value in (None, ""):
        return None
    if isinstance(value, Team):
        return value
    pk = _as_id(value)
    team = Team.objects.filter(pk=pk).first() if pk is not None else None
    if team is None and _nameable(value):
        team = Team.objects.filter(name__iexact=str(value)).first()
    if team is None:
        raise ValidationError({"team": f"There is no team {value!r}."})
    return team


def _as_id(value: Any) -> int | None:
    """A record id given as a number or ASCII digits within 64 bits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    text = str(value)
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


def _nameable(value: Any) -> bool:
    """A name a database can compare: no NUL (PostgreSQL refuses it), not absurdly long."""
    text = str(value)
    return "\x00" not in text and len(text) <= 300


def user_by_id_or_name(value: Any) -> User:
    """An active user by id or username (ValidationError naming `user` otherwise)."""
    user = _user(value)
    if user is None:
        raise ValidationError({"user": "Give a user."})
    return user


def _user(value: Any) -> User | None:
    if value in (None, ""):
        return None
    if isinstance(value, User):
        user: User | None = value
    elif (pk := _as_id(value)) is not None:
        user = User.objects.filter(pk=pk).first()
    elif _nameable(value):
        user = User.objects.filter(username__iexact=str(value)).first()
    else:
        user = None
    if user is None:
        raise ValidationError({"user": f"There is no user {value!r}."})
    if not user.is_active:
        raise ValidationError({"user": f"{user.username} is not an active user."})
    return user


def clean_rule(data: dict[str, Any], current: RoutingRule | None) -> dict[str, Any]:
    """The rule's fields from `data` (a patch when `current` is given), checked together."""
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not a field of a routing rule."})
    values = snapshot(current, RULE_FIELDS) if current is not None else {}
    if current is not None:
        values["team"], values["user"] = current.team, current.user
    out: dict[str, Any] = {}
    for name, raw in data.items():
        if name == "name":
            text = str(raw or "").strip()
            if not text:
                raise ValidationError({"name": "Give the rule a name."})
            if len(text) > 200:
                raise ValidationError({"name": "At most 200 characters."})
            out[name] = text
        elif name == "kind":
            if raw not in RuleKind.values:
                raise ValidationError({"kind": f"Use one of: {', '.join(RuleKind.values)}."})
            out[name] = raw
        elif name == "is_active":
            if not isinstance(raw, bool):
                raise ValidationError({"is_active": "true or false."})
            out[name] = raw
        elif name == "countries":
            out[name] = [clean_country(c, field="countries") for c in _text_list(name, raw)]
        elif name == "company_sizes":
            sizes = _text_list(name, raw)
            bad = [s for s in sizes if s not in CompanySize.values]
            if bad:
                msg = f"{bad[0]!r} is not a size; use: {', '.join(CompanySize.values)}."
                raise ValidationError({name: msg})
            out[name] = sizes
        elif name in LIST_FIELDS:
            out[name] = _text_list(name, raw)
        elif name == "postcode_ranges":
            out[name] = _ranges(raw)
        elif name == "custom_field":
            key = str(raw or "").strip()
            if key and not CustomField.objects.filter(key=key).exists():
                raise ValidationError({name: f"There is no custom field {key!r}."})
            out[name] = key
        elif name == "team":
            out[name] = _team(raw)
        elif name == "user":
            out[name] = _user(raw)
    merged = {**values, **out}
    kind = merged.get("kind")
    if not kind:
        raise ValidationError({"kind": f"Use one of: {', '.join(RuleKind.values)}."})
    if not merged.get("name"):
        raise ValidationError({"name": "Give the rule a name."})
    team, user = merged.get("team"), merged.get("user")
    if kind == RuleKind.TERRITORY and not (
        merged.get("countries") or merged.get("regions") or merged.get("postcode_ranges")
    ):
        raise ValidationError({"countries": "Give countries, regions or postcode ranges."})
    if kind == RuleKind.SEGMENT:
        if not (
            merged.get("industries") or merged.get("company_sizes") or merged.get("custom_field")
        ):
            raise ValidationError({"industries": "Give industries, sizes or a custom field."})
        if merged.get("custom_field") and not merged.get("custom_values"):
            raise ValidationError({"custom_values": "Give the custom field's values to match."})
    if kind == RuleKind.ROUND_ROBIN and team is None:
        raise ValidationError({"team": "Round-robin needs the team whose members take turns."})
    if kind in (RuleKind.TERRITORY, RuleKind.SEGMENT, RuleKind.FALLBACK) and not (team or user):
        raise ValidationError({"team": "Give a team (members take turns) or a user."})
    return out


def _rule_snapshot(rule: RoutingRule) -> dict[str, Any]:
    return snapshot(rule, RULE_FIELDS)


def create_rule(*, actor: Actor, data: dict[str, Any]) -> RoutingRule:
    """A new rule, last in the order (move it up where it belongs)."""
    require(actor, MANAGE)
    fields = clean_rule(data, None)
    with transaction.atomic():
        last = RoutingRule.objects.select_for_update().aggregate(m=Max("position"))["m"]
        rule = RoutingRule.objects.create(position=(last or 0) + 1, **fields)
        record_audit(
            actor=actor,
            event="routing_rule_created",
            target=rule,
            changes=diff({}, {k: v for k, v in _rule_snapshot(rule).items() if v not in ("", [])}),
        )
    return rule


def update_rule(*, actor: Actor, rule: RoutingRule, data: dict[str, Any]) -> RoutingRule:
    require(actor, MANAGE)
    with transaction.atomic():
        rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
        fields = clean_rule(data, rule)
        before = _rule_snapshot(rule)
        for name, value in fields.items():
            setattr(rule, name, value)
        changes = diff(before, _rule_snapshot(rule))
        if changes:
            rule.save()
            record_audit(actor=actor, event="routing_rule_changed", target=rule, changes=changes)
    return rule


def delete_rule(*, actor: Actor, rule: RoutingRule) -> None:
    """Gone from routing; hand-offs keep its id and name (`routed_by`)."""
    require(actor, MANAGE)
    with transaction.atomic():
        record_audit(
            actor=actor,
            event="routing_rule_deleted",
            target=rule,
            changes=diff(_rule_snapshot(rule), {}),
        )
        RoutingRule.objects.filter(pk=rule.pk).delete()


def reorder_rules(*, actor: Actor, ids: list[int]) -> list[RoutingRule]:
    """Put the rules in this order; `ids` names every rule exactly once."""
    require(actor, MANAGE)
    with transaction.atomic():
        rules = {
            r.pk: r for r in RoutingRule.objects.select_for_update().order_by("position", "id")
        }
        if len(ids) != len(set(ids)) or set(ids) != set(rules):
            raise ValidationError({"ids": "Give every rule's id once, in the new order."})
        before = list(rules)
        for position, pk in enumerate(ids, start=1):
            if rules[pk].position != position:
                RoutingRule.objects.filter(pk=pk).update(position=position)
                rules[pk].position = position
        if before != ids:
            record_audit(
                actor=actor,
                event="routing_rules_reordered",
                target=rules[ids[0]],
                changes={"order": [before, ids]},
            )
    return [rules[pk] for pk in ids]


def move_rule(*, actor: Actor, rule: RoutingRule, direction: str) -> list[RoutingRule]:
    """One place up or down (the keyboard's way of dragging)."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "up or down."})
    ids = list(RoutingRule.objects.order_by("position", "id").values_list("pk", flat=True))
    i = ids.index(rule.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
    return reorder_rules(actor=actor, ids=ids)


# --- capacity, out-of-office, the model's threshold ------------------------------------------


def set_capacity(*, actor: Actor, user: User, max_open_handoffs: int | None) -> SalesCapacity:
    """How many open hand-offs round-robin gives `user` at most (None: no limit)."""
    require(actor, MANAGE)
    if max_open_handoffs is not None and (
        isinstance(max_open_handoffs, bool) or not 0 <= int(max_open_handoffs) <= 100_000
    ):
        raise ValidationError({"max_open_handoffs": "A whole number from 0, or empty."})
    with transaction.atomic():
        capacity, _ = SalesCapacity.objects.select_for_update().get_or_create(user=user)
        before = capacity.max_open_handoffs
        capacity.max_open_handoffs = max_open_handoffs
        if before != max_open_handoffs:
            capacity.save()
            record_audit(
                actor=actor,
                event="capacity_changed",
                target=user,
                changes={"max_open_handoffs": [before, max_open_handoffs]},
            )
    return capacity


def _may_set_away(actor: Actor, user: User) -> None:
    if actor.user is not None and actor.user.pk == user.pk and actor.can_write:
        return
    require(actor, MANAGE)


def add_out_of_office(
    *, actor: Actor, user: User, starts_on: dt.date, ends_on: dt.date, note: str = ""
) -> OutOfOffice:
    """`user` takes no new leads from `starts_on` to `ends_on` (their own, or a manager's)."""
    _may_set_away(actor, user)
    if ends_on < starts_on:
        raise ValidationError({"ends_on": "The last day is before the first."})
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": "At most 200 characters."})
    with transaction.atomic():
        away = OutOfOffice.objects.create(
            user=user, starts_on=starts_on, ends_on=ends_on, note=note
        )
        record_audit(
            actor=actor,
            event="out_of_office_added",
            target=user,
            changes={"out_of_office": [None, f"{starts_on} – {ends_on}"]},
        )
    return away


def remove_out_of_office(*, actor: Actor, away: OutOfOffice) -> None:
    _may_set_away(actor, away.user)
    with transaction.atomic():
        record_audit(
            actor=actor,
            event="out_of_office_removed",
            target=away.user,
            changes={"out_of_office": [f"{away.starts_on} – {away.ends_on}", None]},
        )
        away.delete()


def may_set_away(actor: Actor, user: User) -> bool:
    return (actor.user is not None and actor.user.pk == user.pk) or can(actor, MANAGE)


def set_model_threshold(*, actor: Actor, likelihood: float | None) -> RoutingSettings:
    """The predicted likelihood (0-1) at which the active model moves a lead to MQL."""
    require(actor, MANAGE)
    if likelihood is not None and not 0 < float(likelihood) <= 1:
        raise ValidationError({"model_mql_likelihood": "A share above 0 and at most 1 (e.g. 0.6)."})
    with transaction.atomic():
        settings, _ = RoutingSettings.objects.select_for_update().get_or_create(pk=1)
        before = settings.model_mql_likelihood
        settings.model_mql_likelihood = likelihood
        if before != likelihood:
            settings.save()
            record_audit(
                actor=actor,
                event="routing_settings_changed",
                target=settings,
                changes={"model_mql_likelihood": [before, likelihood]},
            )
    return settings
