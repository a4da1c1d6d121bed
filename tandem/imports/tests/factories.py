"""Files and jobs for import tests: write a CSV, run it through the import as the CLI does."""

from __future__ import annotations

import csv
from pathlib import Path

from tandem.accounts.actor import Actor
from tandem.imports import services
from tandem.imports.models import ImportJob


def write_csv(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def run_file(
    path: Path,
    *,
    actor: Actor,
    entity: str = "people",
    policy: str = "skip",
    mapping: dict | None = None,
    create_fields: bool = False,
    max_batches: int | None = None,
    batch_size: int = 5000,
) -> ImportJob:
    """Upload, map (suggested or given) and run a file in the foreground, as the CLI does."""
    job = services.import_file(
        actor=actor,
        entity=entity,
        path=path,
        mapping=mapping,
        policy=policy,
        create_fields=create_fields,
    )
    services.start_import(actor=actor, job=job, enqueue=False)
    return services.run_import(
        job_id=job.pk, actor=actor, max_batches=max_batches, batch_size=batch_size
    )


# The reported example in miniature: every kind of bad value a person comes in without,
# two rows that cannot say who they are, and a row repeating an earlier one.
MESSY_HEADER = ["First Name", "Last Name", "Email", "Phone", "Country", "Job Title", "Budget", "Lifecycle Stage"]  # fmt: skip
MESSY_ROWS = [
    ["Ada", "Lovelace", "ada@example.com", "+44 20 7946 0018", "GB", "Countess", "1000", "customer"],
    ["Bob", "Byte", "bob@example.com", "12", "", "CTO", "", "lead"],  # 3: phone
    ["Cy", "Coder", "cy@example.com", "", "Atlantis", "", "", ""],  # 4: country
    ["Di", "Dev", "di@example.com", "", "", "x" * 300, "", ""],  # 5: too-long title
    ["Ed", "Ops", "ed@example.com", "", "", "", "lots", ""],  # 6: a number field, not a number
    ["Fay", "Field", "fay(at)example.com", "", "", "", "", ""],  # 7: email, but she has a name
    ["Gus", "Grey", "gus@example.com", "", "", "", "", "hot"],  # 8: unknown stage
    ["", "", "", "+1 415 555 0100", "US", "CEO", "", ""],  # 9: no email, no name: rejected
    ["", "", "not-an-email", "", "", "", "", ""],  # 10: bad email, no name: rejected
    ["Ada", "L.", "ADA@example.com", "", "", "", "", ""],  # 11: the same email as row 2
]  # fmt: skip
# (row, column, value) of each value left out, and the words its reason must hold.
MESSY_LEFT_OUT = [
    (3, "Phone", "12", "not a valid phone number"),
    (4, "Country", "Atlantis", "not a country we know; use its name"),
    (5, "Job Title", "x" * 300, "At most 150 characters"),
    (6, "Budget", "lots", "Budget must be a number"),
    (7, "Email", "fay(at)example.com", "not a valid email address"),
    (8, "Lifecycle Stage", "hot", "not a lifecycle stage"),
]
MESSY_PEOPLE = {"Ada", "Bob", "Cy", "Di", "Ed", "Fay", "Gus"}


def write_messy_csv(path: Path, actor: Actor) -> Path:
    """The miniature file, with its Budget custom field (a number) defined first."""
    from tandem.people.custom_fields import create_custom_field

    create_custom_field(
        actor=actor, entity="person", label="Budget", key="budget", field_type="number"
    )
    return write_csv(path, [MESSY_HEADER, *MESSY_ROWS])
