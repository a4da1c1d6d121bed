"""Which column goes where: targets, suggestions from headers, stage and country values.

A mapping is plain JSON (docs/imports.md), the same for the wizard, the CLI's
`--mapping MAP.json` and what a job stores:

    {"columns": {"First Name": "first_name", "Budget": "custom:budget", "Record ID": null},
     "stages": {"Hot": "mql"},
     "new_fields": {"Budget": {"key": "budget", "type": "number"}}}

Suggestions know our own field names, their common spellings and the
headers of HubSpot and Salesforce exports, so a file from either maps itself.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from tandem.imports.models import ImportEntity
from tandem.people.models import CustomField, CustomFieldEntity, CustomFieldType, Stage

CUSTOM_PREFIX = "custom:"

PERSON_TARGETS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (split into first and last)",
    "email": "Email",
    "phone": "Phone",
    "title": "Job title",
    "company": "Company (linked by name)",
    "street": "Street",
    "city": "City",
    "postcode": "Postcode",
    "region": "State / region",
    "country": "Country",
    "stage": "Lifecycle stage",
    "owner": "Owner (user name, email or full name)",
    "source": "Source",
    "campaign": "Campaign (an import touchpoint)",
    "created_at": "Created on",
}
COMPANY_TARGETS: dict[str, str] = {
    "name": "Company name",
    "domain": "Domain / website",
    "industry": "Industry",
    "size": "Size (employees)",
    "country": "Country",
    "owner": "Owner (user name, email or full name)",
}


def header_key(value: str) -> str:
    """ "State/Region" → "stateregion": lower case, accents and punctuation gone."""
    text = unicodedata.normalize("NFKD", value or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _aliases(table: dict[str, Sequence[str]]) -> dict[str, tuple[str, int]]:
    """header key → (target, rank); a lower rank wins when two columns claim one target."""
    out: dict[str, tuple[str, int]] = {}
    for target, names in table.items():
        for rank, name in enumerate(names):
            out.setdefault(header_key(name), (target, rank))
    return out


# Header spellings → target. Our names, common spellings, HubSpot and Salesforce exports.
_PERSON_ALIASES = _aliases(
    {
        "first_name": [
            "first_name", "First Name", "FirstName", "First", "Given name", "Forename",
            "Vorname", "Prénom", "Nombre",
        ],
        "last_name": [
            "last_name", "Last Name", "LastName", "Last", "Surname", "Family name",
            "Nachname", "Nom", "Apellido", "Apellidos",
        ],
        "full_name": ["full_name", "Full Name", "Name", "Contact Name", "Contact", "Person"],
        "email": [
            "email", "Email", "E-mail", "Email Address", "E-mail Address", "Mail",
            "Work Email", "Business Email", "Primary Email", "Email 1", "Emailadresse",
            "E-Mail-Adresse",
        ],
        "phone": [
            "phone", "Phone", "Phone Number", "Telephone", "Tel", "Work Phone",
            "Business Phone", "Mobile", "Mobile Phone", "Mobile Phone Number", "MobilePhone",
            "Cell", "Cell Phone", "Telefon", "Telefonnummer", "Handy",
        ],
        "title": [
            "title", "Job Title", "JobTitle", "Position", "Job Role", "Designation", "Funktion",
        ],
        "company": [
            "company", "Company Name", "CompanyName", "Account Name", "AccountName", "Account",
            "Associated Company", "Organization", "Organisation", "Organization Name",
            "Employer", "Firma", "Unternehmen", "Entreprise", "Empresa",
        ],
        "street": [
            "street", "Street Address", "Address", "Address 1", "Address Line 1", "Street 1",
            "MailingStreet", "Mailing Street", "Straße", "Strasse", "Adresse",
        ],
        "city": ["city", "Town", "MailingCity", "Mailing City", "Ort", "Stadt", "Ville", "Ciudad"],
        "postcode": [
            "postcode", "Postal Code", "PostalCode", "Post Code", "Zip", "Zip Code", "ZIP",
            "Zip/Postal Code", "MailingPostalCode", "Mailing Zip/Postal Code",
            "Mailing Postal Code", "PLZ", "Postleitzahl", "Code postal",
        ],
        "region": [
            "region", "State", "State/Region", "State/Province", "Province", "County",
            "MailingState", "Mailing State", "Mailing State/Province", "Bundesland",
        ],
        "country": [
            "country", "Country/Region", "Country Code", "MailingCountry", "Mailing Country",
            "Land", "Pays", "País",
        ],
        "stage": [
            "stage", "Lifecycle Stage", "Lifecycle", "Lifecyclestage", "Funnel Stage",
            "Lead Status", "Status",
        ],
        "owner": [
            "owner", "Contact Owner", "Lead Owner", "Owner Name", "Account Owner",
            "HubSpot Owner", "Record Owner", "Sales Rep", "Assigned To", "Owner Alias",
        ],
        "source": [
            "source", "Original Source", "Lead Source", "LeadSource", "Source Type", "Quelle",
        ],
        "campaign": ["campaign", "Campaign Name", "UTM Campaign", "utm_campaign"],
        "created_at": [
            "created_at", "Create Date", "Created Date", "CreatedDate", "Created", "Created On",
            "Date Created",
        ],
    }
)  # fmt: skip
_COMPANY_ALIASES = _aliases(
    {
        "name": [
            "name", "Company Name", "CompanyName", "Company", "Account Name", "AccountName",
            "Account", "Organization", "Organisation", "Organization Name", "Firma",
        ],
        "domain": [
            "domain", "Company Domain Name", "Domain Name", "Website", "Website URL", "Web",
            "URL", "Homepage",
        ],
        "industry": ["industry", "Sector", "Branche"],
        "size": [
            "size", "Company Size", "Number of Employees", "NumberOfEmployees", "Employees",
            "Employee Count", "Headcount",
        ],
        "country": [
            "country", "Country/Region", "Billing Country", "BillingCountry", "Land", "Pays",
        ],
        "owner": ["owner", "Company Owner", "Account Owner", "Owner Name"],
    }
)  # fmt: skip

# Lifecycle and lead-status values of other CRMs → our stage keys.
_STAGE_VALUES: dict[str, str] = {
    **{header_key(s.value): s.value for s in Stage},
    **{header_key(s.label): s.value for s in Stage},
    # HubSpot lifecycle stages (internal values and labels)
    "marketingqualifiedlead": Stage.MQL,
    "salesqualifiedlead": Stage.SAL,
    "salesacceptedlead": Stage.SAL,
    "evangelist": Stage.ADVOCATE,
    "other": Stage.LEAD,
    # common words
    "sql": Stage.SAL,
    "opp": Stage.OPPORTUNITY,
    "client": Stage.ADVOCATE,
    "advocate": Stage.ADVOCATE,
    "unqualified": Stage.DISQUALIFIED,
    "nurture": Stage.RECYCLED,
    "nurturing": Stage.RECYCLED,
    "new": Stage.LEAD,
    "open": Stage.LEAD,
    "qualified": Stage.MQL,
    # Salesforce lead statuses
    "opennotcontacted": Stage.LEAD,
    "workingcontacted": Stage.SAL,
    "closedconverted": Stage.OPPORTUNITY,
    "closednotconverted": Stage.DISQUALIFIED,
}


def stage_for(value: str, extra: dict[str, str] | None = None) -> str | None:
    """Our stage key for a lifecycle value, or None when it is not one we know."""
    key = header_key(value)
    if extra and key in extra:
        return extra[key]
    return _STAGE_VALUES.get(key)


# --- countries: ISO codes and names in a few languages ----------------------------------------


def _country_names() -> dict[str, str]:
    from phonenumbers.geodata.locale import LOCALE_DATA

    names: dict[str, str] = {}
    for code, by_language in LOCALE_DATA.items():
        if len(code) != 2:
            continue
        for language in ("aa", "de", "fr", "es", "it", "nl", "pt", "sv", "pl", "fi"):
            name = by_language.get(language, "")
            seen = 0
            while name.startswith("*") and seen < 5:  # "*aa": same as that language
                name = by_language.get(name[1:], "")
                seen += 1
            if name:
                names.setdefault(header_key(name), code)
    extra = {
        "usa": "US", "us": "US", "unitedstatesofamerica": "US", "america": "US",
        "uk": "GB", "greatbritain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
        "britain": "GB", "holland": "NL", "thenetherlands": "NL", "czechia": "CZ",
        "southkorea": "KR", "korea": "KR", "russia": "RU", "uae": "AE", "turkiye": "TR",
    }  # fmt: skip
    names.update(extra)
    return names


_COUNTRIES: dict[str, str] | None = None


def country_for(value: str) -> str:
    """A two-letter code for "DE", "de", "Germany" or "Deutschland"; the value itself if unknown."""
    global _COUNTRIES
    text = (value or "").strip()
    if len(text) == 2:
        return text.upper()
    if _COUNTRIES is None:
        _COUNTRIES = _country_names()
    return _COUNTRIES.get(header_key(text), text)


# --- suggestions and validation --------------------------------------------------------------


def targets_for(entity: str) -> dict[str, str]:
    return PERSON_TARGETS if entity == ImportEntity.PEOPLE else COMPANY_TARGETS


def custom_entity(entity: str) -> str:
    return CustomFieldEntity.PERSON if entity == ImportEntity.PEOPLE else CustomFieldEntity.COMPANY


def target_choices(entity: str, custom_fields: Sequence[CustomField]) -> list[tuple[str, str]]:
    """The options of a column's select: our fields, then the custom fields."""
    choices = list(targets_for(entity).items())
    choices += [(CUSTOM_PREFIX + f.key, f"{f.label} (custom field)") for f in custom_fields]
    return choices


def suggest_mapping(
    headers: Sequence[str], entity: str, custom_fields: Sequence[CustomField] = ()
) -> dict[str, str | None]:
    """A target for each header we recognise (None otherwise); each target used once.

    Custom fields are matched by key or label. When two columns could fill one
    target, the likelier spelling wins (Lifecycle Stage over Lead Status, Phone
    Number over Mobile Phone Number), then the one further left.
    """
    aliases = _PERSON_ALIASES if entity == ImportEntity.PEOPLE else _COMPANY_ALIASES
    custom: dict[str, tuple[str, int]] = {}
    for f in custom_fields:
        custom.setdefault(header_key(f.key), (CUSTOM_PREFIX + f.key, 0))
        custom.setdefault(header_key(f.label), (CUSTOM_PREFIX + f.key, 1))
    best: dict[str, tuple[int, int, str]] = {}  # target → (rank, position, header)
    for position, header in enumerate(headers):
        key = header_key(header)
        found = aliases.get(key) or custom.get(key)
        if found is None:
            continue
        target, rank = found
        if target not in best or (rank, position) < best[target][:2]:
            best[target] = (rank, position, header)
    out: dict[str, str | None] = {h: None for h in headers}
    for target, (_, _, header) in best.items():
        out[header] = target
    used = set(best)
    if entity == ImportEntity.PEOPLE and "full_name" in used:
        if {"first_name", "last_name"} <= used:  # "Name" next to first/last is redundant
            for header in [h for h, t in out.items() if t == "full_name"]:
                out[header] = None
    return out


def has_identity(columns: dict[str, str | None], entity: str) -> bool:
    targets = {t for t in columns.values() if t}
    if entity == ImportEntity.PEOPLE:
        return bool(targets & {"email", "first_name", "last_name", "full_name"})
    return "name" in targets or "domain" in targets


def clean_mapping(
    raw: Any, *, headers: Sequence[str], entity: str, custom_fields: Sequence[CustomField]
) -> dict[str, Any]:
    """Check a mapping (from the wizard or a MAP.json) against the file and our fields.

    Errors name "mapping" with what to fix: an unknown column or target, a
    target given twice, or neither an email nor a name column.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict):
        raise ValidationError(
            {"mapping": 'A mapping is a JSON object with "columns": {"Header": "target", ...}.'}
        )
    known_targets = set(targets_for(entity))
    custom_keys = {f.key for f in custom_fields}
    new_fields_raw = raw.get("new_fields") or {}
    if not isinstance(new_fields_raw, dict):
        raise ValidationError({"mapping": '"new_fields" must be an object of header → field.'})
    header_set = set(headers)
    by_lower = {h.lower(): h for h in headers}
    errors: list[str] = []
    columns: dict[str, str | None] = {h: None for h in headers}
    new_fields: dict[str, dict[str, str]] = {}
    used: dict[str, str] = {}
    for header, target in raw["columns"].items():
        name = header if header in header_set else by_lower.get(str(header).lower())
        if name is None:
            errors.append(f"The file has no column {header!r}.")
            continue
        if target in (None, ""):
            continue
        if not isinstance(target, str):
            errors.append(f"{header!r}: give the target as text.")
            continue
        target = target.strip()
        if target.startswith(CUSTOM_PREFIX):
            key = target[len(CUSTOM_PREFIX) :]
            spec = new_fields_raw.get(header) or new_fields_raw.get(name)
            if key not in custom_keys:
                if not spec:
                    errors.append(
                        f"{header!r}: there is no custom field {key!r}; add it under "
                        '"new_fields" or in Admin → Custom fields.'
                    )
                    continue
                field_type = str(spec.get("type", CustomFieldType.TEXT))
                if field_type not in CustomFieldType.values or field_type == "choice":
                    errors.append(f"{header!r}: a new field's type is text, number, date or bool.")
                    continue
                new_fields[name] = {
                    "key": key,
                    "type": field_type,
                    "label": str(spec.get("label") or name)[:100],
                }
        elif target not in known_targets:
            options = ", ".join(sorted(known_targets))
            errors.append(
                f"{header!r}: {target!r} is not a field; use one of {options} or custom:<key>."
            )
            continue
        if target in used:
            errors.append(f"{used[target]!r} and {header!r} both go to {target}; keep one.")
            continue
        used[target] = header
        columns[name] = target
    stages_raw = raw.get("stages") or {}
    stages: dict[str, str] = {}
    if not isinstance(stages_raw, dict):
        errors.append('"stages" must be an object of value → stage key.')
    else:
        for value, stage in stages_raw.items():
            if stage not in Stage.values:
                errors.append(
                    f"stages: {stage!r} is not a stage; use one of {', '.join(Stage.values)}."
                )
            else:
                stages[str(value)] = stage
    if errors:
        raise ValidationError({"mapping": errors})
    if not has_identity(columns, entity):
        need = (
            "an email or a name column (first, last or full name)"
            if entity == ImportEntity.PEOPLE
            else "a company name or domain column"
        )
        raise ValidationError(
            {"mapping": f"Map at least {need}; otherwise no row can be imported."}
        )
    return {"columns": columns, "stages": stages, "new_fields": new_fields}


# --- new custom fields from unmapped columns -----------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BOOL_WORDS = {"true", "false", "yes", "no"}


def infer_type(values: Iterable[str]) -> str:
    """number, date, bool or text: the narrowest type every non-empty sample value fits."""
    seen = [v.strip() for v in values if v and v.strip()]
    if not seen:
        return CustomFieldType.TEXT
    if all(v.lower() in _BOOL_WORDS for v in seen):
        return CustomFieldType.BOOL
    if all(_is_number(v) for v in seen):
        return CustomFieldType.NUMBER
    if all(_is_date(v) for v in seen):
        return CustomFieldType.DATE
    return CustomFieldType.TEXT


def _is_number(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _is_date(value: str) -> bool:
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def field_key(label: str, taken: set[str]) -> str:
    """A custom field key from a column header: "Budget (EUR)" → "budget_eur"."""
    key = slugify(unicodedata.normalize("NFKD", label)).replace("-", "_")
    key = re.sub(r"^[^a-z]+", "", key)[:50].rstrip("_") or "field"
    base, n = key, 2
    while key in taken:
        key = f"{base}_{n}"
        n += 1
    return key


def new_field_specs(
    headers: Sequence[str], taken: set[str], samples: dict[str, list[str]] | None = None
) -> dict[str, dict[str, str]]:
    """A new custom field for each header: a key from its name, a type from its values."""
    taken = set(taken)
    specs: dict[str, dict[str, str]] = {}
    for header in headers:
        key = field_key(header, taken)
        taken.add(key)
        field_type = infer_type((samples or {}).get(header, []))
        specs[header] = {"key": key, "type": field_type, "label": header[:100]}
    return specs


def auto_mapping(
    headers: Sequence[str],
    entity: str,
    custom_fields: Sequence[CustomField],
    *,
    create_fields: bool = False,
    samples: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """What `--auto` (and the wizard's first guess) maps; with create_fields, every other
    column becomes a new custom field of the inferred type."""
    columns = suggest_mapping(headers, entity, custom_fields)
    new_fields: dict[str, dict[str, str]] = {}
    if create_fields:
        unmapped = [h for h, t in columns.items() if not t]
        new_fields = new_field_specs(unmapped, {f.key for f in custom_fields}, samples)
        for header, spec in new_fields.items():
            columns[header] = CUSTOM_PREFIX + spec["key"]
    return {"columns": columns, "stages": {}, "new_fields": new_fields}


def with_new_fields(
    mapping: dict[str, Any],
    headers: Sequence[str],
    custom_fields: Sequence[CustomField],
    samples: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A given mapping plus a new custom field for each column it does not mention."""
    columns = dict(mapping.get("columns") or {})
    unmentioned = [h for h in headers if h not in columns]
    specs = new_field_specs(unmentioned, {f.key for f in custom_fields}, samples)
    for header, spec in specs.items():
        columns[header] = CUSTOM_PREFIX + spec["key"]
    return {
        **mapping,
        "columns": columns,
        "new_fields": {**(mapping.get("new_fields") or {}), **specs},
    }
