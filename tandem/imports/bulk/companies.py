"""One batch of a company import. Companies are matched by domain, else by name."""

from __future__ import annotations

from typing import Any

from django.db import models

from tandem.imports.bulk.batch import COMPANY_TYPE, JobContext, Outcome
from tandem.imports.bulk.sql import record_changes
from tandem.imports.models import DuplicatePolicy
from tandem.imports.rows import LEFT_OUT, CompanyRow, RowError
from tandem.people.models import Company
from tandem.people.normalize import name_key


class CompaniesBatch:
    """One batch of a company import. Companies are matched by domain, else by name."""

    def __init__(self, ctx: JobContext):
        self.ctx = ctx
        self.fill = ctx.policy == DuplicatePolicy.FILL
        self.skip = ctx.policy == DuplicatePolicy.SKIP
        self.name_column = ctx.header_of("name") or ctx.header_of("domain")

    def run(self, results: list[Any]) -> Outcome:
        """Import one batch of rows, each already cleaned (a CompanyRow or its errors)."""
        out = Outcome()
        cleaned: list[CompanyRow] = []
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
        created_row: dict[int, int] = {}  # id() of a company this batch makes → its row
        for row in cleaned:
            key = name_key(row.name)
            company = (new.get("d:" + row.domain) if row.domain else None) or new.get("n:" + key)
            is_new = company is not None
            if company is None:
                company = (by_domain.get(row.domain) if row.domain else None) or by_name.get(key)
            if company is None:
                missing = [f for f in required if f.key not in row.custom]
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
                created_row[id(company)] = row.number
                new["n:" + key] = company
                if row.domain:
                    new["d:" + row.domain] = company
                out.created += 1
                out.came_in(row.left_out)
                out.came_in(
                    [
                        RowError(
                            row.number,
                            self.ctx.header_of(f"custom:{f.key}"),
                            "",
                            f"{f.label} is required: the company came in without it; fill it in.",
                            LEFT_OUT,
                        )
                        for f in missing
                    ]
                )
                continue
            same = (
                f"Same {'domain' if row.domain and company.domain == row.domain else 'name'} "
                f"as row {created_row[id(company)]}"
                if is_new
                else f"Already in Tandem (company #{company.pk})"
            )
            if self.skip:
                out.skip(row.number, self.name_column, row.name, f"{same}; the policy is skip.")
                continue
            if self._merge(
                company, row, before, is_new or company.import_job_id == self.ctx.job.pk
            ):
                out.updated += 1
                out.came_in(row.left_out)
                if not is_new:
                    changed[company.pk] = company
                    first_row.setdefault(company.pk, row.number)
            else:
                what = "empty fields to fill" if self.fill else "values to change"
                out.skip(row.number, self.name_column, row.name, f"{same}; no {what}.")
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
            record_changes(
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
