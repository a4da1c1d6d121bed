"""Deterministic bench data: companies.csv and people.csv.

    python -m bench.generate --people 1000000 --companies 200000 --out DIR [--seed 1] [--messy]

The same seed and sizes give byte-identical files. Names follow a skewed
distribution (a few very common surnames, a long tail), so prefix searches
hit realistic numbers of rows; every email is unique; phones are E.164.
Rows are drawn in fixed-size chunks and streamed to disk.

`--messy` also writes people-messy.csv: the same people as a real export
often has them (issue 17's example). About 3% of the rows repeat an earlier
row's email, most phones are written in national format and 70% of the rows
leave the country empty, so some 43% of the phones cannot be read as numbers
of the import's region; a few titles are too long, countries unknown, stages
not ours. Every row still has a name and a valid or repeated email: an
import that keeps every person creates one per distinct email.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import random
import sys
import time
from pathlib import Path

CHUNK = 50_000
COMPANY_FIELDS = ["name", "domain", "industry", "size", "country"]
PEOPLE_FIELDS = [
    "first_name", "last_name", "email", "phone", "title", "company", "city", "postcode",
    "country", "stage", "owner",
]  # fmt: skip

# fmt: off
FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
    "Sandra", "Mark", "Margaret", "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily",
    "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda", "Brian",
    "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Laura",
    "Edward", "Helen", "Jeffrey", "Sharon", "Ryan", "Cynthia", "Jacob", "Kathleen", "Gary", "Amy",
    "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Anna", "Stephen", "Brenda", "Larry",
    "Pamela", "Justin", "Emma", "Scott", "Nicole", "Brandon", "Samantha", "Benjamin", "Katherine",
    "Samuel", "Christine", "Gregory", "Debra", "Alexander", "Rachel", "Frank", "Carolyn",
    "Patrick", "Janet", "Raymond", "Maria", "Jack", "Olivia", "Dennis", "Heather", "Jerry",
    "Diane", "Tyler", "Julie", "Aaron", "Joyce", "Jose", "Victoria", "Adam", "Kelly", "Lukas",
    "Léa", "Jörg", "Zoë", "Sofía", "Björn", "Chloé", "Jürgen", "Inès", "Åsa", "Joost", "Joana",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner",
    "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales",
    "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey",
    "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks",
    "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
    "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell",
    "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander",
    "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes",
    "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray",
    "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald", "Woods",
    "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker",
    "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez",
    "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Muñoz", "Hunt", "Hicks", "Holmes", "Palmer",
    "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills",
    "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto",
    "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins",
    "Arnold", "Pierce", "Vazquez", "Hansen", "Peters", "Santos", "Hart", "Bradley", "Knight",
    "Elliott", "Cunningham", "Duncan", "Armstrong", "Hudson", "Carroll", "Lane", "Riley",
    "Andrews", "Alvarado", "Ray", "Delgado", "Berry", "Perkins", "Hoffman", "Johnston",
    "Matthews", "Peña", "Richards", "Contreras", "Willis", "Carpenter", "Lawrence", "Sandoval",
    "Müller", "Schneider", "Fischer", "Weber", "Becker", "Schäfer", "Dubois", "Lefèvre",
    "Jansen", "de Vries", "van Dijk", "Johansson", "Lindström", "Smithson", "Smyth", "O'Brien",
)
COMPANY_HEADS = (
    "North", "Blue", "Silver", "Bright", "Iron", "Green", "Red", "Stone", "Oak", "Cedar", "Harbor",
    "Summit", "River", "Swift", "Clear", "True", "Bold", "Prime", "Nova", "Polar", "Sun", "Alder",
    "Lumen", "Vector", "Orbit", "Delta", "Apex", "Crest", "Meadow", "Falcon", "Copper", "Granite",
    "Maple", "Pine", "Willow", "Aspen", "Birch", "Coral", "Amber", "Jade", "Onyx", "Ruby", "Cobalt",
    "Indigo", "Violet", "Scarlet", "Golden", "Arctic", "Desert", "Ocean", "Valley", "Canyon",
    "Prairie", "Tundra", "Lake", "Bay", "Cape", "Ridge", "Mesa", "Glen",
)
COMPANY_TAILS = (
    "wind", "peak", "field", "bridge", "gate", "works", "line", "stone", "point", "wave", "path",
    "forge", "leaf", "light", "mark", "ridge", "brook", "core", "span", "shore", "crest", "view",
    "way", "port", "haven", "mill", "land", "star", "side", "wood", "ford", "well", "dale",
    "moor", "hill", "vale", "spring", "stream", "tide", "fall",
)
INDUSTRIES = (
    ("Software", "Software"), ("Manufacturing", "Manufacturing"), ("Logistics", "Logistics"),
    ("Health", "Healthcare"), ("Retail", "Retail"), ("Capital", "Financial services"),
    ("Construction", "Construction"), ("Learning", "Education"), ("Energy", "Energy"),
    ("Hotels", "Hospitality"), ("Farms", "Agriculture"), ("Media", "Media"),
    ("Consulting", "Professional services"), ("Labs", "Biotech"), ("Foods", "Food and beverage"),
    ("Motors", "Automotive"), ("Telecom", "Telecommunications"), ("Realty", "Real estate"),
)
SIZES = (("1-10", 30), ("11-50", 35), ("51-200", 20), ("201-1000", 10), ("1001+", 5))
TITLES = (
    "CEO", "Managing Director", "CFO", "COO", "CTO", "VP Sales", "VP Marketing",
    "Head of Operations", "Head of IT", "IT Manager", "Operations Manager", "Purchasing Manager",
    "Marketing Manager", "Office Manager", "Project Manager", "Sales Manager", "Finance Manager",
    "HR Manager", "Engineer", "Analyst", "Consultant", "Team Lead", "Procurement Specialist",
    "Founder", "Account Manager", "Software Developer", "Designer", "Accountant", "",
)
STAGES = (
    ("subscriber", 24), ("lead", 27), ("mql", 10), ("sal", 5), ("opportunity", 5),
    ("customer", 8), ("advocate", 3), ("disqualified", 11), ("recycled", 7),
)
# country: weight, legal forms, cities (name, postcode pattern: # = digit), phone (prefixes, digits after)
COUNTRIES = {
    "US": (34, ("Inc.", "LLC", "Corp."),
           (("New York", "100##"), ("Austin", "787##"), ("Chicago", "606##"), ("Denver", "802##"),
            ("Seattle", "981##"), ("Boston", "021##"), ("Atlanta", "303##"), ("Portland", "972##")),
           (("+1212", "+1415", "+1312", "+1512", "+1206", "+1617", "+1404", "+1303"), 7)),
    "GB": (15, ("Ltd", "plc"),
           (("London", "EC2A #AA"), ("Manchester", "M1 #AA"), ("Leeds", "LS1 #AA"),
            ("Bristol", "BS1 #AA"), ("Glasgow", "G1 #AA"), ("Birmingham", "B1 #AA")),
           (("+4420", "+44161", "+44113", "+44117", "+44141", "+44121"), 7)),
    "DE": (15, ("GmbH", "AG"),
           (("Berlin", "10###"), ("München", "80###"), ("Hamburg", "20###"), ("Köln", "50###"),
            ("Frankfurt am Main", "60###"), ("Stuttgart", "70###")),
           (("+4930", "+4989", "+4940", "+49221", "+4969", "+49711"), 7)),
    "FR": (10, ("SAS", "SA", "SARL"),
           (("Paris", "750##"), ("Lyon", "6900#"), ("Marseille", "130##"), ("Toulouse", "310##"),
            ("Nantes", "440##")),
           (("+331", "+334", "+335", "+336", "+337"), 8)),
    "NL": (8, ("B.V.", "N.V."),
           (("Amsterdam", "10## AA"), ("Rotterdam", "30## AA"), ("Utrecht", "35## AA"),
            ("Eindhoven", "56## AA")),
           (("+3120", "+3110", "+3130", "+3140"), 7)),
    "CA": (7, ("Inc.", "Ltd."),
           (("Toronto", "M5V #A#"), ("Vancouver", "V6B #A#"), ("Montréal", "H2Y #A#"),
            ("Calgary", "T2P #A#")),
           (("+1416", "+1604", "+1514", "+1403"), 7)),
    "ES": (6, ("S.L.", "S.A."),
           (("Madrid", "280##"), ("Barcelona", "080##"), ("Valencia", "460##"), ("Sevilla", "410##")),
           (("+3491", "+3493", "+3496", "+3495"), 7)),
    "SE": (5, ("AB",),
           (("Stockholm", "111 ##"), ("Göteborg", "411 ##"), ("Malmö", "211 ##")),
           (("+468", "+4631", "+4640"), 7)),
}
OWNED_STAGES = frozenset({"sal", "opportunity", "customer", "advocate"})
PERSONAL_DOMAINS = ("mail.example", "inbox.example", "post.example", "webmail.example")
OWNERS = tuple(f"sales{n:02d}" for n in range(1, 41))
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
# fmt: on

_ASCII = str.maketrans(
    {
        "ä": "a", "á": "a", "å": "a", "Å": "a", "é": "e", "è": "e", "ë": "e", "í": "i", "ï": "i",
        "ö": "o", "ó": "o", "ø": "o", "ü": "u", "ú": "u", "ñ": "n", "ß": "ss", "'": "", " ": "",
        "ç": "c", "É": "e",
    }
)  # fmt: skip


def ascii_lower(value: str) -> str:
    return value.lower().translate(_ASCII)


def zipf_weights(n: int, offset: int = 8) -> list[float]:
    """A few very common values, a long tail (surnames, first names)."""
    return [1 / (rank + offset) for rank in range(n)]


def fill(rng: random.Random, pattern: str) -> str:
    r = rng.random
    return "".join(
        "0123456789"[int(r() * 10)] if c == "#" else LETTERS[int(r() * 23)] if c == "A" else c
        for c in pattern
    )


def write_companies(rng: random.Random, count: int, path: Path) -> list[tuple[str, str, str]]:
    """companies.csv; returns (name, domain, country) per company for the people."""
    codes = list(COUNTRIES)
    weights = [COUNTRIES[c][0] for c in codes]
    names: set[str] = set()
    domains: set[str] = set()
    out: list[tuple[str, str, str]] = []
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COMPANY_FIELDS)
        while len(out) < count:
            country = rng.choices(codes, weights)[0]
            _, legal_forms, cities, _ = COUNTRIES[country]
            word, industry = rng.choice(INDUSTRIES)
            base = rng.choice(COMPANY_HEADS) + rng.choice(COMPANY_TAILS)
            name = f"{base} {word}"
            if name in names:
                name = f"{base} {word} {rng.choice(cities)[0]}"
            n = 2
            while name in names:
                name = f"{base} {word} {n}"
                n += 1
            names.add(name)
            domain = ascii_lower(name).replace(" ", "-")
            while domain + ".example" in domains:
                domain += str(rng.randrange(10))
            domain += ".example"
            domains.add(domain)
            size = rng.choices([s for s, _ in SIZES], [w for _, w in SIZES])[0]
            full_name = f"{name} {rng.choice(legal_forms)}"
            writer.writerow([full_name, domain, industry, size, country])
            out.append((full_name, domain, country))
    return out


def write_people(
    rng: random.Random, count: int, companies: list[tuple[str, str, str]], path: Path
) -> None:
    codes = list(COUNTRIES)
    country_weights = list(itertools.accumulate(COUNTRIES[c][0] for c in codes))
    first_cum = list(itertools.accumulate(zipf_weights(len(FIRST_NAMES), 10)))
    last_cum = list(itertools.accumulate(zipf_weights(len(LAST_NAMES), 6)))
    stage_cum = list(itertools.accumulate(w for _, w in STAGES))
    stages = [s for s, _ in STAGES]
    first_ascii = {n: ascii_lower(n) for n in FIRST_NAMES}
    last_ascii = {n: ascii_lower(n) for n in LAST_NAMES}
    ncompanies = len(companies)
    per_country = {
        code: (cities, prefixes, 2 * 10 ** (digits - 1), 8 * 10 ** (digits - 1))
        for code, (_, _, cities, (prefixes, digits)) in COUNTRIES.items()
    }
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(PEOPLE_FIELDS)
        for start in range(0, count, CHUNK):
            n = min(CHUNK, count - start)
            firsts = rng.choices(FIRST_NAMES, cum_weights=first_cum, k=n)
            lasts = rng.choices(LAST_NAMES, cum_weights=last_cum, k=n)
            chunk_stages = rng.choices(stages, cum_weights=stage_cum, k=n)
            rows = []
            r = rng.random  # indexing by r() is several times faster than choice()
            for i in range(n):
                number = start + i + 1
                first, last = firsts[i], lasts[i]
                if ncompanies and r() < 0.85:
                    company, domain, country = companies[int(r() * ncompanies)]
                else:
                    company, domain = "", PERSONAL_DOMAINS[int(r() * len(PERSONAL_DOMAINS))]
                    country = rng.choices(codes, cum_weights=country_weights)[0]
                # The row number keeps every address unique, whatever the names drawn.
                email = f"{first_ascii[first]}.{last_ascii[last]}{number}@{domain}"
                cities, prefixes, low, span = per_country[country]
                phone = ""
                if r() < 0.7:
                    phone = prefixes[int(r() * len(prefixes))] + str(low + int(r() * span))
                city, pattern = cities[int(r() * len(cities))]
                has_address = r() < 0.6
                stage = chunk_stages[i]
                owned = stage in OWNED_STAGES or r() < 0.3
                rows.append(
                    (
                        first,
                        last,
                        email,
                        phone,
                        TITLES[int(r() * len(TITLES))],
                        company,
                        city if has_address or r() < 0.5 else "",
                        fill(rng, pattern) if has_address else "",
                        country,
                        stage,
                        OWNERS[int(r() * len(OWNERS))] if owned else "",
                    )
                )
            writer.writerows(rows)


# National trunk prefix by country (none in the NANP or Spain).
_TRUNK = {"US": "", "CA": "", "ES": "", "GB": "0", "DE": "0", "FR": "0", "NL": "0", "SE": "0"}
_CALLING = {"US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33", "NL": "31", "ES": "34", "SE": "46"}  # fmt: skip
_JUNK_PHONES = ("n/a", "ask reception", "ext. 12", "tbd", "-", "0000")


def write_messy(source: Path, path: Path, seed: int = 1) -> dict[str, int]:
    """people-messy.csv from people.csv (see the module's docstring); returns its counts."""
    rng = random.Random(seed * 7919 + 17)
    r = rng.random
    emails: list[str] = []
    distinct = rows = 0
    with source.open(newline="", encoding="utf-8") as f, path.open("w", newline="", encoding="utf-8") as out:  # fmt: skip
        reader = csv.reader(f)
        writer = csv.writer(out)
        header = next(reader)
        writer.writerow(header)
        col = {name: i for i, name in enumerate(header)}
        for row in reader:
            if emails and r() < 0.03:
                earlier = emails[int(r() * len(emails))]
                row[col["email"]] = earlier.upper() if r() < 0.3 else earlier
            else:
                emails.append(row[col["email"]])
                distinct += 1
            country = row[col["country"]]
            phone = row[col["phone"]]
            if phone:
                if r() < 0.04:
                    phone = _JUNK_PHONES[int(r() * len(_JUNK_PHONES))]
                elif r() < 0.85:  # national format: +4930 1234567 → 030 1234567
                    national = phone[1 + len(_CALLING[country]) :]
                    phone = f"{_TRUNK[country]}{national[:3]} {national[3:]}"
                row[col["phone"]] = phone
            if r() < 0.70:
                row[col["country"]] = ""
            elif r() < 0.01:
                row[col["country"]] = "Atlantis"
            if r() < 0.005:
                row[col["title"]] = "Head of " + "very " * 40 + "important things"
            if r() < 0.005:
                row[col["stage"]] = "hot"
            writer.writerow(row)
            rows += 1
    return {"rows": rows, "distinct_emails": distinct}


def generate(*, people: int, companies: int, out: Path, seed: int = 1) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    started = time.perf_counter()
    company_rows = write_companies(rng, companies, out / "companies.csv")
    companies_done = time.perf_counter()
    write_people(rng, people, company_rows, out / "people.csv")
    done = time.perf_counter()
    return {"companies_s": companies_done - started, "people_s": done - companies_done}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description="Write deterministic bench CSV files."
    )
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=None, help="default: people / 5")
    parser.add_argument("--out", type=Path, required=True, help="a folder for the two CSV files")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--messy", action="store_true", help="also write people-messy.csv (see the docstring)"
    )
    args = parser.parse_args(argv)
    companies = args.companies if args.companies is not None else max(1, args.people // 5)
    if args.people < 0 or companies < 0:
        parser.error("--people and --companies must not be negative")
    cpu = time.process_time()
    times = generate(people=args.people, companies=companies, out=args.out, seed=args.seed)
    cpu = time.process_time() - cpu
    total = times["companies_s"] + times["people_s"]
    print(
        f"Wrote {companies:,} companies and {args.people:,} people to {args.out} "
        f"in {total:.1f} s ({args.people / max(times['people_s'], 1e-9):,.0f} people/s; "
        f"{cpu:.1f} s of CPU)."
    )
    if args.messy:
        messy = write_messy(args.out / "people.csv", args.out / "people-messy.csv", args.seed)
        print(
            f"Wrote {messy['rows']:,} messy people rows ({messy['distinct_emails']:,} distinct "
            f"emails) to {args.out / 'people-messy.csv'}."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
