"""How two person records are compared: keys for blocking, and a score with its reasons.

Pure functions over plain values (no queries), so the whole-database scan, the
capture and import hooks and the tests all score a pair the same way.

Rules this module carries:
- A name alone never makes a candidate: many people share a name. A similar
  name counts only together with the same company or email name (the part
  before the @), or with an address that the name-and-address score
  (dedup/linkage.py, ADR 0006) finds alike enough; the higher score wins.
- The same phone number with a similar (or missing) name is strong evidence;
  with a clearly different name it is a shared line (a switchboard, a family)
  and stays below the threshold.
- The same mailbox (``jane.doe+news@gmail.com`` and ``janedoe@gmail.com``) is
  the same human.
- Blocking: a pair is compared only if the two records share a blocking key
  (phone; company + phonetic name code; postcode + phonetic name code; street
  address; mailbox; email name; house number in its postcode or town; a name's code with the other's initial in its town or street). An
  oversized block is compared as a sorted neighbourhood (each record with its
  next few by name), never all pairs.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from tandem.dedup import linkage

# Blocks larger than this are compared as a sorted neighbourhood of WINDOW records.
MAX_BLOCK = 60
WINDOW = 12

# A similar name needs at least this similarity before context can lift it.
NAME_FLOOR = 0.8
# What each kind of shared context adds to the name similarity (capped in total).
CONTEXT_BONUS = {
    "same street address": 0.10,
    "same company": 0.08,
    "same email name": 0.08,
    "same postcode": 0.06,
}
MAX_CONTEXT_BONUS = 0.12

# Email names that say nothing about the human behind them.
GENERIC_LOCAL_PARTS = frozenset(
    {
        "admin",
        "office",
        "info",
        "contact",
        "hello",
        "mail",
        "email",
        "sales",
        "support",
        "team",
        "marketing",
        "kontakt",
        "service",
        "billing",
        "accounts",
        "hr",
        "jobs",
        "noreply",
        "no-reply",
        "webmaster",
        "enquiries",
        "inquiries",
        "post",
        "test",
    }
)
_GMAIL = {"gmail.com", "googlemail.com"}
_STREET_WORDS = {
    "street": "st",
    "str": "st",
    "strasse": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "lane": "ln",
    "drive": "dr",
    "place": "pl",
    "platz": "pl",
    "square": "sq",
    "weg": "wg",
    "court": "ct",
    "crescent": "cres",
    "terrace": "ter",
    "highway": "hwy",
    "parkway": "pkwy",
    "circle": "cir",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


# --- normal forms -------------------------------------------------------------------


@lru_cache(maxsize=65536)
def fold(value: str) -> str:
    """Lower-case ASCII-ish letters and digits, single spaces: 'Müller-Lüdenscheidt' → 'muller ludenscheidt'.

    Cached: names, cities and streets repeat a lot across a database.
    """
    if not value:
        return ""
    if value.isascii():
        return _NON_ALNUM.sub(" ", value.lower()).strip()
    text = unicodedata.normalize("NFKD", value.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", text).strip()


_SOUNDEX = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}


@lru_cache(maxsize=65536)
def soundex(token: str) -> str:
    """A short phonetic code (classic Soundex) so 'Schmidt' and 'Shmidt' share a block."""
    token = "".join(ch for ch in token if "a" <= ch <= "z")
    if not token:
        return ""
    out = [token[0]]
    last = _SOUNDEX.get(token[0], "")
    for ch in token[1:]:
        code = _SOUNDEX.get(ch, "")
        if code and code != last:
            out.append(code)
            if len(out) == 4:
                break
        if ch not in "hw":
            last = code
    return "".join(out).ljust(4, "0")


@lru_cache(maxsize=65536)
def postcode_key(value: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", (value or "").upper())


@lru_cache(maxsize=65536)
def street_key(value: str) -> str:
    """'12 Main Street.' and '12 main st' compare equal; 'Hauptstraße 5' and 'Hauptstr. 5' too."""
    words = []
    for word in fold(value).split():
        if word.endswith("strasse") and len(word) > 7:
            word = word[:-7] + "st"
        elif word.endswith("str") and len(word) > 3:
            word = word[:-3] + "st"
        words.append(_STREET_WORDS.get(word, word))
    return " ".join(words)


def mailbox(email: str) -> str:
    """The mailbox an address delivers to: without +tags, and without dots at Gmail."""
    local, _, domain = (email or "").strip().lower().rpartition("@")
    if not local or not domain:
        return ""
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else ""


def email_name(email: str, name_tokens: Iterable[str] = ()) -> str:
    """The part before the @ when it says something of its own ('kitty.b', 'jdoe1987'), else ''.

    Generic ones (info@, sales@) and ones made only of the person's name or
    initials ('jane.doe', 'jdoe') are left out: namesakes at two companies
    share those without being one human.
    """
    local = (email or "").strip().lower().rpartition("@")[0].split("+", 1)[0]
    local = local.replace("_", ".").replace("-", ".")
    if len(local.replace(".", "")) < 4 or local in GENERIC_LOCAL_PARTS:
        return ""
    rest = _NON_ALNUM.sub("", local) if local.isascii() else fold(local).replace(" ", "")
    for token in sorted(name_tokens, key=len, reverse=True):
        rest = rest.replace(token, "", 1)
    return local if len(rest) >= 2 else ""


# --- records --------------------------------------------------------------------------

_NONE: frozenset[str] = frozenset()


class Record:
    """What matching needs of one person, already in normal form.

    A plain slotted class built positionally: the scan builds one per person.
    """

    __slots__ = (
        "city",
        "codes",
        "company_id",
        "country",
        "email_names",
        "first",
        "id",
        "last",
        "mailboxes",
        "phones",
        "postcode",
        "street",
    )

    def __init__(
        self,
        id: int,
        first: str,
        last: str,
        company_id: int | None,
        postcode: str,
        country: str,
        street: str,
        city: str,
    ) -> None:
        self.id = id
        self.first = first
        self.last = last
        self.company_id = company_id
        self.postcode = postcode
        self.country = country
        self.street = street
        self.city = city
        # A code in both parts repeats; blocks drop repeated ids.
        self.codes = _part_codes(first) + _part_codes(last)
        self.phones: frozenset[str] = _NONE
        self.mailboxes: frozenset[str] = _NONE
        self.email_names: frozenset[str] = _NONE

    @classmethod
    def from_values(
        cls,
        id: int,
        first_name: str,
        last_name: str,
        company_id: int | None,
        postcode: str,
        country: str,
        street: str,
        city: str,
    ) -> Record:
        """From the raw column values of a person (the scan's hot path)."""
        return cls(
            id,
            fold(first_name),
            fold(last_name),
            company_id,
            postcode_key(postcode) if postcode else "",
            country.upper() if country else "",
            street_key(street) if street else "",
            fold(city) if city else "",
        )

    @classmethod
    def build(
        cls,
        *,
        id: int,
        first_name: str = "",
        last_name: str = "",
        company_id: int | None = None,
        postcode: str = "",
        country: str = "",
        street: str = "",
        city: str = "",
        phones: Iterable[str] = (),
        emails: Iterable[str] = (),
    ) -> Record:
        record = cls.from_values(
            id, first_name, last_name, company_id, postcode, country, street, city
        )
        for phone in phones:
            record.add_phone(phone)
        for email in emails:
            record.add_email(email)
        return record

    def add_phone(self, number: str) -> None:
        if number:
            self.phones = self.phones | {number}

    def add_email(self, email: str) -> None:
        box = mailbox(email)
        if box:
            self.mailboxes = self.mailboxes | {box}
        name = email_name(email, (*self.first.split(), *self.last.split()))
        if name:
            self.email_names = self.email_names | {name}

    @property
    def has_name(self) -> bool:
        return bool(self.first or self.last)

    @property
    def sort_name(self) -> str:
        return f"{self.last} {self.first}"

    def block_keys(self) -> list[Any]:
        """The blocks this record falls in. Kinds never collide: a phone starts with +,
        a mailbox holds an @ inside, an email name starts with @; company blocks are
        (int, code), postcode blocks (str, code), street blocks 3-tuples ending in
        None, name-and-address blocks 3-tuples starting with "h", "c" or "r"."""
        keys: list[Any] = [*self.phones, *self.mailboxes]
        for name in self.email_names:
            keys.append("@" + name)
        if self.company_id is not None:
            company = self.company_id
            for code in self.codes:
                keys.append((company, code))
        if self.postcode:
            postcode = self.postcode
            for code in self.codes:
                keys.append((postcode, code))
        # The house number in its postcode or town (ADR 0006), so a misspelt name still
        # meets; a street without a number is a block of its own.
        house, road = _house_and_road(self.street)
        if self.street and not house:
            if self.postcode:
                keys.append((self.street, self.postcode, None))
            if self.city:
                keys.append((self.street, self.city, None))
        if house:
            if self.postcode:
                keys.append(("h", self.postcode, house))
            if self.city:
                keys.append(("h", self.city, house + road[:1]))
        if self.city or road:
            # A name in its town or street, so a mistyped postcode, number or street still
            # meets: one name's sound with the other's initial, both ways round, so
            # swapped names meet too ('Thompson M' is the key of both Margaret Thompson
            # and Thompson Margaret).
            for sound in _sound_and_initial(self.first, self.last):
                if self.city:
                    keys.append(("c", self.city, sound))
                if road:
                    keys.append(("r", road, sound))
        return keys


@lru_cache(maxsize=65536)
def _sound_and_initial(first: str, last: str) -> tuple[str, ...]:
    """Last name's code with the first initial, and first name's code with the last
    initial ('S530j' for John Smith and for Smith John)."""
    out = []
    if first and last:
        for code in _part_codes(last):
            out.append(code + first[0])
        for code in _part_codes(first):
            out.append(code + last[0])
    return tuple(out)


@lru_cache(maxsize=65536)
def _house_and_road(street: str) -> tuple[str, str]:
    """The first word starting with a digit, and the words that do not ('12 main st')."""
    house, road = "", []
    for word in street.split():
        if word[0].isdigit():
            house = house or word
        else:
            road.append(word)
    return house, " ".join(road)


@lru_cache(maxsize=65536)
def _part_codes(part: str) -> tuple[str, ...]:
    """Phonetic codes of one name part's tokens; first and last both give codes, so
    swapped names share a block."""
    return tuple(dict.fromkeys(soundex(t) for t in part.split() if len(t) > 1 and soundex(t)))


# --- names ------------------------------------------------------------------------------

# A name part less alike than this is a different name ('Fiona'/'Simon'): the whole name
# is then capped below NAME_FLOOR, however alike the other part is.
_PART_FLOOR = 0.8
_DIFFERENT_NAME_CAP = 0.7


@lru_cache(maxsize=262144)
def part_similarity(a: str, b: str) -> float:
    """0..1 for two name parts: Jaro-Winkler (kind to typos and shared starts) averaged with
    the Indel ratio (strict on short different names: 'Lena'/'Anna', 'Fiona'/'Simon'),
    and at least 0.84 when both are close and sound alike (Soundex)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    score = (JaroWinkler.normalized_similarity(a, b) + fuzz.ratio(a, b) / 100) / 2
    if score >= 0.75 and soundex(a) == soundex(b):
        # Spelled apart, said alike: 'Sofia'/'Sophia', 'Stefan'/'Stephan'.
        score = max(score, 0.84)
    return score


def _is_initial_of(short: str, full: str) -> bool:
    return len(short) == 1 and bool(full) and full[0] == short


def _both_parts(f1: str, l1: str, f2: str, l2: str) -> float:
    first, last = part_similarity(f1, f2), part_similarity(l1, l2)
    score = (first + last) / 2
    return min(score, _DIFFERENT_NAME_CAP) if min(first, last) < _PART_FLOOR else score


def name_similarity(a: Record, b: Record) -> float:
    """0..1: how alike two names are, allowing swapped first/last names and initials.

    0 when either name is missing: an unknown name is no evidence either way.
    """
    if not (a.has_name and b.has_name):
        return 0.0
    scores = [0.0]
    if a.first and a.last and b.first and b.last:
        if _is_initial_of(a.first, b.first) or _is_initial_of(b.first, a.first):
            scores.append(0.9 * part_similarity(a.last, b.last))
        else:
            scores.append(_both_parts(a.first, a.last, b.first, b.last))
        scores.append(_both_parts(a.first, a.last, b.last, b.first))
    elif a.last and b.last and (not a.first or not b.first):
        # Only a last name on one side: a match is weak evidence.
        scores.append(0.85 * part_similarity(a.last, b.last))
    full_a, full_b = f"{a.first} {a.last}".strip(), f"{b.first} {b.last}".strip()
    if len(full_a.split()) > 2 or len(full_b.split()) > 2 or not (a.first and a.last):
        # Names with several parts, or typed all in one field.
        scores.append(fuzz.token_sort_ratio(full_a, full_b) / 100)
    return max(scores)


# --- scoring ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    score: float
    reasons: list[str]


def _same_region(a: Record, b: Record) -> bool:
    return not a.country or not b.country or a.country == b.country


def score_pair(a: Record, b: Record, model: linkage.Model | None = None) -> Match:
    """How likely two records are one human, 0..1, with the evidence in words: the
    stronger of the rules (shared phone, mailbox, company...) and the name-and-address
    score (dedup/linkage.py, with `model`'s weights or the defaults)."""
    rules = rule_score(a, b)
    scored = linkage.score(
        model or linkage.DEFAULT_MODEL, linkage.features_of(a), linkage.features_of(b)
    )
    return combine(rules, scored)


def combine(rules: Match, scored: linkage.Scored) -> Match:
    """The higher of the two scores; the name-and-address evidence is named when it counts."""
    probability = round(min(scored.probability, 0.99), 3)
    if probability <= rules.score:
        return rules
    reasons = [r for r in rules.reasons if not r.startswith("name ")]
    reasons += [r for r in linkage.reasons_for(scored) if r not in reasons]
    return Match(probability, reasons)


def has_rule_evidence(a: Record, b: Record) -> bool:
    """Whether a rule can score this pair at all (else only the name-and-address score)."""
    return bool(
        (a.company_id is not None and a.company_id == b.company_id)
        or (a.phones and a.phones & b.phones)
        or (a.mailboxes and a.mailboxes & b.mailboxes)
        or (a.email_names and a.email_names & b.email_names)
    )


def rule_score(a: Record, b: Record) -> Match:
    """The rules' score alone: strong shared identifiers, or a similar name with context."""
    name = name_similarity(a, b)
    reasons: list[str] = []
    rules: list[float] = []

    if a.mailboxes & b.mailboxes:
        reasons.append("same mailbox")
        rules.append(0.97)

    if a.phones & b.phones:
        reasons.append("same phone")
        if not (a.has_name and b.has_name):
            rules.append(0.9)
        elif name >= NAME_FLOOR:
            rules.append(0.9 + 0.08 * name)
        else:  # a shared line: a switchboard or a household
            rules.append(0.5 + 0.3 * name)

    context = []
    if a.company_id is not None and a.company_id == b.company_id:
        context.append("same company")
    if (
        a.street
        and a.street == b.street
        and ((a.postcode and a.postcode == b.postcode) or (a.city and a.city == b.city))
    ):
        context.append("same street address")
    elif a.postcode and a.postcode == b.postcode and _same_region(a, b):
        context.append("same postcode")
    if a.email_names & b.email_names:
        context.append("same email name")
    # A shared company or email name lifts a similar name here; a shared address or
    # postcode is weighed with the rest of the address by the name-and-address score
    # (dedup/linkage.py), which also counts a different house or street against it.
    lifting = [c for c in context if c in ("same company", "same email name")]
    if lifting and name >= NAME_FLOOR:
        bonus = min(MAX_CONTEXT_BONUS, sum(CONTEXT_BONUS[c] for c in context))
        rules.append(0.9 * name + bonus)
    reasons.extend(context)

    if name:
        reasons.append(f"name {name:.2f}")
    if not rules:
        return Match(0.0, reasons)
    strong = sorted(rules, reverse=True)
    # A second independent rule that also holds adds a little certainty.
    score = strong[0] + (0.02 if len(strong) > 1 and strong[1] >= 0.85 else 0.0)
    return Match(round(min(score, 0.99), 3), reasons)


# --- blocking ------------------------------------------------------------------------------


def candidate_pairs(
    records: Iterable[Record], only_ids: set[int] | None = None
) -> set[tuple[int, int]]:
    """Pairs of ids (lower first) that share a blocking key; each pair once.

    With `only_ids`, only pairs with at least one of those ids (a capture's check).
    """
    blocks: defaultdict[Any, list[int]] = defaultdict(list)
    by_id: dict[int, Record] = {}
    for record in records:
        rid = record.id
        by_id[rid] = record
        for key in record.block_keys():
            blocks[key].append(rid)
    pairs: set[tuple[int, int]] = set()
    for ids in blocks.values():
        if len(ids) < 2:
            continue
        if only_ids is not None and only_ids.isdisjoint(ids):
            continue
        unique = sorted(set(ids))
        if len(unique) <= MAX_BLOCK:
            if only_ids is None:
                pairs.update(combinations(unique, 2))
            else:
                for left, right in combinations(unique, 2):
                    if left in only_ids or right in only_ids:
                        pairs.add((left, right))
            continue
        ordered = sorted(unique, key=lambda i: (by_id[i].sort_name, i))
        for n, left in enumerate(ordered):
            for right in ordered[n + 1 : n + 1 + WINDOW]:
                if only_ids is None or left in only_ids or right in only_ids:
                    pairs.add((left, right) if left < right else (right, left))
    return pairs


def find_matches(
    records: dict[int, Record],
    *,
    threshold: float,
    only_ids: set[int] | None = None,
    model: linkage.Model | None = None,
) -> dict[tuple[int, int], Match]:
    """Pairs scoring at or above `threshold`; with `only_ids`, only pairs touching those ids."""
    found: dict[tuple[int, int], Match] = {}
    model = model or linkage.DEFAULT_MODEL
    weights = model.weights()  # once, not per pair (its logs were most of a capture check)
    features: dict[int, linkage.Features] = {}
    for a, b in candidate_pairs(records.values(), only_ids):
        left, right = records[a], records[b]
        if a not in features:
            features[a] = linkage.features_of(left)
        if b not in features:
            features[b] = linkage.features_of(right)
        scored = linkage.score(model, features[a], features[b], weights)
        match = combine(rule_score(left, right), scored)
        if match.score >= threshold:
            found[a, b] = match
    return found
