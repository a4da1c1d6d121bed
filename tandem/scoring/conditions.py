"""What a rule means: fit conditions as SQL expressions, engagement filters, and words.

One place turns a rule into both its query and its sentence, so the explanation
a person reads ("Title contains 'Head of'") is the condition that gave the points.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, Value
from django.db.models.functions import Lower, StrIndex, Substr
from django.db.models.lookups import In

from tandem.campaigns.models import TouchpointKind
from tandem.people.freemail import FREE_MAIL_DOMAINS
from tandem.people.models import ActivityKind, CompanySize, CustomField, CustomFieldEntity
from tandem.scoring.models import EngagementSource, Operator, Rule, RuleKind

# Standard fields a fit rule may test: key -> (ORM path, words).
FIT_FIELDS: dict[str, tuple[str, str]] = {
    "title": ("title", "Title"),
    "email": ("email", "Email"),
    "country": ("country", "Country"),
    "region": ("region", "Region"),
    "city": ("city", "City"),
    "source": ("source", "Source"),
    "stage": ("stage", "Stage"),
    "company.name": ("company__name", "Company"),
    "company.industry": ("company__industry", "Industry"),
    "company.size": ("company__size", "Company size"),
    "company.country": ("company__country", "Company country"),
    "company.domain": ("company__domain", "Company domain"),
}
# Company size is a band; "between" takes employee counts and matches the bands inside.
_SIZE_BANDS: dict[str, tuple[int, int]] = {
    CompanySize.S1: (1, 10),
    CompanySize.S11: (11, 50),
    CompanySize.S51: (51, 200),
    CompanySize.S201: (201, 1000),
    CompanySize.S1001: (1001, 10**9),
}


def fit_field_choices() -> list[tuple[str, str]]:
    """Every field a fit rule may test, standard then custom, as (key, words)."""
    out = [(key, words) for key, (_, words) in FIT_FIELDS.items()]
    for field in CustomField.objects.order_by("entity", "position", "id"):
        prefix = "custom" if field.entity == CustomFieldEntity.PERSON else "company.custom"
        owner = "" if field.entity == CustomFieldEntity.PERSON else "Company "
        out.append((f"{prefix}.{field.key}", f"{owner}{field.label}"))
    return out


def _path(field: str) -> str:
    if field in FIT_FIELDS:
        return FIT_FIELDS[field][0]
    for prefix, base in (
        ("company.custom.", "company__custom_fields__"),
        ("custom.", "custom_fields__"),
    ):
        if field.startswith(prefix) and field[len(prefix) :]:
            return base + field[len(prefix) :]
    raise ValidationError({"field": f"{field!r} is not a field a fit rule can test."})


def _as_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [str(v).strip() for v in items if str(v).strip()]


def clean_fit(field: str, operator: str, value: Any) -> Any:
    """The rule's value in its stored form; a ValidationError names the input at fault."""
    _path(field)
    if field == "email" and operator == Operator.IS_FREE_MAIL:
        return ""
    if operator == Operator.IS_FREE_MAIL:
        raise ValidationError({"operator": "Only the email can be tested for free-mail."})
    if operator == Operator.IS_SET:
        return ""
    if operator == Operator.IN:
        items = _as_list(value)
        if not items:
            raise ValidationError({"value": "Give one or more values, separated by commas."})
        return items
    if operator == Operator.BETWEEN:
        items = _as_list(value)
        try:
            low, high = (float(v) for v in items)
        except ValueError:
            raise ValidationError({"value": "Give two numbers: low, high."}) from None
        if low > high:
            raise ValidationError({"value": "The low end must not be above the high end."})
        return [int(low) if low.is_integer() else low, int(high) if high.is_integer() else high]
    if operator in (Operator.EQUALS, Operator.CONTAINS):
        text = str(value or "").strip()
        if not text:
            raise ValidationError({"value": "Give the value to compare with."})
        return text[:200]
    raise ValidationError({"operator": f"Use one of: {', '.join(Operator.values)}."})


def fit_condition(rule: Rule) -> Any:
    """The rule as a boolean expression on Person (for CASE WHEN and filter())."""
    path, op, value = _path(rule.field), rule.operator, rule.value
    if op == Operator.IS_FREE_MAIL:
        domain = Lower(Substr("email", StrIndex("email", Value("@")) + 1))
        return In(domain, sorted(FREE_MAIL_DOMAINS))
    if op == Operator.IS_SET:
        return Q(**{f"{path}__isnull": False}) & ~Q(**{path: ""})
    if op == Operator.EQUALS:
        return Q(**{f"{path}__iexact": value})
    if op == Operator.CONTAINS:
        return Q(**{f"{path}__icontains": value})
    if op == Operator.IN:
        if rule.field == "company.size" or rule.field in ("stage",):
            return Q(**{f"{path}__in": value})
        cond = Q(pk__in=[])
        for item in value:
            cond |= Q(**{f"{path}__iexact": item})
        return cond
    if op == Operator.BETWEEN:
        low, high = value
        if rule.field == "company.size":
            bands = [b for b, (lo, hi) in _SIZE_BANDS.items() if lo >= low and hi <= high]
            return Q(**{f"{path}__in": bands})
        return Q(**{f"{path}__gte": low, f"{path}__lte": high})
    raise ValidationError({"operator": f"Unknown operator {op!r}."})


def clean_engagement(data: dict[str, Any]) -> dict[str, Any]:
    source = data.get("source") or EngagementSource.TOUCHPOINT
    if source not in EngagementSource.values:
        raise ValidationError({"source": "Use touchpoint or activity."})
    out: dict[str, Any] = {"source": source}
    if source == EngagementSource.TOUCHPOINT:
        kind = data.get("touchpoint_kind") or ""
        if kind and kind not in TouchpointKind.values:
            raise ValidationError(
                {"touchpoint_kind": f"Use one of: {', '.join(TouchpointKind.values)}."}
            )
        out.update(
            touchpoint_kind=kind,
            campaign=data.get("campaign"),
            form_id=data.get("form_id") or None,
            page_contains=str(data.get("page_contains") or "").strip()[:200],
            activity_kind="",
        )
    else:
        kind = data.get("activity_kind") or ""
        if kind and kind not in ActivityKind.values:
            raise ValidationError(
                {"activity_kind": f"Use one of: {', '.join(ActivityKind.values)}."}
            )
        out.update(
            activity_kind=kind, touchpoint_kind="", campaign=None, form_id=None, page_contains=""
        )
    half_life = data.get("half_life_days")
    if half_life is not None and half_life != "" and int(half_life) < 1:
        raise ValidationError({"half_life_days": "At least one day, or none for no decay."})
    out["half_life_days"] = int(half_life) if half_life not in (None, "") else None
    cap = data.get("max_points")
    out["max_points"] = int(cap) if cap not in (None, "") else None
    return out


def engagement_filter(rule: Rule) -> Q:
    """The events of the rule's source (Touchpoint or Activity) that earn its points."""
    cond = Q()
    if rule.source == EngagementSource.ACTIVITY:
        if rule.activity_kind:
            cond &= Q(kind=rule.activity_kind)
        return cond
    if rule.touchpoint_kind:
        cond &= Q(kind=rule.touchpoint_kind)
    if rule.campaign_id:
        cond &= Q(campaign_id=rule.campaign_id)
    if rule.form_id:
        cond &= Q(form_id=rule.form_id)
    if rule.page_contains:
        cond &= Q(page_url__icontains=rule.page_contains)
    return cond


def _quoted(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(f"'{v}'" for v in value)
    return f"'{value}'"


def describe(rule: Rule, field_words: dict[str, str] | None = None) -> str:
    """The rule in words, as the explanation shows it."""
    if rule.label:
        return rule.label
    if rule.kind == RuleKind.FIT:
        words = (field_words or {}).get(rule.field) or FIT_FIELDS.get(rule.field, ("", ""))[1]
        words = words or rule.field
        op = Operator(rule.operator).label if rule.operator in Operator.values else rule.operator
        if rule.operator in (Operator.IS_SET, Operator.IS_FREE_MAIL):
            return f"{words} {op}"
        if rule.operator == Operator.BETWEEN:
            low, high = rule.value
            return f"{words} between {low} and {high}"
        return f"{words} {op} {_quoted(rule.value)}"
    if rule.source == EngagementSource.ACTIVITY:
        what = ActivityKind(rule.activity_kind).label if rule.activity_kind else "Activity"
        return f"{what} logged"
    what = TouchpointKind(rule.touchpoint_kind).label if rule.touchpoint_kind else "Touchpoint"
    where = []
    if rule.campaign_id and rule.campaign is not None:
        where.append(rule.campaign.name)
    if rule.form_id:
        where.append(f"form #{rule.form_id}")
    if rule.page_contains:
        where.append(f"page '{rule.page_contains}'")
    return f"{what}: {', '.join(where)}" if where else what
