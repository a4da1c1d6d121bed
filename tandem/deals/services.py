"""Opening, changing, moving and closing deals: the one door the pages, the API and
other apps use. (Signatures agreed between the issue-21 helpers; bodies follow.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tandem.accounts.actor import Actor
from tandem.deals.models import Deal, DealContact, Pipeline


def default_pipeline() -> Pipeline:
    raise NotImplementedError


def create_deal(*, actor: Actor, data: dict[str, Any]) -> Deal:
    raise NotImplementedError


def update_deal(*, actor: Actor, deal: Deal, data: dict[str, Any]) -> Deal:
    raise NotImplementedError


def move_deal(*, actor: Actor, deal: Deal, stage_id: int, note: str = "") -> Deal:
    raise NotImplementedError


def close_deal(
    *,
    actor: Actor,
    deal: Deal,
    status: str,
    reason_id: int | None,
    competitor: str = "",
    note: str = "",
    closed_at: dt.datetime | None = None,
) -> Deal:
    raise NotImplementedError


def reopen_deal(*, actor: Actor, deal: Deal, stage_id: int | None = None) -> Deal:
    raise NotImplementedError


def add_contact(
    *, actor: Actor, deal: Deal, person_id: int, role: str, is_primary: bool = False
) -> DealContact:
    raise NotImplementedError


def remove_contact(*, actor: Actor, deal: Deal, person_id: int) -> None:
    raise NotImplementedError


def delete_deal(*, actor: Actor, deal: Deal) -> None:
    raise NotImplementedError
