"""What every page's layout needs: the main menu, cut to what the viewer may open."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.urls import resolve, reverse

from tandem.accounts.permissions import can

# (label, URL name, the path prefix that marks the link as the current section;
# empty: only the page itself).
MAIN_MENU = (
    ("Funnel", "reports:funnel", ""),
    ("My leads", "handoffs:my_leads", "/leads/"),
    ("People", "people:list", "/people/"),
    ("Companies", "people:company_list", "/companies/"),
    ("Tasks", "tasks:list", "/tasks/"),
    ("Deals", "deals:board", "/deals/"),
    ("Campaigns", "campaigns:list", "/campaigns/"),
    ("Attribution", "attribution:report", "/attribution/"),
    ("Scoring", "scoring:rules", "/scoring/"),
    ("Send-backs", "handoffs:send_back_report", "/reports/send-backs/"),
    ("Routing", "routing:rules", "/routing/"),
    ("Forms", "capture:form_list", "/forms/"),
    ("Quick capture", "quick:page", "/capture"),
    ("Imports", "imports:list", "/imports/"),
    ("Duplicates", "dedup:queue", "/duplicates/"),
    ("Predictive model", "scoring:model", "/scoring/model"),
    ("SLAs", "sla:policies", "/settings/sla/"),
    ("Untouched leads", "sla_pages:untouched", "/leads/untouched/"),
    ("SLA report", "sla_pages:sla_report", "/reports/sla/"),
    ("Pipelines", "deals_settings:pipelines", "/settings/pipelines/"),
    ("Admin", "accounts:users", "/admin/"),
    ("API", "api_docs", "/api/"),
)


@dataclass(frozen=True)
class MenuLink:
    label: str
    url: str
    prefix: str
    action: str | None  # what the target view checks (page_requires), None: signed in


@lru_cache(maxsize=1)
def _menu() -> tuple[MenuLink, ...]:
    """Each link with the action its own view requires, read from the view itself."""
    links = []
    for label, name, prefix in MAIN_MENU:
        url = reverse(name)
        action = getattr(resolve(url).func, "required_action", None)
        links.append(MenuLink(label=label, url=url, prefix=prefix, action=action))
    return tuple(links)


def menu_for(user: Any, path: str = "") -> list[dict[str, Any]]:
    """The main menu links `user` may open, the current one marked."""
    if not (user and user.is_authenticated):
        return []
    links = [link for link in _menu() if link.action is None or can(user, link.action)]
    # The section is the link whose prefix matches the most of the path ("/scoring/model"
    # over "/scoring/"), so one link is marked at a time.
    matches = [
        link for link in links if path == link.url or (link.prefix and path.startswith(link.prefix))
    ]
    current = max(matches, key=lambda link: len(link.prefix or link.url), default=None)
    return [{"label": link.label, "url": link.url, "current": link is current} for link in links]


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"nav_links": menu_for(getattr(request, "user", None), request.path)}
