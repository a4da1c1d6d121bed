"""`tandem import people|companies FILE`, `tandem import undo ID`, `tandem import resume ID`.

The same services as the wizard, run in the foreground with a progress bar;
the report lists rejected rows, values left out and skipped rows, and the whole
report is written as CSV.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.core.dblocks import busy_text, is_lock_timeout
from tandem.imports import queries, services
from tandem.imports.models import DuplicatePolicy, ImportEntity, ImportJob, ImportStatus

SHOWN_ERRORS = 20
DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "\n".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Import people or companies from CSV or XLSX (encoding and delimiter detected), "
        "undo an import, or resume a stopped one. The mapping file format is in docs/imports.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="people|companies|undo|resume"
        )
        for entity in ImportEntity.values:
            p = sub.add_parser(entity, help=f"Import {entity} from a CSV or XLSX file.")
            p.add_argument("file", type=Path)
            how = p.add_mutually_exclusive_group()
            how.add_argument("--mapping", type=Path, help="A mapping JSON file (docs/imports.md).")
            how.add_argument(
                "--auto",
                action="store_true",
                help="Map the headers Tandem recognises (the default without --mapping).",
            )
            p.add_argument(
                "--policy",
                choices=DuplicatePolicy.values,
                default=DuplicatePolicy.SKIP,
                help="For rows whose email (company: domain or name) exists: skip (default), "
                "fill empty fields, or overwrite.",
            )
            p.add_argument(
                "--create-fields",
                action="store_true",
                help="Make each other column a custom field, its type inferred from its values.",
            )
            p.add_argument("--dry-run", action="store_true", help="Check every row; keep nothing.")
            if entity == ImportEntity.PEOPLE:
                p.add_argument(
                    "--region",
                    default=None,
                    help="Read phone numbers without +country as from this country (code or "
                    "name) when their row has no country (default: TANDEM_DEFAULT_REGION).",
                )
            p.add_argument("--encoding", default="", help="Override the detected encoding.")
            p.add_argument(
                "--delimiter",
                default="",
                help="Override the detected delimiter: , ; | or tab.",
            )
            p.add_argument("--user", default="", help="Act as this user (default: the system).")
            p.add_argument(
                "--report",
                type=Path,
                help="Where to write the report CSV (rejected rows, values left out, skipped rows).",
            )
            p.add_argument(
                "--batch-size",
                type=int,
                default=None,
                help="Rows per transaction (default: 5,000 on SQLite, 20,000 on PostgreSQL).",
            )
        undo = sub.add_parser(
            "undo", help="Remove what an import created, restore what it changed."
        )
        undo.add_argument("id", type=int)
        undo.add_argument("--user", default="")
        resume = sub.add_parser("resume", help="Continue a stopped import after its last batch.")
        resume.add_argument("id", type=int)
        resume.add_argument("--user", default="")
        resume.add_argument("--report", type=Path)
        resume.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        self.console = Console(file=cast(IO[str], self.stdout), highlight=False, width=110)
        actor = self._actor(options.get("user") or "")
        try:
            if options["action"] == "undo":
                self._undo(actor, options["id"])
            elif options["action"] == "resume":
                job = self._job(options["id"])
                services.resume_import(actor=actor, job=job, enqueue=False)
                self._run(actor, job, options)
            else:
                self._import(actor, options)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except Exception as exc:
            if not is_lock_timeout(exc):
                raise
            # Before any row was written (the job's own records): nothing to resume yet.
            raise CommandError(f"{busy_text()} Nothing was imported; run it again.") from None

    # -- helpers ------------------------------------------------------------------------

    def _actor(self, username: str) -> Actor:
        if not username:
            return Actor.system("cli")
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        return Actor.for_user(user)

    def _job(self, pk: int) -> ImportJob:
        job = ImportJob.objects.filter(pk=pk).first()
        if job is None:
            raise CommandError(f"No import #{pk}.")
        return job

    def _import(self, actor: Actor, options: dict[str, Any]) -> None:
        mapping = None
        if options.get("mapping"):
            try:
                mapping = json.loads(Path(options["mapping"]).read_text(encoding="utf-8"))
            except OSError as exc:
                raise CommandError(f"--mapping: {exc}") from None
            except json.JSONDecodeError as exc:
                raise CommandError(f"--mapping: not JSON ({exc}).") from None
        if not options["dry_run"]:
            stopped = services.stopped_import_of(
                actor=actor,
                entity=options["action"],
                path=options["file"],
                policy=options["policy"],
                mapping=mapping,
            )
            if stopped is not None:
                self.console.print(
                    f"Import #{stopped.pk} of this file stopped after {stopped.processed_rows:,} "
                    "rows: resuming it (the rows already in are not imported again)."
                )
                services.resume_import(actor=actor, job=stopped, enqueue=False)
                self._run(actor, stopped, options)
                return
        job = services.import_file(
            actor=actor,
            entity=options["action"],
            path=options["file"],
            mapping=mapping,
            policy=options["policy"],
            create_fields=options["create_fields"],
            encoding=options["encoding"],
            delimiter=DELIMITER_WORDS.get(options["delimiter"].lower(), options["delimiter"]),
            region=options.get("region"),
        )
        self._describe(job)
        if options["dry_run"]:
            services.start_dry_run(actor=actor, job=job, enqueue=False)
            started = time.perf_counter()
            with self._bar(job, "Dry run") as (bar, task):
                job = services.dry_run(
                    job_id=job.pk,
                    actor=actor,
                    on_batch=lambda n: bar.update(task, completed=n),
                )
            self._report(job, time.perf_counter() - started, options.get("report"), dry=True)
            return
        services.start_import(actor=actor, job=job, enqueue=False)
        self._run(actor, job, options)

    def _run(self, actor: Actor, job: ImportJob, options: dict[str, Any]) -> None:
        started = time.perf_counter()
        with self._bar(job, "Importing") as (bar, task):
            bar.update(task, completed=job.processed_rows)
            job = services.run_import(
                job_id=job.pk,
                actor=actor,
                batch_size=max(1, options["batch_size"]) if options.get("batch_size") else None,
                on_batch=lambda j: bar.update(task, completed=j.processed_rows),
            )
        self._report(job, time.perf_counter() - started, options.get("report"), dry=False)

    def _bar(self, job: ImportJob, title: str) -> Any:
        console = self.console

        class _Bar:
            def __enter__(self) -> tuple[Progress, Any]:
                self.progress = Progress(
                    TextColumn(f"[bold]{title}[/bold] #{job.pk}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                    transient=False,
                )
                self.progress.start()
                return self.progress, self.progress.add_task(title, total=job.total_rows or None)

            def __exit__(self, *exc: object) -> None:
                self.progress.stop()

        return _Bar()

    def _describe(self, job: ImportJob) -> None:
        where = f"{job.file_format.upper()}"
        if job.file_format == "csv":
            delimiter = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "|"}.get(
                job.delimiter, job.delimiter
            )
            where += f", {job.encoding}, {delimiter}-separated"
        self.console.print(
            f"Import #{job.pk}: {job.original_name} ({where}, about {job.total_rows:,} rows), "
            f"policy {job.policy}"
            + (
                f", phones without +country read as {job.region}."
                if job.entity == ImportEntity.PEOPLE and job.region
                else "."
            )
        )
        table = Table(show_header=True, header_style="bold", box=None)
        table.add_column("column")
        table.add_column("→ field")
        new_fields = job.mapping.get("new_fields") or {}
        for header in job.headers:
            target = job.mapping["columns"].get(header)
            note = (
                " (new field, " + new_fields[header]["type"] + ")" if header in new_fields else ""
            )
            table.add_row(header, (target or "[dim]not imported[/dim]") + note)
        self.console.print(table)

    def _report(self, job: ImportJob, seconds: float, report: Path | None, *, dry: bool) -> None:
        if job.status == ImportStatus.FAILED:
            again = "" if dry else f" Continue with: tandem import resume {job.pk}"
            raise CommandError(f"Import #{job.pk} failed: {job.error}{again}")
        if dry and job.error:  # a dry run stopped by a lock: the job is mapped again
            raise CommandError(f"Dry run of import #{job.pk}: {job.error}")
        verb = "would be " if dry else ""
        rate = job.processed_rows / seconds if seconds > 0 else 0
        self.console.print(
            f"{'Dry run of import' if dry else 'Import'} #{job.pk}: {job.processed_rows:,} rows in "
            f"{seconds:.1f} s ({rate:,.0f} rows/s): {job.created_count:,} {verb}created, "
            f"{job.updated_count:,} {verb}updated, {job.skipped_count:,} {verb}skipped, "
            f"{job.rejected_count:,} rejected."
        )
        if job.status == ImportStatus.RUNNING:
            self.console.print(f"It stopped early; continue with: tandem import resume {job.pk}")
        if job.left_out_count:
            self.console.print(
                f"{job.left_out_count:,} values {verb}left out: those rows "
                f"{'would come' if dry else 'came'} in without them."
            )
        parts = queries.report_parts(job, SHOWN_ERRORS)
        for part in parts:
            table = Table(title=f"{part.title}: {part.total:,}", header_style="bold")
            for name in ("row", "column", "value", "reason"):
                table.add_column(name, overflow="fold")
            for error in part.lines:
                table.add_row(
                    str(error.row_number), error.column or "—", error.value[:40], error.reason
                )
            self.console.print(table)
            if part.more:
                self.console.print(f"… and {part.more:,} more in the report.")
        if parts:
            path = report or services.import_dir() / f"import-{job.pk}-report.csv"
            with Path(path).open("w", newline="", encoding="utf-8") as out:
                count = queries.write_report_csv(job, out)
            listed = job.rejected_count + job.left_out_count + job.skipped_count
            more = f" (the first {count:,} lines)" if dry and count < listed else ""
            self.console.print(
                f"The report, row by row (rejected rows, values left out, skipped rows){more}: "
                f"{path}"
            )
        if not dry and job.status == ImportStatus.DONE:
            self.console.print(f"Undo with: tandem import undo {job.pk}")

    def _undo(self, actor: Actor, pk: int) -> None:
        job = self._job(pk)
        started = time.perf_counter()
        with self.console.status(f"Undoing import #{pk}…") as status:
            job = services.undo_import(
                actor=actor,
                job=job,
                on_progress=lambda what, n: status.update(f"Undoing import #{pk}: {n:,} {what}…"),
            )
        self.console.print(
            f"Import #{pk} undone in {time.perf_counter() - started:.1f} s: what it created is "
            "removed, what it changed is restored."
        )
