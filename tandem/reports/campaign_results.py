"""A campaign's results on its page: MQLs, send-backs, pipeline, revenue, cost and ROI."""

from __future__ import annotations


def register() -> None:
    """Adds the campaign page's results section (campaigns' extension point)."""
