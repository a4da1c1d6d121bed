"""Benchmark: how well `tandem duplicates scan` finds people who share only a (corrupted) name
and address. Labelled, seeded, nothing downloaded.

    python -m bench.dedup_quality [--seed 1] [--threshold 0.85] [--keep DIR]

Makes 2,000 original people with names and street addresses (no email, no phone;
names drawn with realistic frequencies, so common names repeat, and some households
share an address and a last name) and 3,000 corrupted copies of them: typing and
OCR-like errors, phonetic misspellings, swapped first and last names, nicknames and
initials, abbreviations (Street/St), missing values, digit errors in postcodes and
house numbers. Loads them into a fresh database (SQLite in a temp folder, or
DATABASE_URL, which must hold no people) through the real import (`import_file`,
`run_import`), then runs the real `tandem duplicates scan` and `tandem duplicates
export` in subprocesses at the default threshold (TANDEM_DUPLICATE_THRESHOLD_PERCENT
unless --threshold), and prints pair precision, recall and F1 of the exported pairs
against the truth: every pair inside a cluster of an original and its copies.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path

from bench.common import database_label, machine_label, migrate, setup_django

# Common first names with a rough frequency weight (US census order, heavier first).
from bench.dedup_words import (
    CITIES,
    CODAS,
    CORRUPTIONS,
    ENDINGS,
    FIRST_NAMES,
    LAST_NAMES,
    NICKNAMES,
    OCR,
    ONSETS,
    PHONETIC,
    STREET_KINDS,
    STREET_NAMES,
    VOWELS,
)

# Copies per original: 1,200 originals get one, 600 two, 200 three: 3,000 copies.
COPY_SHARES = ((1, 0.6), (2, 0.3), (3, 0.1))


@dataclass(frozen=True)
class Person:
    cluster: int
    first: str
    last: str
    street: str
    city: str
    postcode: str


def _weighted(names: list[str], rnd: random.Random, power: float) -> list[float]:
    return [1 / (rank + 1) ** power for rank in range(len(names))]


def _rare_last(rnd: random.Random) -> str:
    name = rnd.choice(ONSETS) + rnd.choice(VOWELS) + rnd.choice(CODAS)
    if rnd.random() < 0.7:
        name += rnd.choice(ENDINGS)
    return name.capitalize()


def originals(rnd: random.Random, n: int) -> list[Person]:
    """N people; common names repeat (Zipf-like), 5% live with a relative (same last name)."""
    first_w = _weighted(FIRST_NAMES, rnd, 0.9)
    last_pool = LAST_NAMES + sorted({_rare_last(rnd) for _ in range(1500)})
    last_w = _weighted(last_pool, rnd, 0.75)
    # A town's postcodes run in sequence (30301, 30302...): neighbours differ in one digit.
    zips = {}
    for city in CITIES:
        base = rnd.randrange(1000, 9990) * 10
        zips[city] = [f"{base + k:05d}" for k in range(rnd.randrange(3, 9))]
    out: list[Person] = []
    while len(out) < n:  # a household's second person counts as an original too
        first = rnd.choices(FIRST_NAMES, first_w)[0]
        last = rnd.choices(last_pool, last_w)[0]
        city = rnd.choice(CITIES)
        kind = rnd.choice(list(STREET_KINDS))
        street = f"{rnd.randrange(1, 2500)} {rnd.choice(STREET_NAMES)} {kind}"
        person = Person(len(out), first, last, street, city, rnd.choice(zips[city]))
        out.append(person)
        if rnd.random() < 0.05 and len(out) < n:
            other = rnd.choices(FIRST_NAMES, first_w)[0]
            while other[0] == first[0]:
                other = rnd.choices(FIRST_NAMES, first_w)[0]
            out.append(replace(person, cluster=len(out), first=other))
    return out


def _edit(rnd: random.Random, word: str) -> str:
    """One keyboard slip: a letter dropped, doubled, swapped with its neighbour or replaced."""
    if len(word) < 3:
        return word
    i = rnd.randrange(1, len(word) - 1)
    kind = rnd.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    near = "qwertyuiopasdfghjklzxcvbnm"
    pos = near.find(word[i].lower())
    new = near[max(0, pos - 1)] if pos > 0 else "e"
    return word[:i] + new + word[i + 1 :]


def _swap_in(rnd: random.Random, word: str, table: tuple[tuple[str, str], ...]) -> str:
    options = [(a, b) for a, b in table if a in word[1:]]
    if not options:
        return _edit(rnd, word)
    a, b = rnd.choice(options)
    at = word.find(a, 1)
    return word[:at] + b + word[at + len(a) :]


def _digit(rnd: random.Random, digits: str) -> str:
    """One digit wrong or two neighbours swapped."""
    if len(digits) < 2:
        return str((int(digits) + 1) % 10) if digits.isdigit() else digits
    i = rnd.randrange(len(digits) - 1)
    if rnd.random() < 0.5 and digits[i] != digits[i + 1]:
        return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
    return digits[:i] + str((int(digits[i]) + rnd.randrange(1, 10)) % 10) + digits[i + 1 :]


def corrupt(rnd: random.Random, person: Person) -> Person:
    """A copy with one to three corruptions."""
    first, last, street, city, postcode = (
        person.first,
        person.last,
        person.street,
        person.city,
        person.postcode,
    )
    for kind in rnd.sample(CORRUPTIONS, rnd.choice((1, 1, 2, 2, 3))):
        target = rnd.choice(("first", "last", "last", "street"))
        if kind in ("typo", "ocr", "phonetic"):
            table = {"ocr": OCR, "phonetic": PHONETIC}.get(kind)

            def change(word: str, table: tuple | None = table) -> str:
                return _edit(rnd, word) if table is None else _swap_in(rnd, word, table)

            if target == "first" and first:
                first = change(first)
            elif target == "last" and last:
                last = change(last)
            elif street:
                number, _, rest = street.partition(" ")
                name, _, kind_word = rest.rpartition(" ")
                street = f"{number} {change(name)} {kind_word}"
        elif kind == "swap":
            first, last = last, first
        elif kind == "nickname_or_initial":
            nicks = NICKNAMES.get(first)
            if nicks and rnd.random() < 0.7:
                first = rnd.choice(nicks)
            elif first:
                first = first[0] + rnd.choice((".", ""))
        elif kind == "street_form" and street:
            for full, short in STREET_KINDS.items():
                if street.endswith(" " + full):
                    street = street[: -len(full)] + short + rnd.choice((".", ""))
                    break
                if street.endswith(" " + short):
                    street = street[: -len(short)] + full
                    break
        elif kind == "missing":
            which = rnd.choice(("first", "street", "postcode", "city"))
            if which == "first":
                first = ""
            elif which == "street":
                street = ""
            elif which == "postcode":
                postcode = ""
            else:
                city = ""
        elif kind == "postcode_digit" and postcode:
            postcode = _digit(rnd, postcode)
        elif kind == "house_digit" and street:
            number, _, rest = street.partition(" ")
            street = f"{_digit(rnd, number)} {rest}"
    if rnd.random() < 0.15:
        first, last = first.upper(), last.upper()
    return Person(person.cluster, first, last, street, city, postcode)


def dataset(seed: int, n_originals: int = 2000) -> list[Person]:
    """Originals then copies, shuffled: the order says nothing."""
    rnd = random.Random(seed)
    people = originals(rnd, n_originals)
    counts = [k for k, share in COPY_SHARES for _ in range(round(share * len(people)))]
    rnd.shuffle(counts)
    copies: list[Person] = []
    for person, k in zip(people, counts, strict=True):
        for _ in range(k):
            copies.append(corrupt(rnd, person))
    rows = people + copies
    rnd.shuffle(rows)
    return rows


def truth_pairs(rows: list[Person], ids: list[int]) -> set[tuple[int, int]]:
    clusters: dict[int, list[int]] = {}
    for row, pk in zip(rows, ids, strict=True):
        clusters.setdefault(row.cluster, []).append(pk)
    pairs: set[tuple[int, int]] = set()
    for members in clusters.values():
        pairs.update(combinations(sorted(members), 2))
    return pairs


def write_csv(rows: list[Person], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Ref", "First name", "Last name", "Street", "City", "Postcode", "Country"])
        for n, row in enumerate(rows, start=1):
            writer.writerow([n, row.first, row.last, row.street, row.city, row.postcode, "US"])


def _tandem(*args: str) -> tuple[float, str]:
    tandem = Path(sys.executable).with_name("tandem")
    command = [str(tandem)] if tandem.exists() else [sys.executable, "-m", "tandem"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, env=os.environ.copy(), check=False
    )
    if done.returncode != 0:
        sys.exit(f"tandem {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started, done.stdout


def _fresh_database(keep: Path | None) -> Path:
    folder = keep or Path(tempfile.gettempdir()) / "tandem-bench-dedup-quality"
    if not os.environ.get("DATABASE_URL"):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        os.environ["TANDEM_DATA_DIR"] = str(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def load(rows: list[Person], folder: Path) -> list[int]:
    """Import the rows through the real import; returns the person id of each row."""
    from tandem.accounts.actor import Actor
    from tandem.imports import services
    from tandem.people.models import Person as PersonModel

    if PersonModel.objects.exists():
        sys.exit("This database already holds people: use a fresh one.")
    path = folder / "people.csv"
    write_csv(rows, path)
    actor = Actor.system("bench")
    job = services.import_file(actor=actor, entity="people", path=path, create_fields=True)
    services.start_import(actor=actor, job=job, enqueue=False)
    job = services.run_import(job_id=job.pk, actor=actor)
    if job.error or job.created_count != len(rows):
        sys.exit(f"import #{job.pk}: {job.created_count} of {len(rows)} created; {job.error}")
    by_ref = {
        int(ref): pk
        for pk, ref in PersonModel.objects.values_list("id", "custom_fields__ref")
        if ref is not None
    }
    return [by_ref[n] for n in range(1, len(rows) + 1)]


def read_export(path: Path) -> set[tuple[int, int]]:
    with path.open(encoding="utf-8") as handle:
        return {(int(r["id_a"]), int(r["id_b"])) for r in csv.DictReader(handle)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dedup_quality", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="folder for the database and CSVs")
    parser.add_argument("--show", type=int, default=10, help="misses and false pairs to show")
    args = parser.parse_args(argv)
    folder = _fresh_database(args.keep)
    if args.threshold is not None:
        os.environ["TANDEM_DUPLICATE_THRESHOLD_PERCENT"] = str(round(args.threshold * 100))
    setup_django()
    migrate()
    from django.conf import settings

    threshold = settings.TANDEM_DUPLICATE_THRESHOLD
    rows = dataset(args.seed)
    started = time.perf_counter()
    ids = load(rows, folder)
    print(f"Database: {database_label()}. Machine: {machine_label()}")
    print(f"Imported {len(rows):,} people in {time.perf_counter() - started:.1f} s.")
    scan_s, scan_out = _tandem("duplicates", "scan")
    print(scan_out.rstrip())
    export = folder / "pairs.csv"
    _, export_out = _tandem("duplicates", "export", "--out", str(export))
    print(export_out.rstrip())
    found = read_export(export)
    truth = truth_pairs(rows, ids)
    hits = found & truth
    precision = len(hits) / len(found) if found else 0.0
    recall = len(hits) / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    row_of = {pk: row for pk, row in zip(ids, rows, strict=True)}

    def show(pair: tuple[int, int]) -> str:
        a, b = row_of[pair[0]], row_of[pair[1]]
        return (
            f"  {a.first} {a.last}, {a.street}, {a.postcode} {a.city}  ~  "
            f"{b.first} {b.last}, {b.street}, {b.postcode} {b.city}"
        )

    if args.show:
        print("Some false pairs:")
        for pair in sorted(found - truth)[: args.show]:
            print(show(pair))
        print("Some missed pairs:")
        for pair in sorted(truth - found)[: args.show]:
            print(show(pair))
    print(
        f"{len(rows):,} people in {len({r.cluster for r in rows}):,} clusters; "
        f"truth {len(truth):,} pairs, exported {len(found):,}, correct {len(hits):,}"
    )
    print(f"threshold {threshold:.2f}  scan {scan_s:.1f} s")
    print(f"precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}")
    print("target: precision >= 0.95, F1 >= 0.96")
    return 0 if precision >= 0.95 and f1 >= 0.96 else 1


if __name__ == "__main__":
    sys.exit(main())
