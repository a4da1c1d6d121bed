"""Calendars and policies for the SLA tests, made through the services as a manager would."""

from __future__ import annotations

from typing import Any

from tandem.accounts.actor import Actor
from tandem.accounts.models import Team
from tandem.sla import services
from tandem.sla.models import BusinessCalendar, SlaPolicy, default_hours

SYSTEM = Actor.system("test")
EVERY_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
WITH_LUNCH = {
    d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}


def calendar(
    team: Team | None = None,
    *,
    time_zone: str = "Europe/Berlin",
    hours: dict[str, Any] | None = None,
    country: str = "DE",
    subdivision: str = "",
    closing_days: list[dict[str, str]] | None = None,
) -> BusinessCalendar:
    return services.set_business_hours(
        actor=SYSTEM,
        team=team,
        time_zone=time_zone,
        hours=hours or default_hours(),
        country=country,
        subdivision=subdivision,
        closing_days=closing_days or [],
    )


def policy(
    name: str = "Demo requests", amount: int = 15, unit: str = "minutes", **data: Any
) -> SlaPolicy:
    return services.create_sla_policy(
        actor=SYSTEM, data={"name": name, "amount": amount, "unit": unit, **data}
    )
