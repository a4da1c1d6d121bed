"""Every change to people and companies goes through these functions.

The web forms, the API, the importer, the demo and the CLI all call them, so
permission checks, validation, audit and stage history happen in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, require
from tandem.core.audit import diff, record_audit, snapshot
from tandem.core.bulk import build
from tandem.core.models import AuditEvent
from tandem.people import extensions
from tandem.people.activities import check_activity, log_activity  # noqa: F401 (re-exported)
from tandem.people.custom_fields import clean_custom_fields
from tandem.people.fields import PERSON_TEXT_FIELDS, PERSON_VALUE_FIELDS
from tandem.people.models import (
    FUNNEL_ORDER,
    Company,
    CompanySize,
    CustomFieldEntity,
    Person,
    PersonEmail,
    PersonPhone,
    PhoneKind,
    Stage,
    StageChange,
)
from tandem.people.normalize import (
    clean_country,
    clean_domain,
    clean_email,
    clean_phone,
    name_key,
    one_line,
)

PERSON_FIELDS = (*PERSON_TEXT_FIELDS, "country", "company", "owner", "custom_fields")
PERSON_AUDITED = (*PERSON_FIELDS, "email", "phone", "stage")
COMPANY_FIELDS = ("name", "domain", "industry", "size", "country", "owner", "custom_fields")


class DuplicateEmailError(Exception):
    """The normalised email already belongs to a person (the API answers 409)."""

    def __init__(self, email: str, person_id: int):
        self.email = email
        self.person_id = person_id
        super().__init__(f"{email} already belongs to person #{person_id}.")

    @property
    def detail(self) -> dict[str, Any]:
        return {"field": "email", "message": str(self), "existing_person_id": self.person_id}


# --- stage rules --------------------------------------------------------------------


def needs_reason(from_stage: str, to_stage: str) -> bool:
    """Going backwards in the funnel, or out of it, must say why."""
    if to_stage in (Stage.DISQUALIFIED, Stage.RECYCLED):
        return True
    if from_stage in FUNNEL_ORDER and to_stage in FUNNEL_ORDER:
        return FUNNEL_ORDER[to_stage] < FUNNEL_ORDER[from_stage]
    return False


def _stage(value: str, field: str = "stage") -> Stage:
    try:
        return Stage(value)
    except ValueError:
        keys = ", ".join(Stage.values)
        raise ValidationError({field: f"{value!r} is not a stage; use one of: {keys}."}) from None


# --- field cleaning -----------------------------------------------------------------


def _max_length(model: type[Person] | type[Company], name: str) -> int:
    field = model._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length
    return field.max_length


def _clean_text(data: dict[str, Any], name: str, max_length: int) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({name: "Must be text."})
    value = one_line(value.strip())
    if len(value) > max_length:
        raise ValidationError({name: f"At most {max_length} characters (got {len(value)})."})
    return value


def _check_owner(owner: User | None) -> None:
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": f"{owner.username} is not an active user."})


def clean_person_fields(data: dict[str, Any], current: Person | None) -> dict[str, Any]:
    """Validate the plain fields present in `data`; collect every error at once.

    The one check of a person's plain fields (text lengths, one line, country,
    company, owner, custom fields), for `current` or a new person (None). It
    writes nothing: dedup uses it to check the values a merge keeps.
    """
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in data:
        try:
            if name in PERSON_TEXT_FIELDS:
                out[name] = _clean_text(data, name, _max_length(Person, name))
            elif name == "country":
                out[name] = clean_country(data[name] or "")
            elif name == "company":
                if data[name] is not None and not isinstance(data[name], Company):
                    raise ValidationError({"company": "Must be a company."})
                out[name] = data[name]
            elif name == "owner":
                _check_owner(data[name])
                out[name] = data[name]
            elif name == "custom_fields":
                out[name] = clean_custom_fields(
                    CustomFieldEntity.PERSON,
                    data[name] or {},
                    current=current.custom_fields if current else None,
                )
            else:
                errors.setdefault(name, []).append("Unknown field.")
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return out


def _country_of(data: dict[str, Any]) -> str:
    """The person's country for reading a phone, if it is a valid one (its own error is reported apart)."""
    try:
        return clean_country(str(data.get("country") or ""))
    except ValidationError:
        return ""


def _apply_name_keys(person: Person) -> None:
    person.first_name_key = name_key(person.first_name)
    person.last_name_key = name_key(person.last_name)


def _insert_email(person: Person, typed: str, normalized: str, *, primary: bool) -> PersonEmail:
    """Insert under the unique constraint: the database, not a prior check, decides races."""
    try:
        with transaction.atomic():
            return PersonEmail.objects.create(
                person=person, email=typed, email_normalized=normalized, is_primary=primary
            )
    except IntegrityError:
        existing = (
            PersonEmail.objects.filter(email_normalized=normalized)
            .values_list("person_id", flat=True)
            .first()
        )
        if existing is None:
            raise
        raise DuplicateEmailError(normalized, existing) from None


def _insert_phone(
    person: Person, e164: str, original: str, *, primary: bool, kind: str
) -> PersonPhone:
    phone, _ = PersonPhone.objects.get_or_create(
        person=person,
        number=e164,
        defaults={"original": original, "is_primary": primary, "kind": kind},
    )
    return phone


# --- people -------------------------------------------------------------------------


@dataclass
class NewPerson:
    """A person checked by `check_new_person` and not written yet."""

    person: Person  # unsaved, with its cleaned fields, name keys, email and phone
    email: tuple[str, str] | None  # (as typed, normalised)
    phone: tuple[str, str] | None  # (E.164, as typed)
    stage: Stage


def check_new_person(
    *, data: dict[str, Any], email: str = "", phone: str = "", stage: str = Stage.LEAD
) -> NewPerson:
    """The checks every new person passes, wherever it is written from (`create_person`,
    `people.bulk.create_people_bulk`): a ValidationError names every problem at once."""
    if "custom_fields" not in data:
        data = {**data, "custom_fields": {}}
    errors: dict[str, list[str]] = {}
    checks = [
        ("fields", lambda: clean_person_fields(data, None)),
        ("stage", lambda: _stage(stage)),
        ("email", lambda: clean_email(email) if (email or "").strip() else None),
        (
            "phone",
            lambda: (
                clean_phone(phone, country=_country_of(data)) if (phone or "").strip() else None
            ),
        ),
    ]
    results: dict[str, Any] = {}
    for name, check in checks:
        try:
            results[name] = check()
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    fields, to_stage = results["fields"], results["stage"]
    cleaned_email, cleaned_phone = results["email"], results["phone"]
    if not (fields.get("first_name") or fields.get("last_name") or cleaned_email):
        raise ValidationError({"last_name": "Give at least a name or an email address."})
    person = build(Person, **fields, stage=to_stage)
    _apply_name_keys(person)
    if cleaned_email:
        person.email = cleaned_email[1]
    if cleaned_phone:
        person.phone = cleaned_phone[0]
    return NewPerson(person, cleaned_email, cleaned_phone, to_stage)


def created_changes(person: Person) -> dict[str, list[Any]]:
    """What the "created" audit event of a new person records: its non-empty values."""
    return diff(
        {},
        {k: v for k, v in snapshot(person, PERSON_AUDITED).items() if v not in ("", None, {})},
    )


def create_person(
    *,
    actor: Actor,
    data: dict[str, Any],
    email: str = "",
    phone: str = "",
    stage: str = Stage.LEAD,
    reason: str = "",
    created_at: dt.datetime | None = None,
) -> Person:
    """Add a person to the shared database.

    `data` holds the plain fields (names, title, address, company, owner,
    source, custom_fields); `email` and `phone` become the primary ones.
    """
    require(actor, "people.create")
    checked = check_new_person(data=data, email=email, phone=phone, stage=stage)
    person, to_stage = checked.person, checked.stage
    now = created_at or timezone.now()
    with transaction.atomic():
        person.stage_changed_at = now
        person.save()
        if created_at:
            Person.objects.filter(pk=person.pk).update(created_at=created_at, updated_at=created_at)
        if checked.email:
            _insert_email(person, *checked.email, primary=True)
        if checked.phone:
            _insert_phone(person, *checked.phone, primary=True, kind=PhoneKind.WORK)
        StageChange.objects.create(
            person=person,
            from_stage="",
            to_stage=to_stage,
            changed_at=now,
            actor=actor.user,
            actor_label=actor.label[:150],
            reason=reason or "Created",
        )
        record_audit(actor=actor, event="created", target=person, changes=created_changes(person))
        extensions.people_touched([person.pk], "created")  # scoring scores them (ADR 0005)
    return person


def update_person(*, actor: Actor, person: Person, data: dict[str, Any]) -> Person:
    """Change the fields present in `data`; `email`/`phone` set the primary ones.

    The stage is not changed here but by `change_stage`, which asks for a reason.
    """
    require(actor, "people.edit", person)
    data = dict(data)
    if "stage" in data:
        raise ValidationError({"stage": "Change the stage with its own action, giving a reason."})
    new_email = data.pop("email", None)
    new_phone = data.pop("phone", None)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        if person.deleted_at is not None:
            raise ValidationError({"person": "This person is deleted; restore them first."})
        before = snapshot(person, PERSON_AUDITED)
        fields = clean_person_fields(data, person)
        for name, value in fields.items():
            setattr(person, name, value)
        if "first_name" in fields or "last_name" in fields:
            if not (person.first_name or person.last_name or person.email or new_email):
                raise ValidationError({"last_name": "Give at least a name or an email address."})
            _apply_name_keys(person)
        if new_email is not None:
            _set_primary_email(person, new_email)
        if new_phone is not None:
            _set_primary_phone(person, new_phone)
        after = snapshot(person, PERSON_AUDITED)
        changes = diff(before, after)
        if changes:
            person.save()
            record_audit(actor=actor, event="changed", target=person, changes=changes)
            extensions.people_touched([person.pk], "edited")  # fit rules read the fields
    return person


def _set_primary_email(person: Person, raw: str) -> None:
    if not (raw or "").strip():
        if person.email and not (person.first_name or person.last_name):
            raise ValidationError({"email": "A person without a name needs an email address."})
        PersonEmail.objects.filter(person=person, is_primary=True).update(is_primary=False)
        person.email = ""
        return
    typed, normalized = clean_email(raw)
    existing = PersonEmail.objects.filter(email_normalized=normalized).first()
    if existing and existing.person_id != person.pk:
        raise DuplicateEmailError(normalized, existing.person_id)
    PersonEmail.objects.filter(person=person, is_primary=True).exclude(
        email_normalized=normalized
    ).update(is_primary=False)
    if existing:
        if not existing.is_primary:
            PersonEmail.objects.filter(pk=existing.pk).update(is_primary=True)
    else:
        _insert_email(person, typed, normalized, primary=True)
    person.email = normalized


def _set_primary_phone(person: Person, raw: str) -> None:
    PersonPhone.objects.filter(person=person, is_primary=True).update(is_primary=False)
    if not (raw or "").strip():
        person.phone = ""
        return
    e164, original = clean_phone(raw, country=person.country)
    phone = _insert_phone(person, e164, original, primary=True, kind=PhoneKind.WORK)
    if not phone.is_primary:
        PersonPhone.objects.filter(pk=phone.pk).update(is_primary=True)
    person.phone = e164


# Fields a capture may fill on an existing person when they are empty.
FILLABLE = PERSON_VALUE_FIELDS


def fill_empty_fields(
    *,
    actor: Actor,
    person: Person,
    data: dict[str, Any],
    phone: str = "",
    company: Company | None = None,
) -> dict[str, Any]:
    """Fill a known person's empty fields from a capture; return the other values as proposed.

    A value for a field the person already has, if it differs, is not written but
    returned (the capture keeps it on its touchpoint for the owner to take). An
    actor who may not edit this person (a salesperson capturing a colleague's
    contact) fills nothing: every value given comes back as proposed. Values are
    checked as a new person's would be, so a ValidationError names each field
    before anything is written.
    """
    may_fill = can(actor, "people.edit", person)
    proposed: dict[str, Any] = {}
    filled: dict[str, list[Any]] = {}
    given = {n: str(data[n]) for n in FILLABLE if data.get(n) not in (None, "")}
    cleaned = clean_person_fields(given, person)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        for name in FILLABLE:
            value = cleaned.get(name)
            if not value:
                continue
            current = getattr(person, name)
            if not current and may_fill:
                setattr(person, name, value)
                filled[name] = [current, value]
            elif name_key(current) != name_key(value):
                proposed[name] = value
        if company is not None:
            if person.company_id is None and may_fill:
                person.company = company
                filled["company"] = [None, company.pk]
            elif person.company_id != company.pk:
                proposed["company"] = company.name
        if phone:
            e164, original = clean_phone(phone, country=person.country)
            if not person.phone and may_fill:
                _set_primary_phone(person, original)
                filled["phone"] = [None, e164]
            elif person.phone != e164 and not person.phones.filter(number=e164).exists():
                proposed["phone"] = e164
        if filled:
            _apply_name_keys(person)
            person.save()
            record_audit(actor=actor, event="filled_by_capture", target=person, changes=filled)
    return proposed


def add_email(
    *, actor: Actor, person: Person, email: str, make_primary: bool = False
) -> PersonEmail:
    require(actor, "people.edit", person)
    typed, normalized = clean_email(email)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        if make_primary or not person.email:
            _set_primary_email(person, typed)
            person.save(update_fields=["email", "updated_at"])
            address = PersonEmail.objects.get(email_normalized=normalized)
        else:
            address = _insert_email(person, typed, normalized, primary=False)
        record_audit(
            actor=actor, event="email_added", target=person, changes={"emails": [None, normalized]}
        )
    return address


def remove_email(*, actor: Actor, person: Person, email_id: int) -> None:
    require(actor, "people.edit", person)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        address = PersonEmail.objects.filter(person=person, pk=email_id).first()
        if address is None:
            raise ValidationError({"email": "This person has no such email address."})
        if address.is_primary:
            others = PersonEmail.objects.filter(person=person).exclude(pk=address.pk).first()
            if others is None and not (person.first_name or person.last_name):
                raise ValidationError({"email": "A person without a name needs an email address."})
            address.delete()
            if others:
                PersonEmail.objects.filter(pk=others.pk).update(is_primary=True)
            person.email = others.email_normalized if others else ""
            person.save(update_fields=["email", "updated_at"])
        else:
            address.delete()
        record_audit(
            actor=actor,
            event="email_removed",
            target=person,
            changes={"emails": [address.email_normalized, None]},
        )


def make_primary_email(*, actor: Actor, person: Person, email_id: int) -> None:
    address = PersonEmail.objects.filter(person=person, pk=email_id).first()
    if address is None:
        raise ValidationError({"email": "This person has no such email address."})
    update_person(actor=actor, person=person, data={"email": address.email})


def add_phone(
    *,
    actor: Actor,
    person: Person,
    phone: str,
    kind: str = PhoneKind.WORK,
    make_primary: bool = False,
) -> PersonPhone:
    require(actor, "people.edit", person)
    if kind not in PhoneKind.values:
        raise ValidationError({"kind": f"Use one of: {', '.join(PhoneKind.values)}."})
    e164, original = clean_phone(phone, country=person.country)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        primary = make_primary or not person.phone
        if primary:
            PersonPhone.objects.filter(person=person, is_primary=True).update(is_primary=False)
        number = _insert_phone(person, e164, original, primary=primary, kind=kind)
        if primary:
            PersonPhone.objects.filter(pk=number.pk).update(is_primary=True)
            person.phone = e164
            person.save(update_fields=["phone", "updated_at"])
        record_audit(
            actor=actor, event="phone_added", target=person, changes={"phones": [None, e164]}
        )
    return number


def remove_phone(*, actor: Actor, person: Person, phone_id: int) -> None:
    require(actor, "people.edit", person)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        number = PersonPhone.objects.filter(person=person, pk=phone_id).first()
        if number is None:
            raise ValidationError({"phone": "This person has no such phone number."})
        number.delete()
        if number.is_primary:
            other = PersonPhone.objects.filter(person=person).first()
            if other:
                PersonPhone.objects.filter(pk=other.pk).update(is_primary=True)
            person.phone = other.number if other else ""
            person.save(update_fields=["phone", "updated_at"])
        record_audit(
            actor=actor,
            event="phone_removed",
            target=person,
            changes={"phones": [number.number, None]},
        )


def change_stage(
    *,
    person: Person,
    to_stage: str,
    actor: Actor,
    reason: str = "",
    changed_at: dt.datetime | None = None,
) -> Person:
    """Move a person along the funnel; backwards or out of it needs a reason.

    Marketing reads these reasons by campaign and segment (J3).
    """
    require(actor, "people.change_stage", person)
    target = _stage(to_stage, "to")
    reason = (reason or "").strip()
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        if person.deleted_at is not None:
            raise ValidationError({"person": "This person is deleted; restore them first."})
        from_stage = person.stage
        if target == from_stage:
            raise ValidationError({"to": f"{person} is already at {target.label}."})
        if needs_reason(from_stage, target) and not reason:
            raise ValidationError(
                {
                    "reason": f"Say why {person} goes from {Stage(from_stage).label} to {target.label}."
                }
            )
        when = changed_at or timezone.now()
        person.stage, person.stage_changed_at = target, when
        person.save(update_fields=["stage", "stage_changed_at", "updated_at"])
        StageChange.objects.create(
            person=person,
            from_stage=from_stage,
            to_stage=target,
            changed_at=when,
            actor=actor.user,
            actor_label=actor.label[:150],
            reason=reason,
        )
        record_audit(
            actor=actor,
            event="stage_changed",
            target=person,
            changes={"stage": [from_stage, target.value]},
        )
    return person


def delete_person(*, actor: Actor, person: Person) -> Person:
    """Soft delete: hidden from lists, restorable by an admin."""
    require(actor, "people.delete", person)
    with transaction.atomic():
        updated = Person.objects.filter(pk=person.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now()
        )
        if updated:
            person.refresh_from_db()
            record_audit(actor=actor, event="deleted", target=person)
    return person


def restore_person(*, actor: Actor, person: Person) -> Person:
    require(actor, "people.restore", person)
    with transaction.atomic():
        updated = Person.objects.filter(pk=person.pk, deleted_at__isnull=False).update(
            deleted_at=None
        )
        if updated:
            person.refresh_from_db()
            record_audit(actor=actor, event="restored", target=person)
    return person


def erase_person(*, actor: Actor, person: Person) -> None:
    """Erase a person for good (a data-subject request): the row, the personal values in
    their audit trail, and web-form submissions of theirs not captured yet. What remains
    says only that an erasure happened."""
    require(actor, "people.erase", person)
    with transaction.atomic():
        pk = person.pk
        emails = set(person.emails.values_list("email_normalized", flat=True))
        for step in extensions.erasure_steps():  # what the apps above keep (ADR 0005)
            step.erase(person, emails)
        AuditEvent.objects.filter(target_type="people.person", target_id=pk).update(
            changes={}, target_repr="(erased)"
        )
        Person.objects.filter(pk=pk).delete()
        AuditEvent.objects.create(
            actor=actor.user,
            actor_label=actor.label[:150],
            event="erased",
            target_type="people.person",
            target_id=pk,
            target_repr="(erased)",
        )


# --- companies ------------------------------------------------------------------------


def _clean_company_fields(data: dict[str, Any], current: Company | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in data:
        try:
            if name in ("name", "industry"):
                out[name] = _clean_text(data, name, _max_length(Company, name))
            elif name == "domain":
                out[name] = clean_domain(data[name] or "")
            elif name == "size":
                value = (data[name] or "").strip()
                if value and value not in CompanySize.values:
                    raise ValidationError({"size": f"Use one of: {', '.join(CompanySize.values)}."})
                out[name] = value
            elif name == "country":
                out[name] = clean_country(data[name] or "")
            elif name == "owner":
                _check_owner(data[name])
                out[name] = data[name]
            elif name == "custom_fields":
                out[name] = clean_custom_fields(
                    CustomFieldEntity.COMPANY,
                    data[name] or {},
                    current=current.custom_fields if current else None,
                )
            else:
                errors.setdefault(name, []).append("Unknown field.")
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if "name" in out and not out["name"]:
        errors.setdefault("name", []).append("A company needs a name.")
    if errors:
        raise ValidationError(errors)
    return out


def create_company(*, actor: Actor, data: dict[str, Any]) -> Company:
    require(actor, "companies.create")
    data = {"custom_fields": {}, **data}
    if "name" not in data:
        data["name"] = ""
    fields = _clean_company_fields(data, None)
    with transaction.atomic():
        company = Company(**fields)
        company.name_key = name_key(company.name)
        company.save()
        record_audit(
            actor=actor,
            event="created",
            target=company,
            changes=diff(
                {},
                {
                    k: v
                    for k, v in snapshot(company, COMPANY_FIELDS).items()
                    if v not in ("", None, {})
                },
            ),
        )
    return company


def update_company(*, actor: Actor, company: Company, data: dict[str, Any]) -> Company:
    require(actor, "companies.edit", company)
    with transaction.atomic():
        company = Company.objects.select_for_update().get(pk=company.pk)
        if company.deleted_at is not None:
            raise ValidationError({"company": "This company is deleted; restore it first."})
        before = snapshot(company, COMPANY_FIELDS)
        for name, value in _clean_company_fields(data, company).items():
            setattr(company, name, value)
        company.name_key = name_key(company.name)
        changes = diff(before, snapshot(company, COMPANY_FIELDS))
        if changes:
            company.save()
            record_audit(actor=actor, event="changed", target=company, changes=changes)
    return company


def delete_company(*, actor: Actor, company: Company) -> Company:
    """Soft delete; its people stay, still linked, so a restore loses nothing."""
    require(actor, "companies.delete", company)
    with transaction.atomic():
        if Company.objects.filter(pk=company.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now()
        ):
            company.refresh_from_db()
            record_audit(actor=actor, event="deleted", target=company)
    return company


def restore_company(*, actor: Actor, company: Company) -> Company:
    require(actor, "companies.restore", company)
    with transaction.atomic():
        if Company.objects.filter(pk=company.pk, deleted_at__isnull=False).update(deleted_at=None):
            company.refresh_from_db()
            record_audit(actor=actor, event="restored", target=company)
    return company


def find_or_create_company(*, actor: Actor, name_or_id: str | int) -> Company:
    """A company by id, else by name (case-insensitive), else a new one by that name."""
    if isinstance(name_or_id, int) or (
        isinstance(name_or_id, str) and name_or_id.strip().isdigit()
    ):
        company = Company.objects.live().filter(pk=int(name_or_id)).first()
        if company is None:
            raise ValidationError({"company": f"There is no company #{name_or_id}."})
        return company
    name = str(name_or_id).strip()
    if not name:
        raise ValidationError({"company": "Give a company name or id."})
    company = Company.objects.live().filter(name_key=name_key(name)).order_by("id").first()
    if company is not None:
        return company
    try:
        return create_company(actor=actor, data={"name": name})
    except ValidationError as exc:  # the new company's name is the caller's `company` field
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {("company" if k == "name" else k): v for k, v in exc.message_dict.items()}
        ) from None
