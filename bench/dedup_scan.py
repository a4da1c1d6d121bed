"""Benchmark: `tandem duplicates scan` over N deterministic people with planted duplicates.

    python -m bench.dedup_scan --people 100000

Makes a fresh SQLite database under --data-dir (or uses DATABASE_URL, which must
hold no people unless --reset is given), inserts N people with companies,
emails, phones and addresses, of which some are planted duplicates of others
(typos, swapped names, initials, the same phone, Gmail dot variants, the same
address, the same distinctive email name at another domain, and - not expected
to be found - the same name with a private address and nothing else shared) and some are decoys that must
NOT match (namesakes at other companies, family members sharing a line and an
address, colleagues with the same last name). Then it runs the real command
`tandem duplicates scan` in a subprocess, timed from start to exit, and reports
recall (planted pairs found) and precision (found pairs that were planted).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hannah",
    "Ivan",
    "Julia",
    "Karl",
    "Lena",
    "Max",
    "Nora",
    "Oskar",
    "Paula",
    "Quentin",
    "Rosa",
    "Simon",
    "Tara",
    "Uwe",
    "Vera",
    "Walter",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Aaron",
    "Bianca",
    "Carlos",
    "Diana",
    "Elias",
    "Fiona",
    "Georg",
    "Helena",
    "Igor",
    "Jana",
    "Kevin",
    "Laura",
    "Marco",
    "Nina",
    "Olaf",
    "Petra",
    "Rafael",
    "Sara",
    "Tobias",
    "Ulla",
    "Viktor",
    "Wanda",
    "Adam",
    "Berta",
    "Chris",
    "Doris",
    "Erik",
    "Frieda",
    "Gustav",
    "Heidi",
    "Ines",
    "Jakob",
    "Katrin",
    "Lukas",
    "Mira",
    "Niklas",
    "Olga",
    "Philipp",
    "Ruth",
    "Stefan",
    "Tina",
    "Valentin",
    "Wilma",
    "Alice",
    "Boris",
    "Cem",
    "Dana",
    "Emil",
    "Flora",
    "Hugo",
    "Ida",
    "Jonas",
    "Karla",
    "Leon",
    "Marta",
    "Noah",
    "Ole",
    "Pia",
    "Robert",
    "Selma",
    "Theo",
    "Ute",
    "Vincent",
    "Agnes",
    "Bruno",
    "Carla",
    "Dennis",
    "Elena",
    "Frank",
    "Gina",
    "Henrik",
    "Irma",
    "Jens",
    "Klara",
    "Linus",
    "Maja",
    "Nils",
    "Otto",
    "Priya",
    "Rene",
    "Sophie",
    "Timo",
    "Uma",
    "Wolfgang",
    "Yara",
    "Amir",
    "Britta",
    "Conrad",
    "Daria",
    "Edgar",
    "Fatima",
    "Gerd",
    "Hilde",
    "Ilias",
    "Johanna",
]
_ONSETS = [
    "b",
    "br",
    "d",
    "f",
    "g",
    "h",
    "k",
    "kr",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "sch",
    "st",
    "t",
    "v",
    "w",
    "z",
]
_VOWELS = ["a", "e", "i", "o", "u", "au", "ei", "ie"]
_CODAS = ["n", "r", "l", "s", "k", "t", "m", "nd", "rt", "ck", "ng"]
_SUFFIXES = ["er", "mann", "berg", "feld", "stein", "ow", "ski", "sen", "son", "hoff"]
FREEMAIL = ("gmail.com", "web.de", "gmx.de", "outlook.com", "yahoo.com")
STREETS = [
    "Haupt",
    "Bahnhof",
    "Garten",
    "Linden",
    "Kirch",
    "Schul",
    "Berg",
    "Wald",
    "Mühlen",
    "Rosen",
    "Birken",
    "Ahorn",
]
STREET_KINDS = ("straße", "weg", "allee", "platz")


@dataclass
class Row:
    id: int
    first: str
    last: str
    company: int | None = None
    email: str = ""
    phone: str = ""
    postcode: str = ""
    street: str = ""
    city: str = ""
    country: str = "DE"


@dataclass
class Dataset:
    companies: list[tuple[int, str, str]] = field(default_factory=list)  # id, name, domain
    rows: list[Row] = field(default_factory=list)
    planted: dict[tuple[int, int], str] = field(default_factory=dict)  # pair -> kind
    decoys: dict[tuple[int, int], str] = field(default_factory=dict)


def _last_names(rnd: random.Random, n: int) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        stem = rnd.choice(_ONSETS) + rnd.choice(_VOWELS) + rnd.choice(_CODAS)
        if rnd.random() < 0.6:
            stem += rnd.choice(_SUFFIXES)
        names.add(stem.capitalize())
    return sorted(names)


def _typo(rnd: random.Random, word: str) -> str:
    if len(word) < 4:
        return word + word[-1]
    i = rnd.randrange(1, len(word) - 1)
    kind = rnd.randrange(3)
    if kind == 0:  # swap two neighbours
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:  # drop one
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # double one


def generate(n: int, seed: int = 7) -> Dataset:
    """N people; about 4% of them planted duplicates and 2% decoys, all from `seed`."""
    rnd = random.Random(seed)
    data = Dataset()
    lasts = _last_names(rnd, 4000)
    n_companies = max(10, n // 12)
    for cid in range(1, n_companies + 1):
        name = (
            f"{rnd.choice(lasts)} {rnd.choice(['GmbH', 'AG', 'KG', 'Labs', 'Werke', 'Logistik'])}"
        )
        data.companies.append((cid, f"{name} {cid}", f"c{cid}.example"))
    postcodes = [f"{rnd.randrange(1000, 99999):05d}" for _ in range(max(50, n // 25))]
    used_emails: set[str] = set()
    next_phone = 3_000_000

    def email_for(first: str, last: str, domain: str) -> str:
        base = f"{first}.{last}".lower().replace("ß", "ss")
        local, k = base, 1
        while f"{local}@{domain}" in used_emails:
            k += 1
            local = f"{base}{k}"
        used_emails.add(f"{local}@{domain}")
        return f"{local}@{domain}"

    def new_phone() -> str:
        nonlocal next_phone
        next_phone += rnd.randrange(1, 50)
        return f"+4930{next_phone:07d}"

    def base_row(pk: int) -> Row:
        first, last = rnd.choice(FIRST_NAMES), rnd.choice(lasts)
        row = Row(id=pk, first=first, last=last)
        company_pick = rnd.random()
        if company_pick < 0.7:
            # A few big companies, many small ones.
            row.company = (
                rnd.randrange(1, 21) if rnd.random() < 0.1 else rnd.randrange(1, n_companies + 1)
            )
            row.email = email_for(first, last, data.companies[row.company - 1][2])
        elif company_pick < 0.95:
            row.email = email_for(f"{first[0]}{rnd.randrange(1000)}", last, rnd.choice(FREEMAIL))
        if rnd.random() < 0.6:
            row.phone = new_phone()
        row.postcode = rnd.choice(postcodes)
        if rnd.random() < 0.5:
            row.street = f"{rnd.choice(STREETS)}{rnd.choice(STREET_KINDS)} {rnd.randrange(1, 200)}"
        row.city = f"Stadt {row.postcode[:2]}"
        return row

    n_planted = n * 4 // 100
    n_decoys = n * 2 // 100
    n_base = n - n_planted - n_decoys
    for pk in range(1, n_base + 1):
        data.rows.append(base_row(pk))

    kinds = ("typo", "swapped", "initial", "phone", "gmail", "address", "email_name", "name_only")
    taken: set[int] = set()

    def fresh_original() -> Row:
        """Each original gets one planted duplicate or one decoy, never two."""
        while True:
            row = data.rows[rnd.randrange(n_base)]
            if row.id not in taken:
                taken.add(row.id)
                return row

    pk = n_base
    for i in range(n_planted):
        kind = kinds[i % len(kinds)]
        orig = fresh_original()
        pk += 1
        dup = Row(id=pk, first=orig.first, last=orig.last, postcode=orig.postcode)
        dup.city = orig.city
        if kind == "typo":
            if orig.company is None:
                orig.company = rnd.randrange(1, n_companies + 1)
            dup.first, dup.company = _typo(rnd, orig.first), orig.company
            dup.postcode = rnd.choice(postcodes)
        elif kind == "swapped":
            dup.first, dup.last = orig.last, orig.first
        elif kind == "initial":
            if orig.company is None:
                orig.company = rnd.randrange(1, n_companies + 1)
            dup.first, dup.company = orig.first[0] + ".", orig.company
            dup.postcode = ""
        elif kind == "phone":
            if not orig.phone:
                orig.phone = new_phone()
            dup.phone, dup.postcode = orig.phone, rnd.choice(postcodes)
            dup.first = orig.first.upper() if rnd.random() < 0.5 else _typo(rnd, orig.first)
        elif kind == "gmail":
            local = f"{orig.first}.{orig.last}{orig.id}".lower()
            orig_email = f"{local}@gmail.com"
            if orig_email not in used_emails:
                used_emails.discard(orig.email)
                orig.email = orig_email
                used_emails.add(orig_email)
            dup.email = local.replace(".", "") + "+news@gmail.com"
            used_emails.add(dup.email)
            dup.postcode = rnd.choice(postcodes)
        elif kind == "address":
            if not orig.street:
                orig.street = f"{rnd.choice(STREETS)}straße {rnd.randrange(1, 200)}"
            dup.street = orig.street.replace("straße", "str.")
            dup.last = _typo(rnd, orig.last)
        elif kind == "email_name":
            # A distinctive email name (name plus digits) at work and at a free-mail provider.
            orig.company = orig.company or rnd.randrange(1, n_companies + 1)
            used_emails.discard(orig.email)
            suffix = str(rnd.randrange(50, 100))
            orig.email = email_for(
                orig.first, orig.last + suffix, data.companies[orig.company - 1][2]
            )
            first, last = orig.email.split("@")[0].split(".", 1)
            dup.email = email_for(first, last, rnd.choice(FREEMAIL))
            dup.postcode = rnd.choice(postcodes)
        elif kind == "name_only":
            # The same name, a work and a private address, nothing else shared: as far as
            # the data goes this is a namesake, so the scan is not expected to find it.
            dup.email = email_for(orig.first, orig.last, rnd.choice(FREEMAIL))
            dup.postcode = rnd.choice(postcodes)
        data.rows.append(dup)
        data.planted[(orig.id, dup.id)] = kind

    decoy_kinds = ("namesake", "family", "colleague")
    for i in range(n_decoys):
        kind = decoy_kinds[i % len(decoy_kinds)]
        orig = fresh_original()
        pk += 1
        other = base_row(pk)
        if kind == "namesake":
            other.first, other.last = orig.first, orig.last
            other.company = rnd.randrange(1, n_companies + 1)
            if other.company == orig.company:
                other.company = None
            other.postcode = rnd.choice(postcodes)
        elif kind == "family":
            if not orig.phone:
                orig.phone = new_phone()
            other.last, other.phone = orig.last, orig.phone
            other.street, other.postcode = orig.street, orig.postcode
            while other.first[0] == orig.first[0]:
                other.first = rnd.choice(FIRST_NAMES)
        elif kind == "colleague":
            if orig.company is None:
                orig.company = rnd.randrange(1, n_companies + 1)
            other.company, other.last = orig.company, orig.last
            while other.first[0] == orig.first[0]:
                other.first = rnd.choice(FIRST_NAMES)
        data.rows.append(other)
        data.decoys[(orig.id, other.id)] = kind
    return data


def _setup(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    os.environ.setdefault("TANDEM_DEBUG", "true")
    os.environ["TANDEM_DUPLICATE_THRESHOLD_PERCENT"] = str(round(args.threshold * 100))
    if not os.environ.get("DATABASE_URL"):
        data_dir = Path(args.data_dir)
        if data_dir.exists():
            shutil.rmtree(data_dir)
        data_dir.mkdir(parents=True)
        os.environ["TANDEM_DATA_DIR"] = str(data_dir)
    import django

    django.setup()


def _load(data: Dataset, reset: bool) -> float:
    from django.core.management import call_command
    from django.db import connection, transaction

    from tandem.dedup.models import DuplicateCandidate, Merge
    from tandem.people.models import Company, Person, PersonEmail, PersonPhone

    call_command("migrate", verbosity=0)
    if Person.objects.exists():
        if not reset:
            sys.exit("This database already holds people; use a fresh one or pass --reset.")
        for model in (DuplicateCandidate, Merge, PersonEmail, PersonPhone, Person, Company):
            model.objects.all().delete()
    started = time.perf_counter()
    with transaction.atomic():
        Company.objects.bulk_create(
            [
                Company(id=c, name=name, name_key=name.lower(), domain=d)
                for c, name, d in data.companies
            ],
            batch_size=5000,
        )
        Person.objects.bulk_create(
            [
                Person(
                    id=r.id,
                    first_name=r.first,
                    last_name=r.last,
                    first_name_key=r.first.lower(),
                    last_name_key=r.last.lower(),
                    email=r.email.lower(),
                    phone=r.phone,
                    company_id=r.company,
                    postcode=r.postcode,
                    street=r.street,
                    city=r.city,
                    country=r.country,
                )
                for r in data.rows
            ],
            batch_size=5000,
        )
        PersonEmail.objects.bulk_create(
            [
                PersonEmail(
                    person_id=r.id, email=r.email, email_normalized=r.email.lower(), is_primary=True
                )
                for r in data.rows
                if r.email
            ],
            batch_size=5000,
        )
        PersonPhone.objects.bulk_create(
            [
                PersonPhone(person_id=r.id, number=r.phone, original=r.phone, is_primary=True)
                for r in data.rows
                if r.phone
            ],
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Company, Person]):
            cursor.execute(sql)
    return time.perf_counter() - started


def no_style():
    from django.core.management.color import no_style as _no_style

    return _no_style()


def _scan() -> tuple[float, str]:
    tandem = Path(sys.executable).with_name("tandem")
    command = [str(tandem)] if tandem.exists() else [sys.executable, "-m", "tandem"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "duplicates", "scan"], capture_output=True, text=True, env=os.environ.copy()
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"scan failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=0.85)
    parser.add_argument(
        "--data-dir", default=str(Path(tempfile.gettempdir()) / "tandem-bench-dedup")
    )
    parser.add_argument("--reset", action="store_true", help="Empty DATABASE_URL's people first.")
    args = parser.parse_args()
    _setup(args)

    from rich.console import Console
    from rich.table import Table

    console = Console()
    started = time.perf_counter()
    data = generate(args.people, args.seed)
    console.print(
        f"generated {len(data.rows):,} people, {len(data.planted):,} planted duplicate pairs, "
        f"{len(data.decoys):,} decoy pairs in {time.perf_counter() - started:.1f} s"
    )
    console.print(f"loaded in {_load(data, args.reset):.1f} s")

    seconds, output = _scan()
    console.print(output.rstrip())
    again_seconds, again_output = _scan()

    from tandem.dedup.services import candidates_at_threshold

    found = {(a, b): s for a, b, s in candidates_at_threshold(args.threshold)}
    planted = {(min(p), max(p)): kind for p, kind in data.planted.items()}
    decoys = {(min(p), max(p)): kind for p, kind in data.decoys.items()}
    hits = [p for p in planted if p in found]
    false_pairs = [p for p in found if p not in planted]
    decoys_found = [p for p in decoys if p in found]

    table = Table(
        title=f"duplicates scan, {len(data.rows):,} people ({(os.environ.get('DATABASE_URL') and 'PostgreSQL') or 'SQLite'})"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("scan wall time (tandem duplicates scan)", f"{seconds:.1f} s")
    table.add_row("second scan (idempotent)", f"{again_seconds:.1f} s")
    table.add_row("pairs found at threshold", f"{len(found):,}")
    table.add_row(
        "planted pairs found (recall)",
        f"{len(hits):,} / {len(planted):,} = {len(hits) / max(1, len(planted)):.1%}",
    )
    findable = [p for p, k in planted.items() if k != "name_only"]
    findable_hits = [p for p in findable if p in found]
    table.add_row(
        "  recall without name_only",
        f"{len(findable_hits):,} / {len(findable):,} = {len(findable_hits) / max(1, len(findable)):.1%}",
    )
    namesakes = [
        p
        for p in false_pairs
        if (data.rows[p[0] - 1].first, data.rows[p[0] - 1].last)
        == (data.rows[p[1] - 1].first, data.rows[p[1] - 1].last)
    ]
    table.add_row(
        "false pairs (precision)",
        f"{len(false_pairs):,} false, precision {len(hits) / max(1, len(found)):.1%}",
    )
    table.add_row(
        "  of which identical full names sharing a company, postcode or phone",
        f"{len(namesakes):,}",
    )
    table.add_row("decoy pairs matched (should be 0)", f"{len(decoys_found):,} / {len(decoys):,}")
    for kind in sorted(set(planted.values())):
        of_kind = [p for p, k in planted.items() if k == kind]
        got = sum(1 for p in of_kind if p in found)
        table.add_row(f"  recall: {kind}", f"{got} / {len(of_kind)}")
    console.print(table)
    console.print("second scan:\n" + again_output.rstrip())
    if false_pairs:
        from tandem.dedup.models import DuplicateCandidate

        console.print("some false pairs:")
        for a, b in [p for p in false_pairs if p not in namesakes][:8]:
            row = DuplicateCandidate.objects.get(person_a_id=a, person_b_id=b)
            ra, rb = data.rows[a - 1], data.rows[b - 1]
            console.print(
                f"  {ra.first} {ra.last} ~ {rb.first} {rb.last}: {row.score} {row.reasons}"
            )


if __name__ == "__main__":
    main()
