"""The set-based path of an import: one batch of rows in a few statements, not a save() per row.

A batch is cleaned in Python (rows.py), then people are looked up by
normalised email in one query, the duplicate policy is applied in memory
(skip, fill empty fields, overwrite), and the result is written with
`executemany` on SQLite and COPY on PostgreSQL: new people with their email,
phone, "created" stage change and import touchpoint; changed people with one
UPDATE statement run for all of them. What a change overwrote is kept in
ImportChange.before so undo can put it back; what the batch created carries
the job's id. The caller wraps each batch in one transaction with the job's
progress (services.run_import), so a batch is in completely or not at all.

Within a file the first row with an email wins; later rows with the same
email follow the policy against it, as they would against a person already
in the database.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from tandem.campaigns.models import Campaign, Touchpoint, TouchpointKind
from tandem.campaigns.services import campaign_key, create_campaign
from tandem.core.actor import Actor
from tandem.imports.freemail import FREE_MAIL_DOMAINS
from tandem.imports.models import DuplicatePolicy, ImportChange, ImportJob, ImportRowError
from tandem.imports.rows import CompanyRow, PersonRow, RowCleaner, RowError
from tandem.people.models import (
    Company,
    CustomField,
    Person,
    PersonEmail,
    PersonPhone,
    PhoneKind,
    Stage,
    StageChange,
)
from tandem.people.normalize import name_key

BATCH_SIZE = 5000
PERSON_TYPE = Person._meta.label_lower
COMPANY_TYPE = Company._meta.label_lower
PERSON_PLAIN = (
    "first_name",
    "last_name",
    "title",
    "street",
    "city",
    "postcode",
    "region",
    "source",
)
# The columns an import may change on an existing person, in UPDATE order.
PERSON_UPDATE = (
    "first_name", "last_name", "first_name_key", "last_name_key", "phone", "title", "street",
    "city", "postcode", "region", "country", "stage", "stage_changed_at", "source",
    "custom_fields", "company_id", "owner_id",
)  # fmt: skip
COMPANY_UPDATE = (
    "name",
    "name_key",
    "domain",
    "industry",
    "size",
    "country",
    "owner_id",
    "custom_fields",
)


# --- SQL for many rows at once -------------------------------------------------------------


class Sql:
    """INSERT and UPDATE many rows: executemany on SQLite; COPY and pipelined
    executemany on PostgreSQL. Column names come from the models, values are
    always parameters."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        if self.vendor not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"Imports write to SQLite or PostgreSQL, not {self.vendor}.")
        self._extras: dict[tuple[type[models.Model], tuple[str, ...]], tuple[list[str], tuple]] = {}

    def when(self, value: dt.datetime | None) -> Any:
        if value is None or self.vendor == "postgresql":
            return value
        return connection.ops.adapt_datetimefield_value(value)

    def flag(self, value: bool) -> Any:
        return int(value) if self.vendor == "sqlite" else value

    def _other_columns(
        self, model: type[models.Model], columns: Sequence[str]
    ) -> tuple[list[str], tuple]:
        """The model's columns we do not fill, with their defaults (for fields added later)."""
        key = (model, tuple(columns))
        if key not in self._extras:
            names: list[str] = []
            values: list[Any] = []
            for f in model._meta.concrete_fields:
                if f.column in columns or f.primary_key:
                    continue
                if f.has_default():
                    value = f.get_default()
                elif f.null:
                    value = None
                elif f.empty_strings_allowed:
                    value = ""
                else:
                    raise NotImplementedError(f"{model._meta.label}.{f.name} needs a value.")
                if isinstance(value, dict | list):
                    value = json.dumps(value)
                elif isinstance(value, bool):
                    value = self.flag(value)
                names.append(str(f.column))
                values.append(value)
            self._extras[key] = (names, tuple(values))
        return self._extras[key]

    def insert(self, model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        extra_names, extra_values = self._other_columns(model, columns)
        names = [*columns, *extra_names]
        if extra_values:
            rows = [row + extra_values for row in rows]
        table = model._meta.db_table
        quoted = ", ".join(f'"{c}"' for c in names)
        if self.vendor == "sqlite":
            marks = ", ".join("?" * len(names))
            connection.connection.executemany(
                f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})',  # noqa: S608
                rows,
            )
        else:
            copy_sql = f'COPY "{table}" ({quoted}) FROM STDIN'
            with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)

    def update(self, model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> None:
        """UPDATE … SET columns WHERE id = the row's last value."""
        if not rows:
            return
        table = model._meta.db_table
        json_columns = {
            f.column for f in model._meta.concrete_fields if isinstance(f, models.JSONField)
        }
        if self.vendor == "sqlite":
            sets = ", ".join(f'"{c}" = ?' for c in columns)
            connection.connection.executemany(
                f'UPDATE "{table}" SET {sets} WHERE "id" = ?',  # noqa: S608
                rows,
            )
        else:
            sets = ", ".join(
                f'"{c}" = %s::jsonb' if c in json_columns else f'"{c}" = %s' for c in columns
            )
            with connection.cursor() as cursor:
                cursor.executemany(f'UPDATE "{table}" SET {sets} WHERE "id" = %s', rows)  # noqa: S608

    def pairs(
        self, select: str, column: str, values: Sequence[Any], where: str = ""
    ) -> list[tuple]:
        """Rows of `SELECT … WHERE column IN values [AND where]`, in chunks, without the ORM
        (building a 5,000-value IN list through the ORM costs more than running it)."""
        out: list[tuple] = []
        values = list(values)
        extra = f" AND {where}" if where else ""
        with connection.cursor() as cursor:
            for start in range(0, len(values), 5000):
                chunk = values[start : start + 5000]
                if self.vendor == "postgresql":
                    cursor.execute(f"{select} WHERE {column} = ANY(%s){extra}", [chunk])
                else:
                    marks = ", ".join(["%s"] * len(chunk))
                    cursor.execute(f"{select} WHERE {column} IN ({marks}){extra}", chunk)
                out.extend(cursor.fetchall())
        return out

    def next_ids(self, model: type[models.Model], count: int) -> list[int]:
        """Ids for rows about to be inserted, so their children can point at them.

        SQLite: the batch's transaction holds the write lock, so no one else
        inserts meanwhile; ids continue after both the highest row and the
        AUTOINCREMENT counter (never reusing the id of a deleted row).
        PostgreSQL: drawn from the table's sequence.
        """
        if count == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608
                top = int(cursor.fetchone()[0])
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                found = cursor.fetchone()
                start = max(top, int(found[0]) if found else 0) + 1
                return list(range(start, start + count))
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [f'"{table}"', count],
            )
            return [int(r[0]) for r in cursor.fetchall()]


def as_json(value: dict[str, Any]) -> str:
    if not value:
        return "{}"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- what a batch did ---------------------------------------------------------------------


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    companies_created: int = 0
    errors: list[RowError] = field(default_factory=list)

    def reject(self, errors: list[RowError]) -> None:
        self.rejected += 1
        self.errors.extend(errors)


def write_row_errors(sql: Sql, job_id: int, errors: list[RowError]) -> None:
    sql.insert(
        ImportRowError,
        ["job_id", "row_number", "column", "value", "reason"],
        [(job_id, e.row_number, e.column[:200], e.value[:500], e.reason[:500]) for e in errors],
    )


@dataclass
class JobContext:
    """What every batch of one job needs, loaded once."""

    job: ImportJob
    actor: Actor
    cleaner: RowCleaner
    custom_fields: list[CustomField]
    now: dt.datetime
    sql: Sql = field(default_factory=Sql)
    campaigns: dict[str, int] = field(default_factory=dict)  # key → id, grows as they are made

    @property
    def policy(self) -> str:
        return self.job.policy

    @property
    def reason(self) -> str:
        return f"Imported ({self.job.original_name[:80]}, import #{self.job.pk})"

    def required_custom(self) -> list[CustomField]:
        return [f for f in self.custom_fields if f.required]


# --- people -----------------------------------------------------------------------------------


@dataclass(slots=True)
class PersonState:
    """A person as this batch sees it: loaded from the database, or about to be created."""

    id: int | None
    is_new: bool
    values: dict[str, Any]
    row: PersonRow | None = None  # for a new person, the row that creates them
    deleted: bool = False
    created_by_job: bool = False
    before: dict[str, Any] = field(default_factory=dict)
    changed: bool = False
    phone_changed: bool = False
    stage_from: str | None = None
    first_row: int = 0  # the row that first changed an existing person
    touchpoints: list[tuple[int, str, dt.datetime | None]] = field(default_factory=list)

    def remember(self, name: str) -> None:
        """Keep the value an import is about to overwrite (once: the first value is the original)."""
        if self.is_new or self.created_by_job or name in self.before:
            return
        value = self.values[name]
        if isinstance(value, dict):
            value = dict(value)
        elif isinstance(value, dt.datetime):
            value = value.isoformat()
        self.before[name] = value


_PERSON_COLUMNS = (
    "id", "first_name", "last_name", "first_name_key", "last_name_key", "email", "phone", "title",
    "street", "city", "postcode", "region", "country", "stage", "stage_changed_at", "source",
    "custom_fields", "created_at", "updated_at", "deleted_at", "company_id", "owner_id",
    "import_job_id", "merged_into_id",
)  # fmt: skip
_LOADED = (
    "id", "first_name", "last_name", "phone", "title", "street", "city", "postcode", "region",
    "country", "stage", "stage_changed_at", "source", "custom_fields", "company_id", "owner_id",
    "deleted_at", "import_job_id", "merged_into_id",
)  # fmt: skip


class PeopleBatch:
    """One batch of a people import, from raw rows to written rows."""

    def __init__(self, ctx: JobContext):
        self.ctx = ctx
        self.sql = ctx.sql
        self.fill = ctx.policy == DuplicatePolicy.FILL
        self.skip = ctx.policy == DuplicatePolicy.SKIP
        self.pending_companies: dict[str, dict[str, str]] = {}  # name key → name, domain
        self.pending_domains: dict[str, str] = {}  # domain → name key of a pending company

    # -- reading the database ---------------------------------------------------------------

    def _existing(self, emails: set[str]) -> dict[str, int]:
        if not emails:
            return {}
        table = PersonEmail._meta.db_table
        return dict(
            self.sql.pairs(
                f'SELECT "email_normalized", "person_id" FROM "{table}"',  # noqa: S608
                '"email_normalized"',
                sorted(emails),
            )
        )

    def _load(self, ids: set[int]) -> dict[int, PersonState]:
        states: dict[int, PersonState] = {}
        survivors: dict[int, int] = {}
        for values in Person.objects.filter(pk__in=ids).values(*_LOADED):
            if values["merged_into_id"]:
                survivors[values["id"]] = values["merged_into_id"]
            states[values["id"]] = self._state(values)
        hops = 0
        while survivors and hops < 5:  # a merged person's address leads to the survivor
            hops += 1
            rows = Person.objects.filter(pk__in=set(survivors.values())).values(*_LOADED)
            loaded = {v["id"]: self._state(v) for v in rows}
            next_round = {}
            for old, new in survivors.items():
                state = loaded.get(new)
                if state is None:
                    continue
                states[old] = states.setdefault(new, state)
                if loaded[new].values.get("merged_into_id"):
                    next_round[old] = loaded[new].values["merged_into_id"]
            survivors = next_round
        return states

    def _state(self, values: dict[str, Any]) -> PersonState:
        custom = values["custom_fields"]
        values["custom_fields"] = dict(custom) if isinstance(custom, dict) else {}
        return PersonState(
            id=values["id"],
            is_new=False,
            values=values,
            deleted=values["deleted_at"] is not None,
            created_by_job=values["import_job_id"] == self.ctx.job.pk,
        )

    def _companies(self, rows: list[PersonRow]) -> tuple[dict[str, int], dict[str, int]]:
        """Live companies by name key and by domain, for the names and email domains in rows.
        Where several share one, the oldest wins."""
        keys = {name_key(r.company) for r in rows if r.company}
        domains = {d for r in rows if (d := _work_domain(r.email))}
        table = Company._meta.db_table
        by_name: dict[str, int] = {}
        by_domain: dict[str, int] = {}
        for column, wanted, found in (
            ('"name_key"', keys, by_name),
            ('"domain"', domains, by_domain),
        ):
            if not wanted:
                continue
            rows_found = self.sql.pairs(
                f'SELECT {column}, "id" FROM "{table}"',  # noqa: S608
                column,
                sorted(wanted),
                where='"deleted_at" IS NULL',
            )
            for key, pk in sorted(rows_found, key=lambda r: -r[1]):
                found[key] = pk  # newest first, so the oldest is written last and wins
        return by_name, by_domain

    # -- deciding ----------------------------------------------------------------------------

    def _company_ref(
        self, row: PersonRow, by_name: dict[str, int], by_domain: dict[str, int]
    ) -> int | str | None:
        """The company a row points at: by name, else by work email domain, else a new one
        by that name (a "pending:" key until it is created)."""
        domain = _work_domain(row.email)
        if row.company:
            key = name_key(row.company)
            if key in by_name:
                return by_name[key]
            if domain and domain in by_domain:
                return by_domain[domain]
            pending = self.pending_companies.setdefault(key, {"name": row.company, "domain": ""})
            if domain and not pending["domain"] and domain not in self.pending_domains:
                pending["domain"] = domain
                self.pending_domains[domain] = key
            return "pending:" + key
        if domain:
            if domain in by_domain:
                return by_domain[domain]
            if domain in self.pending_domains:
                return "pending:" + self.pending_domains[domain]
        return None

    def _new_state(self, row: PersonRow, company: int | str | None) -> PersonState:
        text = row.text
        values: dict[str, Any] = {
            "first_name": text.get("first_name", ""),
            "last_name": text.get("last_name", ""),
            "title": text.get("title", ""),
            "street": text.get("street", ""),
            "city": text.get("city", ""),
            "postcode": text.get("postcode", ""),
            "region": text.get("region", ""),
            "source": text.get("source", ""),
            "id": None,
            "phone": row.phone,
            "country": row.country,
            "stage": row.stage or Stage.LEAD,
            "custom_fields": dict(row.custom) if row.custom else {},
            "company_id": company,
            "owner_id": row.owner_id,
        }
        state = PersonState(id=None, is_new=True, values=values, row=row)
        if row.campaign:
            state.touchpoints.append((row.number, row.campaign, row.created_at))
        return state

    def _merge(self, state: PersonState, row: PersonRow, company: int | str | None) -> bool:
        """Apply one row to a person under the policy; True if it changed anything."""
        values = state.values
        changed = False
        fill = self.fill

        def put(name: str, value: Any) -> None:
            nonlocal changed
            current = values[name]
            if (not current) if fill else (current != value):
                state.remember(name)
                values[name] = value
                changed = True

        for name, value in row.text.items():
            put(name, value)
        if row.country:
            put("country", row.country)
        if row.phone and ((not values["phone"]) if fill else values["phone"] != row.phone):
            state.remember("phone")
            values["phone"] = row.phone
            if not state.is_new:
                state.phone_changed = True
                state.values["_phone_original"] = row.phone_original
            elif state.row is not None:
                state.row.phone_original = row.phone_original
            changed = True
        if company is not None:
            put("company_id", company)
        if row.owner_id is not None:
            put("owner_id", row.owner_id)
        if row.stage and not fill and values["stage"] != row.stage:
            state.remember("stage")
            state.remember("stage_changed_at")
            if state.stage_from is None and not state.is_new:
                state.stage_from = values["stage"]
            values["stage"] = row.stage
            changed = True
        for key, value in row.custom.items():
            current = values["custom_fields"].get(key)
            if (current in (None, "")) if fill else (current != value):
                state.remember("custom_fields")
                values["custom_fields"][key] = value
                changed = True
        if row.campaign:
            state.touchpoints.append((row.number, row.campaign, row.created_at))
            changed = True
        if changed:
            state.changed = True
            state.first_row = state.first_row or row.number
        return changed

    def run(
        self, raw_rows: list[tuple[int, list[str]]], results: list[Any] | None = None
    ) -> Outcome:
        """Import one batch; `results` are the rows already cleaned (read ahead in a thread)."""
        out = Outcome()
        cleaned: list[PersonRow] = []
        if results is None:
            results = [self.ctx.cleaner.person(number, values) for number, values in raw_rows]
        for result in results:
            if isinstance(result, list):
                out.reject(result)
            else:
                cleaned.append(result)

        existing = self._existing({r.email for r in cleaned if r.email})
        states = {} if self.skip else self._load(set(existing.values()))
        by_name, by_domain = self._companies(cleaned)
        new_by_email: dict[str, PersonState] = {}
        created: list[PersonState] = []
        required = self.ctx.required_custom()

        for row in cleaned:
            target = new_by_email.get(row.email) if row.email else None
            if target is None and row.email in existing:
                if self.skip:
                    out.skipped += 1
                    continue
                target = states.get(existing[row.email])
                if target is None or target.deleted:
                    out.reject(
                        [
                            RowError(
                                row.number,
                                "",
                                row.email_typed,
                                f"{row.email} belongs to a deleted person "
                                f"(#{existing[row.email]}); "
                                "restore them first, or import with the policy skip.",
                            )
                        ]
                    )
                    continue
            if target is not None:
                if self.skip:
                    out.skipped += 1
                    continue
                company = self._company_ref(row, by_name, by_domain)
                if self._merge(target, row, company):
                    out.updated += 1
                else:
                    out.skipped += 1
                continue
            missing = [f for f in required if f.key not in row.custom]
            if missing:
                out.reject(
                    [
                        RowError(row.number, "", "", f"{f.label} is required for new people.")
                        for f in missing
                    ]
                )
                continue
            state = self._new_state(row, self._company_ref(row, by_name, by_domain))
            created.append(state)
            if row.email:
                new_by_email[row.email] = state
            out.created += 1

        changed = [s for s in {id(s): s for s in states.values()}.values() if s.changed]
        companies = self._create_companies(created + changed)
        out.companies_created = len(companies)
        for state in (*created, *changed):
            ref = state.values["company_id"]
            if isinstance(ref, str):
                state.values["company_id"] = companies[ref]
        campaign_ids = self._campaigns(created + changed)
        self._insert_people(created, campaign_ids)
        self._update_people(changed, campaign_ids)
        return out

    # -- writing -----------------------------------------------------------------------------

    def _create_companies(self, states: list[PersonState]) -> dict[str, int]:
        """Make the companies rows name that do not exist yet, set-based, marked as the job's."""
        wanted = sorted(
            {
                ref[len("pending:") :]
                for s in states
                if isinstance(ref := s.values["company_id"], str)
            }
        )
        if not wanted:
            return {}
        sql = self.sql
        now = sql.when(self.ctx.now)
        ids = sql.next_ids(Company, len(wanted))
        sql.insert(
            Company,
            ["id", "name", "name_key", "domain", "industry", "size", "country", "custom_fields",
             "created_at", "updated_at", "deleted_at", "owner_id", "import_job_id"],
            [
                (pk, self.pending_companies[key]["name"], key, self.pending_companies[key]["domain"],
                 "", "", "", "{}", now, now, None, None, self.ctx.job.pk)
                for pk, key in zip(ids, wanted, strict=True)
            ],
        )  # fmt: skip
        return {"pending:" + key: pk for pk, key in zip(ids, wanted, strict=True)}

    def _campaigns(self, states: list[PersonState]) -> dict[str, int]:
        """Campaign ids by the values written in the file; a campaign not seen before is made."""
        names = {name for s in states for (_, name, _) in s.touchpoints}
        out: dict[str, int] = {}
        keys = {name: campaign_key(name) for name in names}
        missing = {k for k in keys.values() if k and k not in self.ctx.campaigns}
        if missing:
            self.ctx.campaigns.update(
                Campaign.objects.filter(key__in=missing).values_list("key", "id")
            )
        for name, key in keys.items():
            if not key:
                continue
            if key not in self.ctx.campaigns:
                campaign = create_campaign(actor=self.ctx.actor, name=name, key=key)
                self.ctx.campaigns[key] = campaign.pk
            out[name] = self.ctx.campaigns[key]
        return out

    def _touchpoint_rows(
        self, person_id: int, state: PersonState, campaign_ids: dict[str, int]
    ) -> list[tuple]:
        sql, now, job_id = self.sql, self.ctx.now, self.ctx.job.pk
        rows = []
        for number, name, when in state.touchpoints:
            if name not in campaign_ids:
                continue
            rows.append(
                (
                    person_id,
                    TouchpointKind.IMPORT.value,
                    sql.when(when or now),
                    "import",
                    campaign_ids[name],
                    as_json({"import_job": job_id, "row": number}),
                    job_id,
                    sql.when(now),
                )
            )
        return rows

    def _insert_people(self, states: list[PersonState], campaign_ids: dict[str, int]) -> None:
        if not states:
            return
        sql, ctx = self.sql, self.ctx
        now = sql.when(ctx.now)
        ids = sql.next_ids(Person, len(states))
        people, emails, phones, stages, touchpoints = [], [], [], [], []
        yes = sql.flag(True)
        actor_id = ctx.actor.user.pk if ctx.actor.user else None
        label = ctx.actor.label[:150]
        reason = ctx.reason
        job_id = ctx.job.pk
        for pk, state in zip(ids, states, strict=True):
            v, row = state.values, state.row
            assert row is not None
            created = sql.when(row.created_at) if row.created_at else now
            people.append(
                (
                    pk, v["first_name"], v["last_name"], name_key(v["first_name"]),
                    name_key(v["last_name"]), row.email, v["phone"], v["title"], v["street"],
                    v["city"], v["postcode"], v["region"], v["country"], v["stage"], created,
                    v["source"], as_json(v["custom_fields"]), created, now, None, v["company_id"],
                    v["owner_id"], job_id, None,
                )
            )  # fmt: skip
            if row.email:
                emails.append((pk, row.email_typed, row.email, yes, now))
            if v["phone"]:
                phones.append((pk, v["phone"], row.phone_original, PhoneKind.WORK.value, yes, now))
            stages.append((pk, "", v["stage"], created, actor_id, label, reason))
            if state.touchpoints:
                touchpoints.extend(self._touchpoint_rows(pk, state, campaign_ids))
        sql.insert(Person, _PERSON_COLUMNS, people)
        sql.insert(
            PersonEmail,
            ["person_id", "email", "email_normalized", "is_primary", "created_at"],
            emails,
        )
        sql.insert(
            PersonPhone,
            ["person_id", "number", "original", "kind", "is_primary", "created_at"],
            phones,
        )
        sql.insert(
            StageChange,
            [
                "person_id",
                "from_stage",
                "to_stage",
                "changed_at",
                "actor_id",
                "actor_label",
                "reason",
            ],
            stages,
        )
        sql.insert(Touchpoint, _TOUCHPOINT_COLUMNS, touchpoints)

    def _update_people(self, states: list[PersonState], campaign_ids: dict[str, int]) -> None:
        if not states:
            return
        sql, ctx = self.sql, self.ctx
        now = sql.when(ctx.now)
        job_id = ctx.job.pk
        phone_states = [s for s in states if s.phone_changed]
        if phone_states:
            self._switch_phones(phone_states)
        rows, stages, touchpoints = [], [], []
        actor_id = ctx.actor.user.pk if ctx.actor.user else None
        for state in states:
            v = state.values
            assert state.id is not None
            if state.stage_from is not None and state.stage_from != v["stage"]:
                v["stage_changed_at"] = ctx.now
                stages.append(
                    (
                        state.id,
                        state.stage_from,
                        v["stage"],
                        now,
                        actor_id,
                        ctx.actor.label[:150],
                        ctx.reason,
                    )
                )
            rows.append(
                (
                    v["first_name"], v["last_name"], name_key(v["first_name"]),
                    name_key(v["last_name"]), v["phone"], v["title"], v["street"], v["city"],
                    v["postcode"], v["region"], v["country"], v["stage"],
                    sql.when(v["stage_changed_at"]), v["source"], as_json(v["custom_fields"]),
                    v["company_id"], v["owner_id"], now, state.id,
                )
            )  # fmt: skip
            touchpoints.extend(self._touchpoint_rows(state.id, state, campaign_ids))
        sql.update(Person, [*PERSON_UPDATE, "updated_at"], rows)
        sql.insert(
            StageChange,
            [
                "person_id",
                "from_stage",
                "to_stage",
                "changed_at",
                "actor_id",
                "actor_label",
                "reason",
            ],
            stages,
        )
        sql.insert(Touchpoint, _TOUCHPOINT_COLUMNS, touchpoints)
        _record(
            sql,
            job_id,
            PERSON_TYPE,
            [(s.first_row, s.id, s.before) for s in states if s.before and s.id is not None],
        )

    def _switch_phones(self, states: list[PersonState]) -> None:
        """Make each new number the primary one; the old numbers stay as secondary ones."""
        ids = [s.id for s in states if s.id is not None]
        current: dict[int, list[tuple[int, str, bool]]] = {}
        for pk, person_id, number, primary in PersonPhone.objects.filter(
            person_id__in=ids
        ).values_list("id", "person_id", "number", "is_primary"):
            current.setdefault(person_id, []).append((pk, number, primary))
        PersonPhone.objects.filter(person_id__in=ids, is_primary=True).update(is_primary=False)
        promote: list[int] = []
        inserts = []
        sql = self.sql
        for state in states:
            assert state.id is not None
            phones = current.get(state.id, [])
            if not state.created_by_job and "_phones" not in state.before:
                state.before["_phones"] = [[pk, primary] for pk, _, primary in phones]
            number = state.values["phone"]
            same = [pk for pk, n, _ in phones if n == number]
            if same:
                promote.append(same[0])
            else:
                inserts.append(
                    (
                        state.id,
                        number,
                        state.values.get("_phone_original", number),
                        PhoneKind.WORK.value,
                        sql.flag(True),
                        sql.when(self.ctx.now),
                    )
                )
        if promote:
            PersonPhone.objects.filter(pk__in=promote).update(is_primary=True)
        sql.insert(
            PersonPhone,
            ["person_id", "number", "original", "kind", "is_primary", "created_at"],
            inserts,
        )


_TOUCHPOINT_COLUMNS = (
    "person_id", "kind", "occurred_at", "channel", "campaign_id", "detail", "import_job_id",
    "created_at",
)  # fmt: skip


def _record(sql: Sql, job_id: int, target_type: str, changes: list[tuple[int, int, dict]]) -> None:
    """Keep each target's original values once per job: a later batch adds the fields it
    changed first, and never replaces what an earlier batch recorded."""
    if not changes:
        return
    known = {
        c.target_id: c
        for c in ImportChange.objects.filter(
            job_id=job_id, target_type=target_type, target_id__in=[t for _, t, _ in changes]
        )
    }
    fresh, grown = [], []
    for row_number, target_id, before in changes:
        old = known.get(target_id)
        if old is None:
            fresh.append((job_id, row_number, target_type, target_id, as_json(before)))
            continue
        added = {k: v for k, v in before.items() if k not in old.before}
        if added:
            old.before = {**old.before, **added}
            grown.append(old)
    sql.insert(ImportChange, ["job_id", "row_number", "target_type", "target_id", "before"], fresh)
    if grown:
        ImportChange.objects.bulk_update(grown, ["before"])


def _work_domain(email: str) -> str:
    """The domain of a work address; "" for free-mail and for no address."""
    if not email:
        return ""
    domain = email.rpartition("@")[2]
    return "" if domain in FREE_MAIL_DOMAINS else domain


# --- companies ---------------------------------------------------------------------------------


class CompaniesBatch:
    """One batch of a company import. Companies are matched by domain, else by name."""

    def __init__(self, ctx: JobContext):
        self.ctx = ctx
        self.fill = ctx.policy == DuplicatePolicy.FILL
        self.skip = ctx.policy == DuplicatePolicy.SKIP

    def run(
        self, raw_rows: list[tuple[int, list[str]]], results: list[Any] | None = None
    ) -> Outcome:
        out = Outcome()
        cleaned: list[CompanyRow] = []
        if results is None:
            results = [self.ctx.cleaner.company(number, values) for number, values in raw_rows]
        for result in results:
            if isinstance(result, list):
                out.reject(result)
            else:
                cleaned.append(result)
        domains = {r.domain for r in cleaned if r.domain}
        keys = {name_key(r.name) for r in cleaned}
        by_domain: dict[str, Company] = {}
        by_name: dict[str, Company] = {}
        for company in (
            Company.objects.live()
            .filter(models.Q(domain__in=domains) | models.Q(name_key__in=keys))
            .order_by("-id")
        ):
            if company.domain:
                by_domain[company.domain] = company
            by_name[company.name_key] = company
        required = self.ctx.required_custom()
        new: dict[str, Company] = {}
        created: list[Company] = []
        changed: dict[int, Company] = {}
        before: dict[int, dict[str, Any]] = {}
        first_row: dict[int, int] = {}
        for row in cleaned:
            key = name_key(row.name)
            company = (new.get("d:" + row.domain) if row.domain else None) or new.get("n:" + key)
            is_new = company is not None
            if company is None:
                company = (by_domain.get(row.domain) if row.domain else None) or by_name.get(key)
            if company is None:
                missing = [f for f in required if f.key not in row.custom]
                if missing:
                    out.reject(
                        [
                            RowError(
                                row.number, "", "", f"{f.label} is required for new companies."
                            )
                            for f in missing
                        ]
                    )
                    continue
                company = Company(
                    name=row.name,
                    name_key=key,
                    domain=row.domain,
                    industry=row.text.get("industry", ""),
                    size=row.size,
                    country=row.country,
                    owner_id=row.owner_id,
                    custom_fields=dict(row.custom),
                    import_job_id=self.ctx.job.pk,
                    created_at=self.ctx.now,
                    updated_at=self.ctx.now,
                )
                created.append(company)
                new["n:" + key] = company
                if row.domain:
                    new["d:" + row.domain] = company
                out.created += 1
                continue
            if self.skip:
                out.skipped += 1
                continue
            if self._merge(
                company, row, before, is_new or company.import_job_id == self.ctx.job.pk
            ):
                out.updated += 1
                if not is_new:
                    changed[company.pk] = company
                    first_row.setdefault(company.pk, row.number)
            else:
                out.skipped += 1
        if created:
            Company.objects.bulk_create(created)
        if changed:
            for company in changed.values():
                company.updated_at = self.ctx.now
            Company.objects.bulk_update(
                list(changed.values()),
                [
                    "name",
                    "name_key",
                    "domain",
                    "industry",
                    "size",
                    "country",
                    "owner",
                    "custom_fields",
                    "updated_at",
                ],
            )
            _record(
                self.ctx.sql,
                self.ctx.job.pk,
                COMPANY_TYPE,
                [(first_row[pk], pk, before[pk]) for pk in changed if before.get(pk)],
            )
        return out

    def _merge(
        self, company: Company, row: CompanyRow, before: dict[int, dict[str, Any]], own: bool
    ) -> bool:
        fill = self.fill
        changed = False
        saved = before.setdefault(company.pk, {}) if company.pk and not own else {}
        incoming: dict[str, Any] = {
            "name": row.name,
            "domain": row.domain,
            "industry": row.text.get("industry", ""),
            "size": row.size,
            "country": row.country,
        }
        for name, value in incoming.items():
            if not value:
                continue
            current = getattr(company, name)
            if (not current) if fill else (current != value):
                saved.setdefault(name, current)
                setattr(company, name, value)
                changed = True
        if "name" in saved:
            saved.setdefault("name_key", company.name_key)
            company.name_key = name_key(company.name)
        if row.owner_id is not None and (
            company.owner_id is None if fill else company.owner_id != row.owner_id
        ):
            saved.setdefault("owner_id", company.owner_id)
            company.owner_id = row.owner_id
            changed = True
        for key, value in row.custom.items():
            current = company.custom_fields.get(key)
            if (current in (None, "")) if fill else (current != value):
                saved.setdefault("custom_fields", dict(company.custom_fields))
                company.custom_fields = {**company.custom_fields, key: value}
                changed = True
        return changed
