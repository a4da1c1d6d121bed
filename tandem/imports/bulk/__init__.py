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

from tandem.imports.bulk.batch import (
    BATCH_SIZE,
    COMPANY_TYPE,
    PERSON_TYPE,
    JobContext,
    Outcome,
    default_batch_size,
)
from tandem.imports.bulk.companies import CompaniesBatch
from tandem.imports.bulk.people import PeopleBatch
from tandem.imports.bulk.sql import Sql, as_json, bulk_session, write_row_errors

__all__ = [
    "BATCH_SIZE",
    "COMPANY_TYPE",
    "PERSON_TYPE",
    "CompaniesBatch",
    "JobContext",
    "Outcome",
    "PeopleBatch",
    "Sql",
    "as_json",
    "bulk_session",
    "default_batch_size",
    "write_row_errors",
]
