"""What the apps built on campaigns add to its campaign page (ADR 0005).

campaigns sits below routing, deals, attribution and reports, so it never imports
them. Yet a marketer reads a campaign's results on its page: the MQLs it brought,
what sales sent back, its pipeline, revenue and ROI. So campaigns owns a small,
typed slot, and a higher app fills it from its `AppConfig.ready()`:

- `CampaignSection`: a card on the campaign page, with its title and template;
  `context(campaign, request)` returns what the template reads as `section.data`.

Sections show in the order of `order`, then of registration. Registering the same
key again replaces the entry (tests, reloads). `grep -rn "register_campaign_section"`
lists every contributor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from tandem.campaigns.models import Campaign


@dataclass(frozen=True)
class CampaignSection:
    """One card on the campaign page, filled by another app."""

    key: str
    title: str
    template: str  # included in the campaign page; `section.data` is context(...)
    context: Callable[[Campaign, HttpRequest], dict[str, Any]]
    order: int = 100


@dataclass(frozen=True)
class RenderedSection:
    key: str
    title: str
    template: str
    data: dict[str, Any]


_sections: dict[str, CampaignSection] = {}


def register_campaign_section(section: CampaignSection) -> None:
    _sections[section.key] = section


def campaign_sections() -> list[CampaignSection]:
    positions = {key: n for n, key in enumerate(_sections)}
    return sorted(_sections.values(), key=lambda s: (s.order, positions[s.key]))


def render_sections(campaign: Campaign, request: HttpRequest) -> list[RenderedSection]:
    """Each section with its data for this campaign, in page order."""
    return [
        RenderedSection(s.key, s.title, s.template, s.context(campaign, request))
        for s in campaign_sections()
    ]
