"""The demo's marketing history: campaigns, touchpoints and newsletter consents.

Planned here as plain data from the same seeded `random.Random` as the rest of
the demo (tandem/demo/data.py), after the people, and written through the
apps' public services: campaigns by `create_campaign`, 18 months of
touchpoints by `record_past_touchpoints` (one INSERT), consents with their
proof by `record_past_consents` (two INSERTs). Each person's first touchpoint
is how they came in (their source) at the moment they were created; later
ones are engagement until today (or until they were disqualified or
recycled). Newsletter opens and clicks go only to people who had agreed to it
and stop when they withdrew.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.campaigns.models import Campaign, CampaignKind, Touchpoint, TouchpointKind
from tandem.campaigns.services import build_touchpoint, create_campaign, record_past_touchpoints
from tandem.capture.consent import PastConsent, Proof, latest_text, record_past_consents
from tandem.capture.models import WebForm
from tandem.people.models import FUNNEL_ORDER, Person, Stage

if TYPE_CHECKING:
    from tandem.demo.data import _PersonPlan

SITE = "https://www.ourcompany.example"
NEWSLETTER = "newsletter"  # the consent purpose of the guide form (capture/demo.py)


@dataclass(frozen=True)
class DemoCampaign:
    key: str
    name: str
    kind: str
    description: str
    starts: int  # days after the start of the demo's history
    ends: int | None = None
    location: str = ""


# fmt: off
CAMPAIGNS = (
    DemoCampaign("webinar-series", "Customer webinar series", CampaignKind.WEBINAR,
                 "A live webinar each month: a product tour, then a customer's story.", 0),
    DemoCampaign("paid-search", "Paid search: brand and category", CampaignKind.PAID,
                 "Always-on search ads on our name and the category's words.", 0),
    DemoCampaign("monthly-newsletter", "Monthly newsletter", CampaignKind.EMAIL,
                 "Guides, customer stories and event invitations, once a month.", 0),
    DemoCampaign("partner-programme", "Partner referral programme", CampaignKind.REFERRAL,
                 "Resellers and consultants who bring us their clients.", 30),
    DemoCampaign("logistics-expo-spring", "Logistics Expo, Hamburg (spring)",
                 CampaignKind.TRADE_SHOW, "Our booth in hall B; badge scans imported after.",
                 60, 62, "Hamburg"),
    DemoCampaign("industry-forum-autumn", "Industry Forum, Lyon (autumn)",
                 CampaignKind.TRADE_SHOW, "A talk and a small stand.", 240, 241, "Lyon"),
    DemoCampaign("logistics-expo-2", "Logistics Expo, Hamburg (this spring)",
                 CampaignKind.TRADE_SHOW, "Twice the booth of last year.", 425, 427, "Hamburg"),
)
# fmt: on
GUIDE_KEY = "buyers-guide-2026"  # made with its form by capture.demo.ensure_demo_guide_form

AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
)
PAGES = ("/pricing", "/product", "/customers", "/guides/buyers-guide", "/blog/warehouse-kpis")
# How each source came in: the first touchpoint's kind and campaign key (None: no campaign).
FIRST_TOUCH: dict[str, tuple[str, str | None]] = {
    "website": (TouchpointKind.PAGE_VISIT, None),
    "content download": (TouchpointKind.FORM_FILL, GUIDE_KEY),
    "webinar": (TouchpointKind.FORM_FILL, "webinar-series"),
    "trade show": (TouchpointKind.BOOTH_SCAN, "trade show"),
    "referral": (TouchpointKind.REFERRAL, None),
    "sales prospecting": (TouchpointKind.SALES_SOURCED, None),
    "partner": (TouchpointKind.REFERRAL, "partner-programme"),
    "paid search": (TouchpointKind.FORM_FILL, "paid-search"),
    "newsletter": (TouchpointKind.FORM_FILL, "monthly-newsletter"),
}
WITHDRAW_HOW = (
    "Replied to a newsletter asking to be taken off the list.",
    "Asked on a call to stop the newsletter.",
    "Wrote to support: too many emails.",
)


def _ip(rng: random.Random) -> str:
    """An address from the ranges kept for documentation (RFC 5737)."""
    return f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}"


class Engagement:
    """Plans and writes the campaigns, touchpoints and consents of the demo people."""

    def __init__(
        self,
        *,
        rng: random.Random,
        start: dt.datetime,
        now: dt.datetime,
        system: Actor,
        marketer: User,
        guide: WebForm,
    ):
        self.rng, self.start, self.now = rng, start, now
        self.system, self.marketer, self.guide = system, marketer, guide

    def build_campaigns(self) -> dict[str, Campaign]:
        """The demo's campaigns; one a database already has by its key is kept as it is,
        as the guide's (capture.demo)."""
        campaigns = {}
        for c in CAMPAIGNS:
            campaigns[c.key] = Campaign.objects.filter(key=c.key).first() or create_campaign(
                actor=self.system,
                name=c.name,
                key=c.key,
                kind=c.kind,
                description=c.description,
                starts_on=(self.start + dt.timedelta(days=c.starts)).date(),
                ends_on=(self.start + dt.timedelta(days=c.ends)).date() if c.ends else None,
                owner=self.marketer,
            )
        assert self.guide.campaign is not None
        campaigns[GUIDE_KEY] = self.guide.campaign
        return campaigns

    def _show(self, at: dt.datetime) -> DemoCampaign:
        """The last trade show on or before `at` (else the first): where the badge was scanned."""
        shows = [c for c in CAMPAIGNS if c.kind == CampaignKind.TRADE_SHOW]
        before = [c for c in shows if self.start + dt.timedelta(days=c.starts) <= at]
        return before[-1] if before else shows[0]

    # consents

    def plan_consents(
        self, plans: list[_PersonPlan], people: list[Person]
    ) -> list[PastConsent | None]:
        """Per person, their newsletter consent (or None), decided by how they came in."""
        rng = self.rng
        text = latest_text(NEWSLETTER)
        assert text is not None
        out: list[PastConsent | None] = []
        for plan, person in zip(plans, people, strict=True):
            created = person.created_at
            source = plan.source
            item: PastConsent | None = None
            if source in ("website", "content download", "webinar", "paid search", "newsletter"):
                # Signing up for the newsletter is the consent; other forms offer the box.
                if rng.random() < (0.95 if source == "newsletter" else 0.7):
                    ip, agent = _ip(rng), rng.choice(AGENTS)
                    form = self.guide if source == "content download" else None
                    given = Proof(method="form", form=form, ip=ip, user_agent=agent, at=created)
                    confirmed = None
                    if rng.random() < 0.88:
                        later = created + dt.timedelta(minutes=rng.uniform(2, 20 * 60))
                        confirmed = Proof(
                            method="email_link",
                            ip=ip,
                            user_agent=agent,
                            at=min(later, self.now - dt.timedelta(minutes=1)),
                        )
                    item = PastConsent(person, text, given, True, confirmed)
            elif source in ("trade show", "partner") and rng.random() < 0.45:
                how = (
                    "Ticked the newsletter box on the badge-scan sign-up sheet (kept by marketing)."
                    if source == "trade show"
                    else "Opted in on the partner's registration form; the partner keeps it."
                )
                given = Proof(method="import", at=created, how=how, recorded_by=self.marketer)
                item = PastConsent(person, text, given)
            elif source in ("referral", "sales prospecting") and rng.random() < 0.15:
                user = person.owner or self.marketer
                at = min(created + dt.timedelta(days=rng.uniform(0, 20)), self.now)
                given = Proof(
                    method="staff",
                    at=at,
                    how="Agreed on a call to receive the newsletter.",
                    recorded_by=user,
                )
                item = PastConsent(person, text, given)
            if item is not None and (item.confirmed or not item.double_opt_in):
                if rng.random() < 0.12:  # some change their mind later
                    after = (item.confirmed or item.given).at
                    assert after is not None
                    at = after + (self.now - after) * rng.random()
                    withdrawn = Proof(
                        method="staff",
                        at=at,
                        how=rng.choice(WITHDRAW_HOW),
                        recorded_by=self.marketer,
                    )
                    item = PastConsent(
                        person, text, item.given, item.double_opt_in, item.confirmed, withdrawn
                    )
            out.append(item)
        return out

    # touchpoints

    def plan_touchpoints(
        self,
        plans: list[_PersonPlan],
        people: list[Person],
        consents: list[PastConsent | None],
        campaigns: dict[str, Campaign],
    ) -> list[Touchpoint]:
        rng = self.rng
        out: list[Touchpoint] = []

        def touch(person: Person, kind: str, at: dt.datetime, key: str | None, **extra: Any):
            campaign = campaigns[key] if key else None
            utm = extra.pop("utm", None)
            if utm is None and campaign is not None and kind in ("form_fill", "page_visit"):
                utm = {"utm_campaign": campaign.key}
            out.append(
                build_touchpoint(
                    person_id=person.pk,
                    kind=kind,
                    occurred_at=at,
                    campaign=campaign,
                    utm=utm,
                    **extra,
                )
            )

        for plan, person, consent in zip(plans, people, consents, strict=True):
            created = person.created_at
            kind, key = FIRST_TOUCH[plan.source]
            extra: dict[str, Any] = {}
            if key == "trade show":
                show = self._show(created)
                key, extra["location"] = show.key, show.location
                extra["channel"] = "event"
            elif kind == TouchpointKind.SALES_SOURCED:
                extra["credited_to_id"] = person.owner_id
                extra["channel"] = "outbound"
            elif kind == TouchpointKind.REFERRAL:
                extra["channel"] = "referral"
                extra["note"] = "Introduced by a partner." if key else "Recommended by a customer."
            else:
                extra["channel"] = "web"
                extra["page_url"] = SITE + rng.choice(PAGES)
                if plan.source == "paid search":
                    extra["utm"] = {
                        "utm_source": "google",
                        "utm_medium": "cpc",
                        "utm_campaign": "paid-search",
                        "utm_term": rng.choice(("warehouse software", "inventory crm", "tandem")),
                    }
                if key == GUIDE_KEY:
                    extra["form_id"] = self.guide.pk
            touch(person, kind, created, key, **extra)
            if plan.source == "webinar" and rng.random() < 0.7:  # came to the live session
                at = created + dt.timedelta(days=rng.uniform(1, 14))
                if at < self.now:
                    touch(person, TouchpointKind.EVENT_VISIT, at, "webinar-series", channel="web")

            ended = plan.final in (Stage.DISQUALIFIED, Stage.RECYCLED)
            until = person.stage_changed_at if ended else self.now
            assert until is not None
            deep = FUNNEL_ORDER.get(plan.final, 1) >= FUNNEL_ORDER[Stage.MQL]
            mailing_from = mailing_until = None
            if consent is not None and (consent.confirmed or not consent.double_opt_in):
                mailing_from = (consent.confirmed or consent.given).at
                mailing_until = consent.withdrawn.at if consent.withdrawn else until
            for _ in range(rng.randint(2, 9) if deep else rng.randint(0, 4)):
                at = created + (until - created) * rng.random()
                roll = rng.random()
                if roll < 0.5 and mailing_from and mailing_until:
                    if mailing_from <= at <= mailing_until:
                        opened = rng.random() < 0.7
                        touch(
                            person,
                            TouchpointKind.EMAIL_OPEN if opened else TouchpointKind.EMAIL_CLICK,
                            at,
                            "monthly-newsletter",
                            channel="email",
                            utm={
                                "utm_source": "newsletter",
                                "utm_medium": "email",
                                "utm_campaign": "monthly-newsletter",
                            },
                        )
                elif roll < 0.75:
                    paid = rng.random() < 0.3
                    touch(
                        person,
                        TouchpointKind.PAGE_VISIT,
                        at,
                        "paid-search" if paid else None,
                        channel="web",
                        page_url=SITE + rng.choice(PAGES),
                    )
                elif roll < 0.88:
                    touch(person, TouchpointKind.EVENT_VISIT, at, "webinar-series", channel="web")
                else:
                    touch(
                        person,
                        TouchpointKind.FORM_FILL,
                        at,
                        GUIDE_KEY,
                        channel="web",
                        page_url=f"{SITE}/guides/buyers-guide",
                        form_id=self.guide.pk,
                    )
        return out

    def write(self, plans: list[_PersonPlan], people: list[Person]) -> dict[str, int]:
        campaigns = self.build_campaigns()
        consents = self.plan_consents(plans, people)
        touchpoints = self.plan_touchpoints(plans, people, consents, campaigns)
        given = [c for c in consents if c is not None]
        record_past_consents(given)
        record_past_touchpoints(touchpoints)
        return {
            "campaigns": len(campaigns),
            "touchpoints": len(touchpoints),
            "consents": len(given),
        }
