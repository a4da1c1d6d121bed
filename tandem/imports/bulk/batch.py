"""What every batch of a job shares, and what a batch did."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tandem.core.actor import Actor
from tandem.imports.bulk.sql import Sql
from tandem.imports.models import ImportJob
from tandem.imports.rows import RowCleaner, RowError
from tandem.people.models import Company, CustomField, Person

# Rows per transaction. On PostgreSQL 20,000: a 1M-row import took 174 s instead of
# 223 s on SQLite with it (fewer lookups and commits), peak memory 948 MiB instead of
# 925. On SQLite a batch holds the one write lock while it is written, so web requests
# that write wait for it: 10,000 there, about 0.4 s a batch. Each commit writes every
# page the batch changed, and the email index's pages are changed again by each batch:
# a 1M-row import took 51.6-52.5 s with 10,000 against 56.9-62.6 s with 5,000
# (bench.import_people, docs/benchmarks.md).
# An import bigger than the database it goes into (moving in: its secondary indexes
# are built after the rows, bulk/indexes.py) takes longer turns, 25,000 rows, about
# 1 s a batch: there are 40 commits per million rows instead of 100 and each rewrites
# the email index's pages.
BATCH_SIZE = 20_000
SQLITE_BATCH_SIZE = 10_000
SQLITE_MOVING_IN_BATCH_SIZE = 25_000


def default_batch_size(*, moving_in: bool = False) -> int:
    from django.db import connection

    if connection.vendor != "sqlite":
        return BATCH_SIZE
    return SQLITE_MOVING_IN_BATCH_SIZE if moving_in else SQLITE_BATCH_SIZE


PERSON_TYPE = Person._meta.label_lower
COMPANY_TYPE = Company._meta.label_lower


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
    # Live companies by name key and by work domain, as earlier batches found or made them
    # (None: looked up, there is none).
    companies_by_name: dict[str, int | None] = field(default_factory=dict)
    companies_by_domain: dict[str, int | None] = field(default_factory=dict)

    def forget(self) -> None:
        """Drop what was learnt from the database: a batch rolled back may have made it."""
        self.campaigns.clear()
        self.companies_by_name.clear()
        self.companies_by_domain.clear()

    @property
    def policy(self) -> str:
        return self.job.policy

    @property
    def reason(self) -> str:
        return f"Imported ({self.job.original_name[:80]}, import #{self.job.pk})"

    def required_custom(self) -> list[CustomField]:
        return [f for f in self.custom_fields if f.required]
