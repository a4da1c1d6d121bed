"""The demo's gated guide: a content campaign and its download form (`tandem demo`)."""

from __future__ import annotations

from tandem.accounts.actor import Actor
from tandem.campaigns.models import Campaign, CampaignKind
from tandem.campaigns.services import create_campaign
from tandem.capture import webforms
from tandem.capture.models import WebForm

DEMO_CAMPAIGN_KEY = "buyers-guide-2026"
DEMO_FORM_KEY = "demo-guide"


def ensure_demo_guide_form(actor: Actor) -> WebForm:
    """Make (once) the "Buyer's guide 2026" campaign and its `demo-guide` form.

    A second call returns the existing form and changes nothing, so a
    marketer's edits to the demo form survive another `tandem demo`.
    """
    existing = WebForm.objects.filter(key=DEMO_FORM_KEY).first()
    if existing is not None:
        return existing
    campaign = Campaign.objects.filter(key=DEMO_CAMPAIGN_KEY).first() or create_campaign(
        actor=actor,
        name="Buyer's guide 2026",
        key=DEMO_CAMPAIGN_KEY,
        kind=CampaignKind.CONTENT,
        description="The gated buyer's guide: download in exchange for contact details.",
    )
    return webforms.create_form(
        actor=actor,
        data={
            "name": "Buyer's guide 2026 download",
            "key": DEMO_FORM_KEY,
            "campaign": campaign,
            "source": "Website",
            "fields": [
                {"name": "first_name", "label": "First name", "required": True},
                {"name": "last_name", "label": "Last name", "required": True},
                {"name": "email", "label": "Work email", "required": True},
                {"name": "company", "label": "Company", "required": False},
                {"name": "title", "label": "Job title", "required": False},
            ],
            "consents": [
                {
                    "purpose": "newsletter",
                    "name": "Newsletter",
                    "text": "Send me the monthly newsletter with guides and event invitations. "
                    "I can unsubscribe at any time.",
                }
            ],
            "double_opt_in": True,
            "thank_you_message": "Thank you! Your guide is on its way to your inbox.",
        },
    )
