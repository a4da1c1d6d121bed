"""The demo's scoring rules (`tandem demo`): a sensible active rule set, and everyone scored."""

from __future__ import annotations

from tandem.accounts.actor import Actor
from tandem.campaigns.models import Campaign
from tandem.scoring import services
from tandem.scoring.models import RuleSet

DEMO_GUIDE_CAMPAIGN_KEY = "buyers-guide-2026"


def demo_rules() -> list[dict]:
    guide = Campaign.objects.filter(key=DEMO_GUIDE_CAMPAIGN_KEY).first()
    fit = [
        ("title", "contains", "Head of", 20),
        ("title", "contains", "VP", 20),
        ("title", "in", ["CEO", "CTO", "COO", "CFO", "Managing Director"], 15),
        ("title", "contains", "Manager", 5),
        ("company.industry", "in", ["Software", "Manufacturing", "Logistics"], 10),
        ("company.size", "between", [51, 1000], 10),
        ("email", "is_free_mail", "", -15),
    ]
    rules: list[dict] = [
        {"kind": "fit", "field": f, "operator": op, "value": v, "points": p} for f, op, v, p in fit
    ]
    engagement = [
        {"touchpoint_kind": "form_fill", "points": 15, "half_life_days": 30},
        {"touchpoint_kind": "page_visit", "points": 2, "half_life_days": 14, "max_points": 20},
        {"touchpoint_kind": "email_click", "points": 5, "half_life_days": 21, "max_points": 25},
        {"touchpoint_kind": "event_visit", "points": 15, "half_life_days": 60},
        {"touchpoint_kind": "booth_scan", "points": 10, "half_life_days": 60},
        {"source": "activity", "activity_kind": "meeting", "points": 10, "half_life_days": 90},
        {"source": "activity", "activity_kind": "call", "points": 3, "half_life_days": 60},
    ]
    if guide is not None:
        engagement.insert(
            1,
            {
                "touchpoint_kind": "form_fill",
                "campaign": guide.pk,
                "points": 15,
                "half_life_days": 30,
            },
        )
    rules += [{"kind": "engagement", **rule} for rule in engagement]
    return rules


def load_demo_rules(actor: Actor) -> RuleSet | None:
    """Make and activate the demo rule set once (everyone is scored after the commit)."""
    if RuleSet.objects.exists():
        return None
    rule_set = services.create_rule_set(actor=actor, name="Demo rules", mql_threshold=50)
    for data in demo_rules():
        services.add_rule(actor=actor, rule_set=rule_set, data=data)
    return services.activate_rule_set(
        actor=actor, rule_set=rule_set, reason="The demo company's starting rules."
    )
