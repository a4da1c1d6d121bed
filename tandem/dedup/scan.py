"""Finding duplicate candidates: for a handful of people just written, or the whole database.

Rules this module carries:
- Candidates are found three ways: on capture and on import for the people
  just written (`find_candidates_for`, cheap for a handful of ids), and by a
  scan of the whole database (`scan_all`, set-based). All three score pairs
  with dedup/matching.py, so they agree; the scan also learns the name and
  address weights from the database itself and keeps them for the other two
  (dedup/linkage.py, ADR 0006).
- A pair is stored once (person_a < person_b). A stored open pair gets the new
  score; a pair a reviewer resolved (merged, "not duplicates") is never reopened
  by a later scan.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from tandem.dedup import linkage
from tandem.dedup.matching import (
    Match,
    Record,
    candidate_pairs,
    combine,
    find_matches,
    has_rule_evidence,
    rule_score,
)
from tandem.dedup.models import CandidateStatus, DuplicateCandidate, MatchWeights
from tandem.people.models import Person, PersonEmail, PersonPhone
from tandem.people.normalize import name_key

_LOOKUP_LIMIT = 2000  # people fetched per query when checking a handful of ids
_PREFIXES_PER_QUERY = 200  # terms ORed in one query
_WRITE_BATCH = 1000
_KEEP_WEIGHTS = 5


def duplicate_threshold() -> float:
    return float(getattr(settings, "TANDEM_DUPLICATE_THRESHOLD", 0.85))


# --- finding candidates -----------------------------------------------------------------

_PERSON_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "company_id",
    "postcode",
    "country",
    "street",
    "city",
)


def _record(row: tuple) -> Record:
    return Record.from_values(*row)


def _add_contacts(records: dict[int, Record], ids: Iterable[int] | None = None) -> None:
    """Attach every phone and email to the loaded records (all of them, or of `ids`)."""
    if ids is None:
        phones: Iterable[tuple] = (
            PersonPhone.objects.order_by()
            .values_list("person_id", "number")
            .iterator(chunk_size=20000)
        )
        emails: Iterable[tuple] = (
            PersonEmail.objects.order_by()
            .values_list("person_id", "email_normalized")
            .iterator(chunk_size=20000)
        )
    else:
        id_list = list(ids)
        phones = _select_in(PersonPhone, ("person_id", "number"), "person_id", id_list)
        emails = _select_in(PersonEmail, ("person_id", "email_normalized"), "person_id", id_list)
    for person_id, number in phones:
        record = records.get(person_id)
        if record is not None:
            record.add_phone(number)
    for person_id, email in emails:
        record = records.get(person_id)
        if record is not None:
            record.add_email(email)


_IN_SLICE = 2000  # ids a statement (SQLite's limit on variables is far above)


def _select_in(
    model: Any, columns: tuple[str, ...], key: str, ids: list[int], *, live: bool = False
) -> list[tuple]:
    """The `columns` of `model`'s rows whose `key` is one of `ids` (with `live`, not
    deleted), unordered. Written as SQL: the ORM took longer to prepare an IN of the
    few hundred ids a capture check reads than the database took to answer it."""
    meta = model._meta
    q = connection.ops.quote_name
    selected = ", ".join(q(str(meta.get_field(c).column)) for c in columns)
    where = q(str(meta.get_field(key).column))
    alive = f" AND {q(str(meta.get_field('deleted_at').column))} IS NULL" if live else ""
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(ids), _IN_SLICE):
            chunk = ids[start : start + _IN_SLICE]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {selected} FROM {q(meta.db_table)} "  # noqa: S608
                f"WHERE {where} IN ({marks}){alive}",
                chunk,
            )
            rows += cursor.fetchall()
    return rows


def _prefix_range(column: str, prefix: str) -> Q:
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{column}__gte": prefix, f"{column}__lt": upper})


def _people_with_email_prefixes(prefixes: list[str]) -> list[int]:
    """Ids of people with an email starting with one of `prefixes` (at most
    _LOOKUP_LIMIT), each prefix a range on the email index. Written as SQL: the ORM
    took longer to build an OR of a few hundred ranges than the database to run it
    (a quarter of the worker's time under a burst of web-form captures).

    On PostgreSQL the ranges are a join with two arrays, each range an index scan.
    Why not the OR there too: PostgreSQL guesses how many rows a range holds from the
    table's statistics, and with none yet (a new database's first burst of captures,
    or autovacuum off) it read the whole table and tried every range on every row:
    52-64 ms a check of 100 new people among 7,300, most of the database's time under
    that burst. The join needs no guess (0.7 ms)."""
    prefixes = list(dict.fromkeys(prefixes))
    if not prefixes:
        return []
    meta = PersonEmail._meta
    q = connection.ops.quote_name
    column = q(str(meta.get_field("email_normalized").column))
    person = q(str(meta.get_field("person").column))
    uppers = [prefix[:-1] + chr(ord(prefix[-1]) + 1) for prefix in prefixes]
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT e.{person} FROM {q(meta.db_table)} e "  # noqa: S608
            "JOIN unnest(%s::text[], %s::text[]) AS r(low, high) "
            f"ON e.{column} >= r.low AND e.{column} < r.high LIMIT %s"
        )
        params: list[Any] = [prefixes, uppers, _LOOKUP_LIMIT]
    else:
        ranges = " OR ".join([f"({column} >= %s AND {column} < %s)"] * len(prefixes))
        sql = f"SELECT {person} FROM {q(meta.db_table)} WHERE {ranges} LIMIT %s"  # noqa: S608
        params = [value for pair in zip(prefixes, uppers, strict=True) for value in pair]
        params.append(_LOOKUP_LIMIT)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _neighbour_ids(targets: list[Record], raw: dict[int, dict[str, Any]]) -> set[int]:
    """Ids of live people who share a blocking key with a target, found through indexes.

    Phones and emails by their indexed columns; the company by its index; the
    postcode, street and town inside the range of people whose last name starts
    like one of the target's names (the name index, so no table scan).
    """
    ids: set[int] = set()
    live = Person.objects.filter(deleted_at__isnull=True)
    numbers = {n for t in targets for n in t.phones}
    if numbers:
        ids.update(
            PersonPhone.objects.filter(number__in=numbers).values_list("person_id", flat=True)[
                :_LOOKUP_LIMIT
            ]
        )
    prefixes = [name + sep for t in targets for name in t.email_names for sep in ("@", "+")]
    # Some hundreds of ranges a query: SQLite refuses an OR deeper than 1,000 terms (an
    # import of 500 people checked at once failed with "Expression tree is too large").
    for start in range(0, len(prefixes), _PREFIXES_PER_QUERY):
        ids.update(_people_with_email_prefixes(prefixes[start : start + _PREFIXES_PER_QUERY]))
    companies = {t.company_id for t in targets if t.company_id is not None}
    if companies:
        ids.update(
            live.filter(company_id__in=companies).values_list("id", flat=True)[:_LOOKUP_LIMIT]
        )
    for t in targets:
        row = raw[t.id]
        place = Q()
        if row["postcode"]:
            place |= Q(postcode=row["postcode"])
        if row["street"]:
            place |= Q(street__iexact=row["street"])
        if row["city"]:
            # A mistyped postcode or an abbreviated street still meets in its town.
            place |= Q(city__iexact=row["city"])
        if not place:
            continue
        names = Q()
        for token in {name_key(row["first_name"]), name_key(row["last_name"])} - {""}:
            names |= _prefix_range("last_name_key", token[:2])
        if names:
            ids.update(live.filter(names, place).values_list("id", flat=True)[:_LOOKUP_LIMIT])
    return ids


def _live_records(
    ids: Iterable[int], *, with_raw: bool = True
) -> tuple[dict[int, Record], dict[int, dict[str, Any]]]:
    """The live people of `ids` as records and (`with_raw`) their column values."""
    rows = _select_in(Person, _PERSON_COLUMNS, "id", sorted({int(i) for i in ids}), live=True)
    records = {row[0]: _record(row) for row in rows}
    if not with_raw:
        return records, {}
    raw = {row[0]: dict(zip(_PERSON_COLUMNS, row, strict=True)) for row in rows}
    return records, raw


@dataclass
class StoreResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    resolved: int = 0  # pairs a reviewer already merged or dismissed: left alone


def _store(
    matches: dict[tuple[int, int], Match],
    *,
    found_by: str,
    existing: dict[tuple[int, int], tuple[int, str, float, list]] | None = None,
) -> StoreResult:
    """Upsert candidates: insert new pairs, refresh open ones, never reopen resolved ones."""
    result = StoreResult()
    if not matches:
        return result
    if existing is None:
        existing = {}
        pairs = sorted(matches)
        # A slice's pairs are read as "first in these, second in those" and the rows of
        # other pairs dropped: an OR of a term per pair took the ORM longer to build than
        # the rest of a capture check (and SQLite refuses more than ~1,000 terms).
        for start in range(0, len(pairs), 500):
            chunk = pairs[start : start + 500]
            existing |= {
                (a, b): (pk, status, score, reasons)
                for pk, a, b, status, score, reasons in DuplicateCandidate.objects.filter(
                    person_a_id__in={a for a, _ in chunk}, person_b_id__in={b for _, b in chunk}
                ).values_list("id", "person_a_id", "person_b_id", "status", "score", "reasons")
                if (a, b) in matches
            }
    new: list[DuplicateCandidate] = []
    changed: list[DuplicateCandidate] = []
    for (a, b), match in matches.items():
        known = existing.get((a, b))
        if known is None:
            new.append(
                DuplicateCandidate(
                    person_a_id=a,
                    person_b_id=b,
                    score=match.score,
                    reasons=match.reasons,
                    found_by=found_by[:20],
                )
            )
        elif known[1] != CandidateStatus.OPEN:
            result.resolved += 1
        elif known[2] != match.score or known[3] != match.reasons:
            changed.append(
                DuplicateCandidate(id=known[0], score=match.score, reasons=match.reasons)
            )
        else:
            result.unchanged += 1
    with transaction.atomic():
        for start in range(0, len(new), _WRITE_BATCH):
            # ignore_conflicts: a capture hook may store the same pair at the same moment.
            DuplicateCandidate.objects.bulk_create(
                new[start : start + _WRITE_BATCH], ignore_conflicts=True
            )
        if changed:
            DuplicateCandidate.objects.bulk_update(
                changed, ["score", "reasons"], batch_size=_WRITE_BATCH
            )
    result.created, result.updated = len(new), len(changed)
    return result


def find_candidates_for(
    person_ids: Iterable[int], found_by: str, *, threshold: float | None = None
) -> StoreResult:
    """Find and store duplicate candidates of these (few) people, e.g. just captured or imported.

    Reads only the people who share a blocking key with them, through indexes.
    """
    limit = duplicate_threshold() if threshold is None else threshold
    targets_by_id, raw = _live_records(set(person_ids))
    if not targets_by_id:
        return StoreResult()
    _add_contacts(targets_by_id, targets_by_id)
    pool = _neighbour_ids(list(targets_by_id.values()), raw) - set(targets_by_id)
    records, _ = _live_records(pool, with_raw=False)
    _add_contacts(records, records)
    records.update(targets_by_id)
    matches = find_matches(
        records, threshold=limit, only_ids=set(targets_by_id), model=current_weights()
    )
    return _store(matches, found_by=found_by)


@dataclass
class ScanResult:
    people: int = 0
    pairs_compared: int = 0
    found: int = 0
    store: StoreResult = field(default_factory=StoreResult)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    model: linkage.Model | None = None


def keep_weights(model: linkage.Model, *, people: int) -> None:
    """Keep what the scan learned for the capture and import checks; only the last few."""
    if not model.trained_on:
        return
    with transaction.atomic():
        MatchWeights.objects.create(people=people, weights=model.as_json())
        stale = MatchWeights.objects.order_by("-learned_at", "-id").values_list("id", flat=True)[
            _KEEP_WEIGHTS:
        ]
        MatchWeights.objects.filter(pk__in=list(stale)).delete()


def current_weights() -> linkage.Model:
    """The weights the last scan learned, else the defaults."""
    row = MatchWeights.objects.order_by("-learned_at", "-id").values_list("weights", flat=True)
    data = row.first()
    return linkage.Model.from_json(data) if data else linkage.DEFAULT_MODEL


def scan_all(
    *, threshold: float | None = None, progress: Callable[[str], None] | None = None
) -> ScanResult:
    """Compare the whole database block by block and store what scores at the threshold.

    Streams plain values (no model instances) and writes in batches; running
    it twice stores nothing new.
    """
    limit = duplicate_threshold() if threshold is None else threshold
    result = ScanResult()
    started = last = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        result.phases[name] = now - last
        last = now
        if progress:
            progress(name)

    records: dict[int, Record] = {}
    for row in (
        Person.objects.filter(deleted_at__isnull=True)
        .order_by()
        .values_list(*_PERSON_COLUMNS)
        .iterator(chunk_size=20000)
    ):
        records[row[0]] = _record(row)
    result.people = len(records)
    phase("people")
    _add_contacts(records)
    phase("phones and emails")
    pairs = sorted(candidate_pairs(records.values()))
    result.pairs_compared = len(pairs)
    phase("blocks")
    ids = list(records)
    features = {pk: linkage.features_of(records[pk]) for pk in ids}
    model = linkage.learn_u(list(features.values()))
    phase("frequencies")
    compare = linkage.compare
    levels: list[tuple[int, ...]] = []
    rule_matches: dict[int, Match] = {}
    for n, (a, b) in enumerate(pairs):
        levels.append(compare(features[a], features[b]))
        left, right = records[a], records[b]
        if has_rule_evidence(left, right):
            rule_matches[n] = rule_score(left, right)
    gammas = np.array(levels, dtype=np.int64).reshape(len(pairs), len(linkage.FIELD_NAMES))
    phase("comparisons")
    model = linkage.train(model, gammas, people=len(records))
    result.model = model
    index = {pk: n for n, pk in enumerate(ids)}
    firsts = np.fromiter((index[a] for a, _ in pairs), dtype=np.int64, count=len(pairs))
    probabilities, bits = linkage.score_many(
        model, gammas, linkage.tf_bits_many(model, list(features.values()), gammas, firsts)
    )
    matches: dict[tuple[int, int], Match] = {}
    no_rule = Match(0.0, [])
    for n in np.flatnonzero(probabilities >= limit).tolist() + list(rule_matches):
        pair = pairs[n]
        rules = rule_matches.get(n, no_rule)
        if rules.score < limit and probabilities[n] < limit:
            continue
        if n not in rule_matches:
            rules = rule_score(records[pair[0]], records[pair[1]])  # for its reasons
        scored = linkage.Scored(float(probabilities[n]), float(bits[n]), tuple(gammas[n]))
        matches[pair] = combine(rules, scored)
    result.found = len(matches)
    phase("scores")
    keep_weights(model, people=len(records))
    existing = {
        (a, b): (pk, status, score, reasons)
        for pk, a, b, status, score, reasons in DuplicateCandidate.objects.values_list(
            "id", "person_a_id", "person_b_id", "status", "score", "reasons"
        ).iterator(chunk_size=20000)
    }
    result.store = _store(matches, found_by="scan", existing=existing)
    phase("stored")
    result.seconds = time.perf_counter() - started
    return result


def candidates_at_threshold(threshold: float | None = None):
    """Open pairs of live people scoring at or above the threshold, best first (for export)."""
    limit = duplicate_threshold() if threshold is None else threshold
    return (
        DuplicateCandidate.objects.filter(
            status=CandidateStatus.OPEN,
            score__gte=limit,
            person_a__deleted_at__isnull=True,
            person_b__deleted_at__isnull=True,
        )
        .order_by("-score", "person_a_id", "person_b_id")
        .values_list("person_a_id", "person_b_id", "score")
    )
