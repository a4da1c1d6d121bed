"""Reviewing duplicate candidates: dismissing, merging and unmerging two people.

Finding them lives in dedup/scan.py; its public names are importable from here too.

Rules this module carries:
- A merge moves everything of the merged person to the survivor and keeps the
  merged person soft-deleted with `merged_into`, never hard-deleted: the Merge
  row records both people's fields and the ids of what moved, so unmerge puts
  back exactly that.
- Both people are locked for a merge: two merges at once cannot both take the
  same person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.campaigns.models import Touchpoint
from tandem.capture.models import Consent, ConsentEvent, ConsentStatus
from tandem.core.audit import diff, record_audit
from tandem.dedup.models import CandidateStatus, DuplicateCandidate, Merge
from tandem.dedup.scan import (  # noqa: F401 (the public names of finding, kept importable here)
    ScanResult,
    StoreResult,
    candidates_at_threshold,
    duplicate_threshold,
    find_candidates_for,
    scan_all,
)
from tandem.people.fields import PERSON_VALUE_FIELDS
from tandem.people.models import (
    FUNNEL_ORDER,
    Activity,
    Person,
    PersonEmail,
    PersonPhone,
    Stage,
    StageChange,
)
from tandem.people.normalize import name_key

# Fields a reviewer picks one by one on the merge screen.
MERGE_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "company",
    "street",
    "city",
    "postcode",
    "region",
    "country",
    "owner",
    "source",
    "stage",
    "email",
    "phone",
)
# Fields that may also be given as a typed value, not only "survivor"/"merged".
TYPED_FIELDS = PERSON_VALUE_FIELDS
# Everything a merge may change on a person, as kept in Merge.before.
SNAPSHOT_FIELDS = (
    "first_name",
    "last_name",
    "first_name_key",
    "last_name_key",
    "email",
    "phone",
    "title",
    "company",
    "street",
    "city",
    "postcode",
    "region",
    "country",
    "owner",
    "stage",
    "stage_changed_at",
    "source",
    "custom_fields",
    "deleted_at",
    "merged_into",
)
CUSTOM_PREFIX = "custom:"
SURVIVOR, MERGED = "survivor", "merged"
# --- reviewing -----------------------------------------------------------------------------


def _pair(x: int, y: int) -> tuple[int, int]:
    return (x, y) if x < y else (y, x)


def dismiss_candidate(*, actor: Actor, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """ "Not duplicates": the pair stays resolved; later scans leave it alone."""
    a = Person.objects.get(pk=candidate.person_a_id)
    b = Person.objects.get(pk=candidate.person_b_id)
    require(actor, "people.merge", a)
    require(actor, "people.merge", b)
    with transaction.atomic():
        updated = DuplicateCandidate.objects.filter(
            pk=candidate.pk, status=CandidateStatus.OPEN
        ).update(
            status=CandidateStatus.DISMISSED, resolved_at=timezone.now(), resolved_by=actor.user
        )
        if not updated:
            raise ValidationError({"candidate": "This pair was already resolved."})
        candidate.refresh_from_db()
        record_audit(
            actor=actor,
            event="dismissed",
            target=candidate,
            changes={"status": [CandidateStatus.OPEN, CandidateStatus.DISMISSED]},
        )
    return candidate


# --- merge -----------------------------------------------------------------------------------


def _value(person: Person, name: str) -> Any:
    if name in ("company", "owner"):
        return getattr(person, f"{name}_id")
    return getattr(person, name)


def _is_empty(value: Any) -> bool:
    return value in (None, "", {}, [])


def _newer(survivor: Person, merged: Person) -> str:
    return MERGED if merged.updated_at > survivor.updated_at else SURVIVOR


def default_choices(survivor: Person, merged: Person) -> dict[str, str]:
    """What the merge screen preselects: the non-empty value, else the most recent one.

    The stage keeps whoever is further along the funnel (a customer stays a customer).
    """
    newer = _newer(survivor, merged)
    out: dict[str, str] = {}
    for name in MERGE_FIELDS:
        mine, theirs = _value(survivor, name), _value(merged, name)
        if name == "stage":
            if mine in FUNNEL_ORDER and theirs in FUNNEL_ORDER:
                out[name] = MERGED if FUNNEL_ORDER[theirs] > FUNNEL_ORDER[mine] else SURVIVOR
            else:
                out[name] = (
                    MERGED
                    if (merged.stage_changed_at or merged.created_at)
                    > (survivor.stage_changed_at or survivor.created_at)
                    else SURVIVOR
                )
        elif _is_empty(mine) and not _is_empty(theirs):
            out[name] = MERGED
        elif not _is_empty(theirs) and mine != theirs:
            out[name] = newer
        else:
            out[name] = SURVIVOR
    mine_cf, theirs_cf = survivor.custom_fields or {}, merged.custom_fields or {}
    for key in sorted(set(mine_cf) | set(theirs_cf)):
        if _is_empty(mine_cf.get(key)) and not _is_empty(theirs_cf.get(key)):
            out[CUSTOM_PREFIX + key] = MERGED
        elif not _is_empty(theirs_cf.get(key)) and mine_cf.get(key) != theirs_cf.get(key):
            out[CUSTOM_PREFIX + key] = newer
        else:
            out[CUSTOM_PREFIX + key] = SURVIVOR
    return out


def _model_field(name: str) -> Any:
    return Person._meta.get_field(name)


def _snapshot(person: Person) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(person, _model_field(name).attname)
        out[name] = value.isoformat() if isinstance(value, dt.datetime) else value
    out["primary_email_id"] = (
        PersonEmail.objects.filter(person=person, is_primary=True)
        .values_list("id", flat=True)
        .first()
    )
    out["primary_phone_id"] = (
        PersonPhone.objects.filter(person=person, is_primary=True)
        .values_list("id", flat=True)
        .first()
    )
    return out


def _restore(person: Person, values: dict[str, Any], only: Iterable[str] | None = None) -> None:
    for name in only if only is not None else SNAPSHOT_FIELDS:
        model_field = _model_field(name)
        setattr(person, model_field.attname, model_field.to_python(values[name]))


def _clean_choices(
    survivor: Person, merged: Person, choices: dict[str, Any] | None
) -> dict[str, Any]:
    """Every field's pick: "survivor", "merged" or (text fields) a typed value."""
    from tandem.people.services import clean_person_fields

    picked: dict[str, Any] = default_choices(survivor, merged)
    errors: dict[str, list[str]] = {}
    for name, choice in (choices or {}).items():
        known = name in MERGE_FIELDS or (name.startswith(CUSTOM_PREFIX) and name in picked)
        if not known:
            errors.setdefault(name, []).append("Not a field a merge can pick.")
            continue
        if choice in (SURVIVOR, MERGED):
            picked[name] = choice
        elif name in TYPED_FIELDS and isinstance(choice, str):
            try:
                value = clean_person_fields({name: choice}, survivor)[name]
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    errors.setdefault(key, []).extend(messages)
                continue
            picked[name] = {"value": value}
        else:
            errors.setdefault(name, []).append(
                'Pick "survivor" or "merged"'
                + (" or type a value." if name in TYPED_FIELDS else ".")
            )
    if errors:
        raise ValidationError(errors)
    return picked


def _locked_pair(first_id: int, second_id: int) -> dict[int, Person]:
    """Both rows locked, in id order so two merges of the same people cannot deadlock."""
    people = list(
        Person.objects.select_for_update().filter(pk__in=[first_id, second_id]).order_by("pk")
    )
    return {p.pk: p for p in people}


def _resolve_primary(model: Any, survivor: Person, chosen_id: int | None) -> str:
    """Make the chosen row primary (with none chosen, the oldest, if any); return its value."""
    rows = model.objects.filter(person=survivor)
    if chosen_id is None:
        chosen_id = rows.order_by("id").values_list("id", flat=True).first()
    if chosen_id is None:
        rows.filter(is_primary=True).update(is_primary=False)
        return ""
    rows.filter(is_primary=True).exclude(pk=chosen_id).update(is_primary=False)
    model.objects.filter(pk=chosen_id).update(is_primary=True)
    row = model.objects.get(pk=chosen_id)
    return row.email_normalized if model is PersonEmail else row.number


def _consent_rank(consent: Consent) -> tuple[int, dt.datetime]:
    """A decision (granted or withdrawn) beats a pending request; then the most recent wins."""
    decided = consent.status in (ConsentStatus.GRANTED, ConsentStatus.WITHDRAWN)
    return (1 if decided else 0, consent.updated_at)


def _move_consents(survivor: Person, merged: Person) -> dict[str, Any]:
    """Consents per purpose: move the ones the survivor lacks; where both have one, keep the
    stronger / more recent state on the survivor's row and move the proof (events) over."""
    moved: list[int] = []
    events: dict[str, list[int]] = {}
    overridden: list[dict[str, Any]] = []
    mine = {c.purpose_id: c for c in Consent.objects.filter(person=survivor)}
    for theirs in Consent.objects.filter(person=merged):
        ours = mine.get(theirs.purpose_id)
        if ours is None:
            moved.append(theirs.pk)
            continue
        event_ids = list(ConsentEvent.objects.filter(consent=theirs).values_list("id", flat=True))
        if event_ids:
            ConsentEvent.objects.filter(pk__in=event_ids).update(consent=ours)
            events[str(theirs.pk)] = event_ids
        if _consent_rank(theirs) > _consent_rank(ours):
            overridden.append(
                {
                    "id": ours.pk,
                    "status": ours.status,
                    "text_id": ours.text_id,
                    "updated_at": ours.updated_at.isoformat(),
                }
            )
            Consent.objects.filter(pk=ours.pk).update(
                status=theirs.status, text_id=theirs.text_id, updated_at=theirs.updated_at
            )
    if moved:
        Consent.objects.filter(pk__in=moved).update(person=survivor)
    return {"consents": moved, "consent_events": events, "consent_overrides": overridden}


def _move(model: Any, merged: Person, survivor: Person) -> list[int]:
    ids = list(model.objects.filter(person=merged).values_list("id", flat=True))
    if ids:
        model.objects.filter(pk__in=ids).update(person=survivor)
    return ids


def merge_people(
    *,
    actor: Actor,
    survivor: Person,
    merged: Person,
    choices: dict[str, Any] | None = None,
) -> Merge:
    """Merge `merged` into `survivor`, field by field; everything else moves to the survivor.

    `choices` maps a field (see MERGE_FIELDS, or "custom:<key>") to "survivor",
    "merged" or, for text fields, a typed value; unnamed fields take
    `default_choices`. The merged person is kept soft-deleted for unmerge.
    """
    require(actor, "people.merge", survivor)
    require(actor, "people.merge", merged)
    if survivor.pk == merged.pk:
        raise ValidationError({"merged": "A person cannot be merged with themselves."})
    with transaction.atomic():
        locked = _locked_pair(survivor.pk, merged.pk)
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        for role, person in (("survivor", survivor), ("merged", merged)):
            if person.deleted_at is not None:
                why = (
                    f"was merged into #{person.merged_into_id}"
                    if person.merged_into_id
                    else "is deleted"
                )
                raise ValidationError({role: f"{person} {why}; reload the pair."})
        require(actor, "people.merge", survivor)
        require(actor, "people.merge", merged)
        picked = _clean_choices(survivor, merged, choices)
        before = {"survivor": _snapshot(survivor), "merged": _snapshot(merged)}
        now = timezone.now()

        moved: dict[str, Any] = {
            "touchpoints": _move(Touchpoint, merged, survivor),
            "activities": _move(Activity, merged, survivor),
            "stage_changes": _move(StageChange, merged, survivor),
        }
        email_ids = list(PersonEmail.objects.filter(person=merged).values_list("id", flat=True))
        PersonEmail.objects.filter(pk__in=email_ids).update(person=survivor, is_primary=False)
        moved["emails"] = email_ids
        have = set(PersonPhone.objects.filter(person=survivor).values_list("number", flat=True))
        phone_ids = list(
            PersonPhone.objects.filter(person=merged)
            .exclude(number__in=have)
            .values_list("id", flat=True)
        )
        PersonPhone.objects.filter(pk__in=phone_ids).update(person=survivor, is_primary=False)
        moved["phones"] = phone_ids
        moved.update(_move_consents(survivor, merged))

        # Field by field.
        for name in MERGE_FIELDS:
            choice = picked[name]
            if name in ("email", "phone", "stage"):
                continue
            if choice == MERGED:
                setattr(
                    survivor,
                    f"{name}_id" if name in ("company", "owner") else name,
                    _value(merged, name),
                )
            elif isinstance(choice, dict):
                setattr(survivor, name, choice["value"])
        custom = dict(survivor.custom_fields or {})
        for key, value in (merged.custom_fields or {}).items():
            if picked.get(CUSTOM_PREFIX + key) == MERGED:
                custom[key] = value
        survivor.custom_fields = custom
        survivor.first_name_key = name_key(survivor.first_name)
        survivor.last_name_key = name_key(survivor.last_name)

        email_from = MERGED if picked["email"] == MERGED else SURVIVOR
        phone_from = MERGED if picked["phone"] == MERGED else SURVIVOR
        survivor.email = _resolve_primary(
            PersonEmail, survivor, before[email_from]["primary_email_id"]
        )
        phone_id = before[phone_from]["primary_phone_id"]
        if phone_from == MERGED and phone_id is not None and phone_id not in phone_ids:
            # The same number was already the survivor's: use the survivor's row.
            number = PersonPhone.objects.get(pk=phone_id).number
            phone_id = (
                PersonPhone.objects.filter(person=survivor, number=number)
                .values_list("id", flat=True)
                .first()
            )
        survivor.phone = _resolve_primary(PersonPhone, survivor, phone_id)

        created_change = None
        if picked["stage"] == MERGED and merged.stage != survivor.stage:
            created_change = StageChange.objects.create(
                person=survivor,
                from_stage=survivor.stage,
                to_stage=merged.stage,
                changed_at=now,
                actor=actor.user,
                actor_label=actor.label[:150],
                reason=f"Merged with {merged} (#{merged.pk})",
            )
            survivor.stage, survivor.stage_changed_at = merged.stage, now
        moved["created_stage_change"] = created_change.pk if created_change else None
        survivor.save()
        moved["survivor_after"] = {
            k: v for k, v in _snapshot(survivor).items() if k in SNAPSHOT_FIELDS
        }

        merged.deleted_at, merged.merged_into = now, survivor
        merged.email = ""
        if not PersonPhone.objects.filter(person=merged).exists():
            merged.phone = ""
        merged.save()

        merge = Merge.objects.create(
            survivor=survivor,
            merged=merged,
            before=before,
            moved=moved,
            actor=actor.user,
            actor_label=actor.label[:150],
        )
        a, b = _pair(survivor.pk, merged.pk)
        DuplicateCandidate.objects.filter(person_a_id=a, person_b_id=b).update(
            status=CandidateStatus.MERGED, resolved_at=now, resolved_by=actor.user
        )
        changes = diff(
            {k: before["survivor"][k] for k in moved["survivor_after"]}, moved["survivor_after"]
        )
        changes.pop("first_name_key", None)
        changes.pop("last_name_key", None)
        changes["merged_person"] = [None, merged.pk]
        record_audit(actor=actor, event="merged", target=survivor, changes=changes)
        record_audit(
            actor=actor,
            event="merged_into",
            target=merged,
            changes={"merged_into": [None, survivor.pk]},
        )
        # The survivor may now match people the merged person was paired with.
        from tandem.dedup.tasks import enqueue_find_duplicates

        enqueue_find_duplicates([survivor.pk], "merge")
    return merge


def unmerge(*, actor: Actor, merge: Merge) -> Merge:
    """Undo a merge: both people's fields back, the moved rows back, the merged person live.

    A survivor field someone changed after the merge keeps its newer value.
    """
    with transaction.atomic():
        merge = Merge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise ValidationError({"merge": "This merge was already undone."})
        locked = _locked_pair(merge.survivor_id, merge.merged_id)
        survivor, merged = locked[merge.survivor_id], locked[merge.merged_id]
        require(actor, "people.merge", survivor)
        require(actor, "people.merge", merged)
        if survivor.deleted_at is not None:
            later = f" into #{survivor.merged_into_id}" if survivor.merged_into_id else ""
            raise ValidationError(
                {"merge": f"{survivor} was since merged{later} or deleted; undo that first."}
            )
        if merged.merged_into_id != survivor.pk:
            raise ValidationError({"merge": f"{merged} is no longer merged into {survivor}."})
        moved, before = merge.moved, merge.before

        Touchpoint.objects.filter(pk__in=moved["touchpoints"], person=survivor).update(
            person=merged
        )
        Activity.objects.filter(pk__in=moved["activities"], person=survivor).update(person=merged)
        StageChange.objects.filter(pk__in=moved["stage_changes"], person=survivor).update(
            person=merged
        )
        if moved.get("created_stage_change"):
            StageChange.objects.filter(pk=moved["created_stage_change"]).delete()
        PersonEmail.objects.filter(pk__in=moved["emails"], person=survivor).update(
            person=merged, is_primary=False
        )
        PersonPhone.objects.filter(pk__in=moved["phones"], person=survivor).update(
            person=merged, is_primary=False
        )
        for old_consent, event_ids in moved["consent_events"].items():
            ConsentEvent.objects.filter(pk__in=event_ids).update(consent_id=int(old_consent))
        for row in moved["consent_overrides"]:
            Consent.objects.filter(pk=row["id"]).update(
                status=row["status"],
                text_id=row["text_id"],
                updated_at=dt.datetime.fromisoformat(row["updated_at"]),
            )
        Consent.objects.filter(pk__in=moved["consents"], person=survivor).update(person=merged)

        # Fields: the merged person exactly as before; the survivor where the merge set them.
        after = moved["survivor_after"]
        current = _snapshot(survivor)
        untouched = [k for k in SNAPSHOT_FIELDS if current[k] == after.get(k, current[k])]
        _restore(survivor, before["survivor"], untouched)
        _restore(merged, before["merged"])
        for person, snap in ((survivor, before["survivor"]), (merged, before["merged"])):
            _primary_back(person, PersonEmail, snap["primary_email_id"])
            _primary_back(person, PersonPhone, snap["primary_phone_id"])
            person.email = (
                PersonEmail.objects.filter(person=person, is_primary=True)
                .values_list("email_normalized", flat=True)
                .first()
                or ""
            )
            person.phone = (
                PersonPhone.objects.filter(person=person, is_primary=True)
                .values_list("number", flat=True)
                .first()
                or ""
            )
        survivor.save()
        merged.save()

        merge.undone_at = timezone.now()
        merge.save(update_fields=["undone_at"])
        a, b = _pair(survivor.pk, merged.pk)
        DuplicateCandidate.objects.filter(
            person_a_id=a, person_b_id=b, status=CandidateStatus.MERGED
        ).update(status=CandidateStatus.OPEN, resolved_at=None, resolved_by=None)
        record_audit(
            actor=actor,
            event="unmerged",
            target=survivor,
            changes={"merged_person": [merged.pk, None]},
        )
        record_audit(
            actor=actor,
            event="unmerged",
            target=merged,
            changes={"merged_into": [survivor.pk, None]},
        )
    return merge


def _primary_back(person: Person, model: Any, primary_id: int | None) -> None:
    """Make the row that was primary before the merge primary again, if it is still theirs."""
    if primary_id is None or not model.objects.filter(pk=primary_id, person=person).exists():
        if not model.objects.filter(person=person, is_primary=True).exists():
            first = model.objects.filter(person=person).order_by("id").first()
            if first is not None:
                model.objects.filter(pk=first.pk).update(is_primary=True)
        return
    model.objects.filter(person=person, is_primary=True).exclude(pk=primary_id).update(
        is_primary=False
    )
    model.objects.filter(pk=primary_id).update(is_primary=True)


def stage_label(value: str) -> str:
    try:
        return Stage(value).label
    except ValueError:
        return value
