"""Opening, changing, moving and closing deals: the one door the pages, the API and other
apps (the demo, imports) use.

Who may: salespeople, managers and admins open deals ("deals.create"); a deal is
changed, moved, closed, reopened or deleted under "deals.edit" / "deals.close" /
"deals.delete" on the deal itself: managers and admins all, a salesperson only the
deals they own, marketers none (accounts/permissions.py). A salesperson opens deals for
themselves and cannot hand them to someone else: owners are set by managers.

What a write does besides the row:
- every move between stages, every close and every reopen adds a DealStageChange (the
  stage history the funnel and velocity reports read); opening a deal adds the first;
- every write records its audit event in the same transaction;
- money: `amount_base = amount × exchange_rate`, rounded half-up to the cent. The base
  currency (settings.TANDEM_BASE_CURRENCY) has the rate 1; any other needs its rate,
  greater than 0;
- the funnel: when a deal is opened (or a contact added to an open deal), its contacts
  not yet at `opportunity` (subscriber, lead, mql, sal, and recycled people who came
  back) move to `opportunity`; winning moves every contact not yet a customer (or an
  advocate) to `customer`. Disqualified people are left alone when a deal opens (someone
  decided they are not a fit: a person, not a deal, undoes that), but move to customer
  when it is won: they bought. Nobody is moved backwards (a lost deal, a reopened one).
  The moves go through people's `change_stage` with the deal as the reason, as the
  actor when they may change that person's stage, else as the deal on their behalf
  (a system actor named after them), since opening the deal is the decision.
- closing: `lost` needs a reason from the active lost list; `won` takes one from the
  won list but does not need it (a win is recorded whatever the list says; a revenue
  lead reads the lost reasons to fix something, the won ones as a bonus). A competitor
  is optional (free text, up to 200 characters).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, require
from tandem.core.audit import diff, record_audit, snapshot
from tandem.deals.models import (
    CloseReason,
    Deal,
    DealContact,
    DealStageChange,
    DealStatus,
    PipelineStage,
)
from tandem.deals.pipelines import default_pipeline, ensure_default_reasons, first_stage
from tandem.deals.services_checks import (
    COMPETITOR_MAX,
    NAME_MAX,
    NOTE_MAX,
    TEXT_MAX,
    base_currency,
    clean_amount,
    clean_company,
    clean_contacts,
    clean_currency,
    clean_date,
    clean_moment,
    clean_owner,
    clean_person,
    clean_pipeline,
    clean_pk,
    clean_role,
    clean_stage,
    clean_text,
    collect,
    money_at_rate,
)
from tandem.people.models import FUNNEL_ORDER, Person, Stage
from tandem.people.services import change_stage

__all__ = [
    "COMPETITOR_MAX",
    "NAME_MAX",
    "NOTE_MAX",
    "TEXT_MAX",
    "add_contact",
    "base_currency",
    "clean_amount",
    "clean_currency",
    "close_deal",
    "create_deal",
    "default_pipeline",
    "delete_deal",
    "move_deal",
    "remove_contact",
    "reopen_deal",
    "update_deal",
]

AUDITED = (
    "name",
    "pipeline",
    "stage",
    "status",
    "company",
    "owner",
    "amount",
    "currency",
    "exchange_rate",
    "amount_base",
    "expected_close_on",
    "close_reason",
    "close_note",
    "competitor",
    "description",
)
EDITABLE = {
    "name",
    "company",
    "owner",
    "amount",
    "currency",
    "exchange_rate",
    "expected_close_on",
    "description",
    "competitor",
    "close_note",
    "close_reason",
    "pipeline",
    "stage",
}
# Funnel stages that opening a deal moves on to `opportunity` (see the module doc).
BEFORE_OPPORTUNITY = {
    s for s, rank in FUNNEL_ORDER.items() if rank < FUNNEL_ORDER[Stage.OPPORTUNITY]
} | {Stage.RECYCLED}
CUSTOMER_ALREADY = {Stage.CUSTOMER, Stage.ADVOCATE}


def _owned_by(owner: User | None) -> Deal:
    """A stand-in deal with this owner, to ask the permission rules about it."""
    return Deal(owner=owner)


def _check_owner_choice(actor: Actor, owner: User | None) -> None:
    """A salesperson opens and keeps deals for themselves; managers and admins set owners."""
    if not can(actor, "deals.edit", _owned_by(owner)):
        raise ValidationError(
            {"owner": "You can own deals yourself; a manager assigns them to others."}
        )


def _locked(deal: Deal) -> Deal:
    return Deal.objects.select_for_update().select_related("stage", "pipeline").get(pk=deal.pk)


def _history(
    deal: Deal,
    *,
    actor: Actor,
    from_stage: PipelineStage | None,
    from_status: str,
    at: dt.datetime,
    note: str = "",
) -> None:
    DealStageChange.objects.create(
        deal=deal,
        from_stage=from_stage,
        to_stage=deal.stage,
        from_status=from_status,
        to_status=deal.status,
        changed_at=at,
        changed_by=actor.user,
        note=note[:NOTE_MAX],
    )


# --- the funnel ----------------------------------------------------------------------------


def _advance(
    actor: Actor,
    deal: Deal,
    people: list[Person],
    to: Stage,
    why: str,
    at: dt.datetime | None = None,
) -> None:
    """Move these contacts on to `to` through people's service (see the module doc).

    `at`: when the deal opened or was won, for deals recorded afterwards (imports, the
    demo), so the funnel's velocity reads the real dates; never before the person's last
    stage change, so their history stays in order."""
    allowed = BEFORE_OPPORTUNITY if to == Stage.OPPORTUNITY else set(Stage) - CUSTOMER_ALREADY
    for person in people:
        current = Person.objects.filter(pk=person.pk, deleted_at__isnull=True).first()
        if current is None or current.stage not in allowed or current.stage == to:
            continue
        mover = actor
        if not can(actor, "people.change_stage", current):
            mover = Actor.system(f"Deal “{deal.name}” for {actor.label}"[:150])
        when = None
        if at is not None and at < timezone.now() - dt.timedelta(minutes=1):
            last = current.stage_changed_at
            when = max(at, last) if last is not None else at
        change_stage(person=current, to_stage=to, actor=mover, reason=why, changed_at=when)


def _contact_people(deal: Deal) -> list[Person]:
    return list(Person.objects.filter(deal_contacts__deal=deal, deleted_at__isnull=True))


# --- writes --------------------------------------------------------------------------------


def create_deal(*, actor: Actor, data: dict[str, Any]) -> Deal:
    """Open a deal (see the module doc for what follows: history, contacts' funnel stage).

    `data`: name; pipeline (id; the default) and stage (id; its first active stage);
    company (id | None); owner (id | None; the acting user); amount; currency (the base
    currency) and exchange_rate (1 for the base currency, needed for any other);
    expected_close_on; description; contacts [{person, role, is_primary}]; created_at
    (for imports and the demo; not in the future).
    """
    require(actor, "deals.create")
    allowed = {
        "name",
        "pipeline",
        "stage",
        "company",
        "owner",
        "amount",
        "currency",
        "exchange_rate",
        "expected_close_on",
        "description",
        "contacts",
        "created_at",
    }
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    values = collect(
        {
            "name": lambda: clean_text(data.get("name"), "name", NAME_MAX, required=True),
            "pipeline": lambda: clean_pipeline(data.get("pipeline")),
            "company": lambda: clean_company(data.get("company")),
            "owner": lambda: (
                clean_owner(data["owner"]) if "owner" in data else clean_owner(actor.user)
            ),
            "amount": lambda: clean_amount(data.get("amount", "0") or "0"),
            "currency": lambda: clean_currency(data.get("currency") or base_currency()),
            "expected_close_on": lambda: clean_date(
                data.get("expected_close_on"), "expected_close_on"
            ),
            "description": lambda: clean_text(data.get("description"), "description", TEXT_MAX),
            "contacts": lambda: clean_contacts(data.get("contacts")),
            "created_at": lambda: clean_moment(data.get("created_at"), "created_at"),
        }
    )
    pipeline = values.pop("pipeline")
    stage_ref = data.get("stage")
    values["stage"] = (
        clean_stage(stage_ref, pipeline) if stage_ref not in (None, "") else first_stage(pipeline)
    )
    rate, amount_base = money_at_rate(
        values["amount"], values["currency"], data.get("exchange_rate"), "exchange_rate" in data
    )
    _check_owner_choice(actor, values["owner"])
    contacts = values.pop("contacts")
    now = timezone.now()
    created_at = values.pop("created_at") or now
    with transaction.atomic():
        deal = Deal.objects.create(
            **values,
            pipeline=pipeline,
            status=DealStatus.OPEN,
            exchange_rate=rate,
            amount_base=amount_base,
            created_by=actor.user,
            created_at=created_at,
            stage_changed_at=created_at,
        )
        _history(deal, actor=actor, from_stage=None, from_status="", at=created_at)
        DealContact.objects.bulk_create(
            DealContact(deal=deal, person=person, role=role, is_primary=primary)
            for person, role, primary in contacts
        )
        record_audit(
            actor=actor,
            event="deal_created",
            target=deal,
            changes={
                **diff({}, snapshot(deal, AUDITED)),
                **(
                    {"contacts": [None, [f"{p} ({r})" for p, r, _ in contacts]]} if contacts else {}
                ),
            },
        )
        _advance(
            actor,
            deal,
            [person for person, _, _ in contacts],
            Stage.OPPORTUNITY,
            f"Deal “{deal.name}” opened",
            at=created_at,
        )
    return deal


def update_deal(*, actor: Actor, deal: Deal, data: dict[str, Any]) -> Deal:
    """Change the fields given, all or nothing.

    `stage` (and `pipeline`) move an open deal as `move_deal` does (a pipeline alone: to
    its first stage); status changes go through `close_deal` and `reopen_deal`.
    `close_reason`, `competitor` and `close_note` are for closed deals (fixing the
    record); changing the amount, currency or rate works out `amount_base` again.
    """
    require(actor, "deals.edit", deal)
    if "status" in data:
        raise ValidationError({"status": "Close or reopen the deal instead."})
    unknown = sorted(set(data) - EDITABLE)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    checks: dict[str, Any] = {}
    if "name" in data:
        checks["name"] = lambda: clean_text(data["name"], "name", NAME_MAX, required=True)
    if "company" in data:
        checks["company"] = lambda: clean_company(data["company"])
    if "owner" in data:
        checks["owner"] = lambda: clean_owner(data["owner"])
    if "amount" in data:
        checks["amount"] = lambda: clean_amount(data["amount"])
    if "currency" in data:
        checks["currency"] = lambda: clean_currency(data["currency"] or base_currency())
    if "expected_close_on" in data:
        checks["expected_close_on"] = lambda: clean_date(
            data["expected_close_on"], "expected_close_on"
        )
    if "description" in data:
        checks["description"] = lambda: clean_text(data["description"], "description", TEXT_MAX)
    if "competitor" in data:
        checks["competitor"] = lambda: clean_text(data["competitor"], "competitor", COMPETITOR_MAX)
    if "close_note" in data:
        checks["close_note"] = lambda: clean_text(data["close_note"], "close_note", TEXT_MAX)
    values = collect(checks)
    if "owner" in values:
        _check_owner_choice(actor, values["owner"])
    with transaction.atomic():
        deal = _locked(deal)
        require(actor, "deals.edit", deal)  # the owner may have changed meanwhile
        before = snapshot(deal, AUDITED)
        if "close_reason" in data:
            if deal.status == DealStatus.OPEN:
                raise ValidationError({"close_reason": "An open deal has no close reason."})
            values["close_reason"] = _reason(deal.status, data["close_reason"], "close_reason")
        for name, value in values.items():
            setattr(deal, name, value)
        if {"amount", "currency", "exchange_rate"} & set(data):
            rate_given = "exchange_rate" in data
            rate = data["exchange_rate"] if rate_given else None
            if not rate_given and deal.currency == before["currency"]:
                rate = deal.exchange_rate  # same currency: keep its rate
            deal.exchange_rate, deal.amount_base = money_at_rate(
                deal.amount, deal.currency, rate, rate_given
            )
        changes = diff(before, snapshot(deal, AUDITED))
        if changes:
            deal.save()
            record_audit(actor=actor, event="deal_changed", target=deal, changes=changes)
        stage_ref, pipeline_ref = data.get("stage"), data.get("pipeline")
        if stage_ref not in (None, "") or pipeline_ref not in (None, ""):
            pipeline = clean_pipeline(pipeline_ref) if pipeline_ref not in (None, "") else None
            if stage_ref not in (None, ""):
                target = clean_stage(stage_ref, pipeline)
            else:
                assert pipeline is not None
                target = deal.stage if pipeline.pk == deal.pipeline_id else first_stage(pipeline)
            if target.pk != deal.stage_id:
                deal = move_deal(actor=actor, deal=deal, stage_id=target.pk)
    return deal


def move_deal(*, actor: Actor, deal: Deal, stage_id: int, note: str = "") -> Deal:
    """Move an open deal to another stage (of its pipeline, or of another one: the deal
    goes to that pipeline). The same stage again changes nothing."""
    require(actor, "deals.edit", deal)
    note = clean_text(note, "note", NOTE_MAX)
    target = clean_stage(stage_id, None)
    with transaction.atomic():
        deal = _locked(deal)
        require(actor, "deals.edit", deal)
        if deal.status != DealStatus.OPEN:
            raise ValidationError(
                {"stage": f"The deal is {deal.get_status_display().lower()}; reopen it first."}
            )
        if target.pk == deal.stage_id:
            return deal
        before = snapshot(deal, ("pipeline", "stage"))
        from_stage = deal.stage
        now = timezone.now()
        deal.stage, deal.pipeline, deal.stage_changed_at = target, target.pipeline, now
        deal.save(update_fields=["stage", "pipeline", "stage_changed_at", "updated_at"])
        _history(
            deal, actor=actor, from_stage=from_stage, from_status=deal.status, at=now, note=note
        )
        record_audit(
            actor=actor,
            event="deal_moved",
            target=deal,
            changes=diff(before, snapshot(deal, ("pipeline", "stage"))),
        )
    return deal


def _reason(status: str, reason_id: Any, field: str = "reason_id") -> CloseReason | None:
    """The reason for closing `status` (won/lost): an active one of that list; required
    for lost while the lost list offers any."""
    ensure_default_reasons()
    if reason_id in (None, ""):
        if (
            status == DealStatus.LOST
            and CloseReason.objects.filter(kind=DealStatus.LOST, is_active=True).exists()
        ):
            raise ValidationError({field: "Say why the deal was lost: choose a reason."})
        return None
    if isinstance(reason_id, CloseReason):
        reason: CloseReason | None = reason_id
    else:
        reason = CloseReason.objects.filter(pk=clean_pk(reason_id, field)).first()
    if reason is None or not reason.is_active:
        raise ValidationError({field: f"There is no active reason {reason_id}."})
    if reason.kind != status:
        raise ValidationError({field: f"“{reason.name}” is a {reason.kind} reason, not {status}."})
    return reason


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
    """Close an open deal won or lost, from the stage it is in (which it keeps).

    Lost needs a reason from the active lost list; won may take one from the won list.
    Winning moves the deal's contacts to `customer`. `closed_at` (imports, the demo, a
    deal closed last Friday) is not in the future nor before the deal was opened.
    """
    require(actor, "deals.close", deal)
    if status not in (DealStatus.WON, DealStatus.LOST):
        raise ValidationError({"status": "Use won or lost."})
    values = collect(
        {
            "close_reason": lambda: _reason(status, reason_id),
            "competitor": lambda: clean_text(competitor, "competitor", COMPETITOR_MAX),
            "close_note": lambda: clean_text(note, "note", TEXT_MAX),
            "closed_at": lambda: clean_moment(closed_at, "closed_at"),
        }
    )
    with transaction.atomic():
        deal = _locked(deal)
        require(actor, "deals.close", deal)
        if deal.status != DealStatus.OPEN:
            raise ValidationError(
                {"status": f"The deal is {deal.get_status_display().lower()} already."}
            )
        when = values.pop("closed_at") or timezone.now()
        if when < deal.created_at:
            raise ValidationError({"closed_at": "Not before the deal was opened."})
        before = snapshot(deal, AUDITED)
        for name, value in values.items():
            setattr(deal, name, value)
        deal.status, deal.closed_at = status, when
        deal.save()
        _history(deal, actor=actor, from_stage=deal.stage, from_status=DealStatus.OPEN, at=when)
        record_audit(
            actor=actor,
            event="deal_closed",
            target=deal,
            changes=diff(before, snapshot(deal, AUDITED)),
        )
        if status == DealStatus.WON:
            _advance(
                actor,
                deal,
                _contact_people(deal),
                Stage.CUSTOMER,
                f"Deal “{deal.name}” won",
                at=when,
            )
    return deal


def reopen_deal(*, actor: Actor, deal: Deal, stage_id: int | None = None) -> Deal:
    """Open a won or lost deal again, at `stage_id` or the stage it was closed from (its
    pipeline's first active stage when that one is archived). The close reason, note
    and time are cleared (the history and the audit trail keep them); contacts keep
    their funnel stage."""
    require(actor, "deals.close", deal)
    with transaction.atomic():
        deal = _locked(deal)
        require(actor, "deals.close", deal)
        if deal.status == DealStatus.OPEN:
            raise ValidationError({"status": "The deal is open already."})
        if stage_id not in (None, ""):
            target = clean_stage(stage_id, None)
        elif deal.stage.is_active and deal.pipeline.is_active:
            target = deal.stage
        else:
            target = first_stage(deal.pipeline if deal.pipeline.is_active else default_pipeline())
        before = snapshot(deal, AUDITED)
        from_stage, from_status = deal.stage, deal.status
        now = timezone.now()
        deal.status = DealStatus.OPEN
        deal.stage, deal.pipeline, deal.stage_changed_at = target, target.pipeline, now
        deal.close_reason, deal.close_note, deal.closed_at = None, "", None
        deal.save()
        _history(deal, actor=actor, from_stage=from_stage, from_status=from_status, at=now)
        record_audit(
            actor=actor,
            event="deal_reopened",
            target=deal,
            changes=diff(before, snapshot(deal, AUDITED)),
        )
    return deal


def add_contact(
    *, actor: Actor, deal: Deal, person_id: int, role: str, is_primary: bool = False
) -> DealContact:
    """Put a person on the deal with their role (a second call changes the role). On an
    open deal they move on to `opportunity`, on a won one to `customer`."""
    require(actor, "deals.edit", deal)
    values = collect({"person": lambda: clean_person(person_id), "role": lambda: clean_role(role)})
    if not isinstance(is_primary, bool):
        raise ValidationError({"is_primary": "Give true or false."})
    person = values["person"]
    with transaction.atomic():
        deal = _locked(deal)
        require(actor, "deals.edit", deal)
        contact = DealContact.objects.filter(deal=deal, person=person).first()
        before = (contact.role, contact.is_primary) if contact else None
        if is_primary:
            DealContact.objects.filter(deal=deal, is_primary=True).exclude(person=person).update(
                is_primary=False
            )
        if contact is None:
            contact = DealContact.objects.create(
                deal=deal, person=person, role=values["role"], is_primary=is_primary
            )
        else:
            contact.role, contact.is_primary = values["role"], is_primary
            contact.save(update_fields=["role", "is_primary"])
        if before is None:
            deal.save(update_fields=["updated_at"])  # the deal's contacts changed
        if before != (contact.role, contact.is_primary):
            record_audit(
                actor=actor,
                event="deal_contact_added",
                target=deal,
                changes={
                    "contact": [
                        None if before is None else f"{person} ({before[0]})",
                        f"{person} ({contact.role}{', primary' if is_primary else ''})",
                    ]
                },
            )
        if before is None and deal.status == DealStatus.OPEN:
            _advance(actor, deal, [person], Stage.OPPORTUNITY, f"Added to deal “{deal.name}”")
        elif before is None and deal.status == DealStatus.WON:
            _advance(actor, deal, [person], Stage.CUSTOMER, f"Added to won deal “{deal.name}”")
    return contact


def remove_contact(*, actor: Actor, deal: Deal, person_id: int) -> None:
    """Take a person off the deal (their funnel stage stays)."""
    require(actor, "deals.edit", deal)
    pk = clean_pk(person_id, "person")
    with transaction.atomic():
        deal = _locked(deal)
        require(actor, "deals.edit", deal)
        contact = (
            DealContact.objects.select_related("person").filter(deal=deal, person_id=pk).first()
        )
        if contact is None:
            raise ValidationError({"person": f"Person {person_id} is not on this deal."})
        label = f"{contact.person} ({contact.role})"
        contact.delete()
        deal.save(update_fields=["updated_at"])  # the deal's contacts changed
        record_audit(
            actor=actor,
            event="deal_contact_removed",
            target=deal,
            changes={"contact": [label, None]},
        )


def delete_deal(*, actor: Actor, deal: Deal) -> None:
    """Delete a deal for good, with its contacts list and history (one opened by mistake;
    a deal that did not happen is closed lost instead). The audit trail keeps what it was."""
    require(actor, "deals.delete", deal)
    with transaction.atomic():
        deal = _locked(deal)
        require(actor, "deals.delete", deal)
        record_audit(
            actor=actor,
            event="deal_deleted",
            target=deal,
            changes={name: [value, None] for name, value in snapshot(deal, AUDITED).items()},
        )
        deal.delete()
