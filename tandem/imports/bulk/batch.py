"""What every batch of a job shares, and what a batch did."""

from __future__ import annotations

import datetime as dt
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import pairwise

from tandem.accounts.actor import Actor
from tandem.imports.bulk.sql import Sql
from tandem.imports.models import ImportJob
from tandem.imports.rows import SKIPPED, RowCleaner, RowError
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
    left_out: int = 0  # values left out of rows that came in
    companies_created: int = 0
    errors: list[RowError] = field(default_factory=list)  # the report's lines, every outcome

    def reject(self, errors: list[RowError]) -> None:
        self.rejected += 1
        self.errors.extend(errors)

    def skip(self, number: int, column: str, value: str, reason: str) -> None:
        self.skipped += 1
        self.errors.append(RowError(number, column, value, reason, SKIPPED))

    def came_in(self, left_out: list[RowError]) -> None:
        """A row came in (created or updated): the values it was without go in the report."""
        if left_out:
            self.left_out += len(left_out)
            self.errors.extend(left_out)


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
    # The people this run created, by id, with the row that created each: a later row with
    # the same email says which row it repeats. Ids only grow, so two flat arrays searched
    # by bisection hold a million people in 12 MB where a dict would take ~100 MB.
    created_ids: array = field(default_factory=lambda: array("q"))
    created_rows: array = field(default_factory=lambda: array("i"))

    def remember_created(self, ids: list[int], rows: list[int]) -> None:
        if not ids:
            return
        if any(a > b for a, b in pairwise(ids)):
            ids, rows = (list(t) for t in zip(*sorted(zip(ids, rows, strict=True)), strict=True))
        if self.created_ids and ids[0] <= self.created_ids[-1]:
            return  # a batch tried again after a rollback: its ids are known already
        self.created_ids.extend(ids)
        self.created_rows.extend(rows)

    def header_of(self, target: str) -> str:
        """The file's column mapped to a target ("" if none)."""
        columns = self.job.mapping.get("columns") or {}
        return next((h for h, t in columns.items() if t == target), "")

    def created_row(self, person_id: int) -> int | None:
        """The row of this run that created the person, if this run did."""
        i = bisect_left(self.created_ids, person_id)
        if i < len(self.created_ids) and self.created_ids[i] == person_id:
            return self.created_rows[i]
        return None

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
