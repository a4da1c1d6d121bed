"""A Fellegi–Sunter match score for name and address, with weights learned by EM (ADR 0006).

Pure functions over plain values and numpy arrays (no queries).

How a pair is scored:
- Each field is compared into a level (exact, nickname, close spelling, sounds
  alike, initial, different; or null when a side is missing). Names are compared
  the way round that fits best, so swapped first and last names compare as equal.
- A level adds log2(m/u) to the match weight: m is how often true duplicates show
  that level, u how often two unrelated people do. u comes from the data itself
  (exact levels from value frequencies, the rest from random pairs), m from EM over
  the blocked candidate pairs, the way Splink trains (one session blocked on the
  name learns the address fields, one blocked on the address learns the name).
- An exact name or street uses that value's own frequency instead of the average
  u (term-frequency adjustment): two "John Smith"s in one street say less than two
  "Ottoline Quennell"s.
- Null levels add nothing. The weight plus the prior odds gives a probability.
- The weights' odds start from the chance that two random people are one human
  (learned too), so a big database asks for more agreement than a small one.
- Rules kept from dedup/matching.py: a name alone never makes a pair (some place
  must agree), and names unlike in spelling, sound and nickname (first), or in
  spelling and sound (last) are never one human (a household, colleagues).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jellyfish
import numpy as np
from nicknames import NickNamer
from rapidfuzz.distance import OSA, JaroWinkler

# Fields and their levels; level 0 is always "null" (a side is missing).
FIELDS: dict[str, tuple[str, ...]] = {
    "first": (
        "null",
        "exact",
        "nickname",
        "close",
        "sounds alike",
        "initial",
        "loosely alike",
        "different",
    ),
    "last": ("null", "exact", "close", "sounds alike", "loosely alike", "different"),
    "house": ("null", "exact", "one digit off", "different"),
    "road": ("null", "exact", "close", "loosely alike", "different"),
    # Postcode and town together: the town follows from the postcode, so two fields
    # would count one fact twice.
    "area": (
        "null",
        "same postcode",
        "postcode one character off",
        "same town, a postcode missing",
        "same town, other postcode",
        "different",
    ),
}
FIELD_NAMES = tuple(FIELDS)
NAME_FIELDS = ("first", "last")
PLACE_FIELDS = ("house", "road", "area")
# Fields whose exact level is weighted by the value's own frequency.
TF_FIELDS = ("first", "last", "road")
_FIRST_DIFFERENT = FIELDS["first"].index("different")
_FIRST_LOOSE = FIELDS["first"].index("loosely alike")
_LAST_DIFFERENT = FIELDS["last"].index("different")

# Starting m values (before EM), and what is kept when a database is too small to
# learn from: measured on bench.dedup_quality (seed 1), rounded.
DEFAULT_M: dict[str, tuple[float, ...]] = {
    "first": (0.0, 0.6, 0.08, 0.12, 0.05, 0.15, 0.0, 0.0),
    "last": (0.0, 0.67, 0.2, 0.09, 0.04, 0.0),
    "house": (0.0, 0.7, 0.29, 0.01),
    "road": (0.0, 0.75, 0.23, 0.015, 0.005),
    "area": (0.0, 0.64, 0.25, 0.09, 0.01, 0.01),
}
# u values for small databases (measured there too: unrelated people in a few towns).
DEFAULT_U: dict[str, tuple[float, ...]] = {
    "first": (0.0, 0.021, 0.004, 0.004, 0.005, 0.016, 0.026, 0.924),
    "last": (0.0, 0.004, 0.002, 0.003, 0.035, 0.956),
    "house": (0.0, 0.001, 0.013, 0.986),
    "road": (0.0, 0.002, 0.008, 0.02, 0.97),
    "area": (0.0, 0.009, 0.02, 0.002, 0.021, 0.948),
}
# The chance that two people picked at random are one human (Splink's
# probability_two_random_records_match): a scan learns it, as the share of its
# candidate pairs that EM finds to be one human times their number, over all pairs.
# Before any scan: a town-sized database with a fifth of its people typed twice.
DEFAULT_PRIOR = 1e-4
_START_PRIOR = 0.3  # EM's first guess of the share of candidate pairs that match

# Learning needs enough pairs to mean anything; below these the defaults stay.
MIN_TRAINING_PAIRS = 200
MIN_RECORDS_FOR_U = 500
U_SAMPLE_PAIRS = 12_000
MIN_EXACT_M = 0.5
MAX_DIFFERENT_M = 0.1
EM_ROUNDS = 30
_TINY = 1e-6
TF_KEPT = 2000  # most common values per field kept with a stored model
_MAX_WEIGHT = 20.0  # bits one field may add or take away

_NICK = NickNamer()
# Digits in a name are a scanner's misreading of letters.
_OCR_DIGITS = str.maketrans("01358", "olesb")


# --- per-person features ---------------------------------------------------------------


@lru_cache(maxsize=65536)
def metaphone(token: str) -> str:
    return jellyfish.metaphone(token) if token else ""


@lru_cache(maxsize=65536)
def name_family(first: str) -> frozenset[str]:
    """The first name with its formal forms ('bill' → william, will...): two first names
    sharing one are a nickname pair."""
    if not first:
        return frozenset()
    if len(first) < 2:
        return frozenset({first})
    token = first.split()[0]
    return frozenset({token, *_NICK.canonicals_of(token)})


@lru_cache(maxsize=65536)
def _split_street(street: str) -> tuple[str, str]:
    """A street key ('12a main st') split into house number and road ('12a', 'main st');
    a digit inside a word of the road is a misreading ('jeffers0n')."""
    house: list[str] = []
    road: list[str] = []
    for word in street.split():
        if word[0].isdigit():
            house.append(word)
        else:
            road.append(word.translate(_OCR_DIGITS))
    return " ".join(house), " ".join(road)


@lru_cache(maxsize=65536)
def is_given_name(token: str) -> bool:
    """Whether a name is known as a first name (or a nickname of one)."""
    return bool(_NICK.canonicals_of(token) or _NICK.nicknames_of(token))


class Features:
    """What the score reads of one person, in normal form (names folded, street split)."""

    __slots__ = ("city", "first", "house", "last", "postcode", "road")

    def __init__(self, first: str, last: str, street: str, postcode: str, city: str) -> None:
        first = first.translate(_OCR_DIGITS)
        self.first = first
        self.last = last.translate(_OCR_DIGITS)
        self.house, self.road = _split_street(street)
        self.postcode = postcode
        self.city = city


def features_of(record: Any) -> Features:
    """From a dedup.matching.Record (already folded and keyed)."""
    return Features(record.first, record.last, record.street, record.postcode, record.city)


# --- comparing ------------------------------------------------------------------------


_jw = JaroWinkler.normalized_similarity


def _first_level(a: str, b: str, fam_a: frozenset[str], fam_b: frozenset[str]) -> int:
    if not a or not b:
        return 0
    if a == b:
        return 1
    if len(a) == 1 or len(b) == 1:
        # 'R.' is an initial of Robert, and so of Bob.
        initial, full = (a, fam_b) if len(a) == 1 else (b, fam_a)
        return 5 if any(name[0] == initial for name in full) else 7
    if fam_a & fam_b:
        return 2
    sim = _jw(a, b)
    if sim >= 0.92:
        return 3
    if sim >= 0.85 or metaphone(a) == metaphone(b):
        return 4
    if sim >= 0.7:
        return 6
    return 7


def _last_level(a: str, b: str) -> int:
    if not a or not b:
        return 0
    if a == b:
        return 1
    sim = _jw(a, b)
    if sim >= 0.92:
        return 2
    if sim >= 0.85 or metaphone(a) == metaphone(b):
        return 3
    if sim >= 0.7:
        return 4
    return 5


def _name_fit(a1: str, b1: str, a2: str, b2: str) -> float:
    """How well (a1, a2) fit (b1, b2) as first/last: for picking the way round."""
    total = 0.0
    for x, y in ((a1, b1), (a2, b2)):
        if x and y:
            if len(x) == 1 or len(y) == 1:
                total += 0.8 if x[0] == y[0] else 0.0
            else:
                total += _jw(x, y)
    return total


def compare(a: Features, b: Features, *, every_field: bool = False) -> tuple[int, ...]:
    """The levels of each field for one pair (names compared the way round that fits).

    Without `every_field`, a pair whose names say two people skips the address."""
    first, last = _name_levels(a.first, a.last, b.first, b.last)
    if not every_field and (first >= _FIRST_LOOSE or last == _LAST_DIFFERENT):
        # Two people by their names (see allowed()): the address is not read.
        return (first, last, 0, 0, 0)
    if a.house and b.house:
        house = 1 if a.house == b.house else (2 if OSA.distance(a.house, b.house) <= 1 else 3)
    else:
        house = 0
    road = 0
    if a.road and b.road:
        road = 1 if a.road == b.road else _road_level(a.road, b.road)
    return (first, last, house, road, _area_level(a, b))


@lru_cache(maxsize=262144)
def _road_level(a: str, b: str) -> int:
    """Two different road keys: the names compared without the kind ('st', 'ave'), so
    'lincoln st' and 'academy st' are not alike for sharing 'st'."""
    name_a, name_b = _road_name(a), _road_name(b)
    if name_a == name_b:
        return 2  # the same name, another kind or a kind left out
    sim = _jw(name_a, name_b)
    return 2 if sim >= 0.9 else (3 if sim >= 0.75 else 4)


_ROAD_KINDS = frozenset(
    [
        "st",
        "rd",
        "ave",
        "blvd",
        "ln",
        "dr",
        "pl",
        "sq",
        "wg",
        "ct",
        "cres",
        "way",
        "hwy",
        "pkwy",
        "ter",
        "cir",
        "allee",
        "gasse",
    ]
)


def _road_name(road: str) -> str:
    words = road.split()
    while len(words) > 1 and words[-1] in _ROAD_KINDS:
        words.pop()
    return " ".join(words)


@lru_cache(maxsize=262144)
def _name_levels(af: str, al: str, bf: str, bl: str) -> tuple[int, int]:
    """First and last name levels, the way round that fits (cached: names repeat)."""
    if af == bf and al == bl:
        return (1 if af else 0), (1 if al else 0)
    straight = _name_fit(af, bf, al, bl)
    if straight < 1.8 and _name_fit(af, bl, al, bf) > straight:
        if is_given_name(al) or is_given_name(bf):
            # a has its names the wrong way round: its given name is in the last name field.
            return _first_level(al, bf, name_family(al), name_family(bf)), _last_level(af, bl)
        return _first_level(af, bl, name_family(af), name_family(bl)), _last_level(al, bf)
    return _first_level(af, bf, name_family(af), name_family(bf)), _last_level(al, bl)


def _area_level(a: Features, b: Features) -> int:
    both_postcodes = bool(a.postcode and b.postcode)
    both_towns = bool(a.city and b.city)
    same_town = both_towns and a.city == b.city
    if both_postcodes:
        if a.postcode == b.postcode:
            return 1
        if OSA.distance(a.postcode, b.postcode) <= 1 and (same_town or not both_towns):
            return 2
        if same_town:
            return 4
        return 5
    if same_town:
        return 3
    return 5 if both_towns else 0


# --- the model ----------------------------------------------------------------------------


@dataclass
class Model:
    """m and u per field and level, the prior, and value frequencies for TF adjustment."""

    m: dict[str, list[float]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_M.items()}
    )
    u: dict[str, list[float]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_U.items()}
    )
    prior: float = DEFAULT_PRIOR
    # value -> share of non-empty values, per TF field; empty: use the average u.
    tf: dict[str, dict[str, float]] = field(default_factory=dict)
    trained_on: dict[str, int] = field(default_factory=dict)

    def weights(self) -> np.ndarray:
        """Bits per field and level (rows: fields, columns: levels; null = 0)."""
        width = max(len(v) for v in FIELDS.values())
        out = np.zeros((len(FIELDS), width))
        for i, name in enumerate(FIELD_NAMES):
            for level in range(1, len(FIELDS[name])):
                m = max(self.m[name][level], _TINY)
                u = max(self.u[name][level], _TINY)
                out[i, level] = np.clip(math.log2(m / u), -_MAX_WEIGHT, _MAX_WEIGHT)
        return out

    def tf_adjustment(self, name: str, value: str) -> float:
        """Bits added to an exact match of `value` in field `name`: log2(u_exact / tf)."""
        table = self.tf.get(name)
        if not table or not value:
            return 0.0
        share = table.get(value)
        if share is None:
            return 0.0
        u = max(self.u[name][1], _TINY)
        return float(np.clip(math.log2(u / max(share, _TINY)), -_MAX_WEIGHT, _MAX_WEIGHT))

    def as_json(self, *, tf_top: int = TF_KEPT) -> dict[str, Any]:
        """For keeping: the most common values' frequencies only (the rest count as average)."""
        tf = {
            name: dict(sorted(table.items(), key=lambda kv: -kv[1])[:tf_top])
            for name, table in self.tf.items()
        }
        return {
            "m": self.m,
            "u": self.u,
            "prior": self.prior,
            "tf": tf,
            "trained_on": self.trained_on,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        model = cls()
        for name in FIELD_NAMES:
            for kind, target in (("m", model.m), ("u", model.u)):
                values = (data.get(kind) or {}).get(name)
                if isinstance(values, list) and len(values) == len(FIELDS[name]):
                    target[name] = [float(v) for v in values]
        model.prior = float(data.get("prior", DEFAULT_PRIOR))
        model.tf = {k: dict(v) for k, v in (data.get("tf") or {}).items()}
        model.trained_on = dict(data.get("trained_on") or {})
        return model


DEFAULT_MODEL = Model()


@dataclass(frozen=True, slots=True)
class Scored:
    probability: float
    weight: float
    levels: tuple[int, ...]


def _prior_bits(prior: float) -> float:
    prior = min(max(prior, 1e-12), 1 - 1e-12)
    return math.log2(prior / (1 - prior))


def allowed(gammas: np.ndarray) -> np.ndarray:
    """False where a rule says never one human: no shared place at all (a name alone is
    not enough), or names that say two people (a household, colleagues)."""
    col = FIELD_NAMES.index
    house, road, area = gammas[:, col("house")], gammas[:, col("road")], gammas[:, col("area")]
    shares_place = (
        (road == 1)
        | (road == 2)
        | (area == 1)
        | (area == 2)
        | (((area == 3) | (area == 4)) & ((house == 1) | (house == 2)))
    )
    return shares_place & names_may_match(gammas)


def names_may_match(gammas: np.ndarray) -> np.ndarray:
    """False where the names say two people: first names unlike in spelling, sound and
    nickname, or last names unlike in spelling and sound (dedup/matching.py's rule too)."""
    col = FIELD_NAMES.index
    first, last = gammas[:, col("first")], gammas[:, col("last")]
    return (first != _FIRST_DIFFERENT) & (first != _FIRST_LOOSE) & (last != _LAST_DIFFERENT)


_FIRST, _LAST, _HOUSE, _ROAD, _AREA = (FIELD_NAMES.index(name) for name in FIELDS)


def _is_vetoed(levels: Sequence[int]) -> bool:
    """`allowed` for one pair, negated (without an array: the capture check scores its
    pairs one at a time)."""
    first, last = levels[_FIRST], levels[_LAST]
    if first in (_FIRST_DIFFERENT, _FIRST_LOOSE) or last == _LAST_DIFFERENT:
        return True
    road, area = levels[_ROAD], levels[_AREA]
    return not (road in (1, 2) or area in (1, 2) or (area in (3, 4) and levels[_HOUSE] in (1, 2)))


def score(model: Model, a: Features, b: Features, weights: np.ndarray | None = None) -> Scored:
    """The probability that two people are one human, from name and address alone."""
    levels = compare(a, b)
    if weights is None:
        weights = model.weights()
    total = _prior_bits(model.prior)
    for i, level in enumerate(levels):
        total += float(weights[i, level])
    total += tf_bits(model, a, levels)
    if _is_vetoed(levels):
        return Scored(0.0, total, levels)
    return Scored(_probability(total), total, levels)


_TF_COLUMNS = tuple(FIELD_NAMES.index(name) for name in TF_FIELDS)


def tf_bits(model: Model, a: Features, levels: Sequence[int]) -> float:
    """The term-frequency adjustment of the exact levels of one pair (0 without tables)."""
    if not model.tf:
        return 0.0
    total = 0.0
    for name, column in zip(TF_FIELDS, _TF_COLUMNS, strict=True):
        if levels[column] == 1:
            total += model.tf_adjustment(name, getattr(a, name))
    return total


def tf_bits_many(
    model: Model, features: Sequence[Features], gammas: np.ndarray, firsts: np.ndarray
) -> np.ndarray:
    """tf_bits for many pairs: `firsts` indexes each pair's first person in `features`."""
    total = np.zeros(len(gammas))
    if not model.tf:
        return total
    for name, column in zip(TF_FIELDS, _TF_COLUMNS, strict=True):
        exact = gammas[:, column] == 1
        if not exact.any():
            continue
        cache: dict[str, float] = {}
        per_person = np.zeros(len(features))
        for n in np.unique(firsts[exact]).tolist():
            value = getattr(features[n], name)
            bits = cache.get(value)
            if bits is None:
                bits = cache[value] = model.tf_adjustment(name, value)
            per_person[n] = bits
        total += np.where(exact, per_person[firsts], 0.0)
    return total


def _probability(bits: float) -> float:
    return 1.0 / (1.0 + 2.0 ** (-bits)) if bits > -60 else 0.0


LEVEL_REASONS = {
    ("first", 2): "nickname",
    ("first", 5): "initial",
    ("last", 1): "same last name",
    ("road", 1): "same street",
    ("road", 2): "similar street",
    ("house", 1): "same house number",
    ("house", 2): "house number one digit off",
    ("area", 1): "same postcode",
    ("area", 2): "postcode one character off",
}


def reasons_for(scored: Scored) -> list[str]:
    """The evidence in words, for the review screen."""
    out = [f"name and address weight {scored.weight:.1f}"]
    for name, level in zip(FIELD_NAMES, scored.levels, strict=True):
        words = LEVEL_REASONS.get((name, level))
        if words:
            out.append(words)
    return out


# --- learning ------------------------------------------------------------------------------


def _frequencies(values: Iterable[str]) -> tuple[dict[str, float], float]:
    """Share of each non-empty value, and the chance two random non-empty values are equal."""
    counts = Counter(v for v in values if v)
    total = sum(counts.values())
    if not total:
        return {}, 0.0
    shares = {v: c / total for v, c in counts.items()}
    return shares, sum(s * s for s in shares.values())


def estimate_u(features: Sequence[Features], *, seed: int = 0) -> tuple[dict, dict]:
    """u per field and level from the data: exact levels from value frequencies, the
    others from random pairs. Returns (u, tf tables)."""
    tf: dict[str, dict[str, float]] = {}
    exact: dict[str, float] = {}
    columns = {
        "first": [f.first if len(f.first) > 1 else "" for f in features],
        "last": [f.last for f in features],
        "house": [f.house for f in features],
        "road": [f.road for f in features],
        "area": [f.postcode for f in features],
    }
    for name, values in columns.items():
        shares, same = _frequencies(values)
        exact[name] = same
        if name in TF_FIELDS:
            tf[name] = shares
    rnd = random.Random(seed)
    n = len(features)
    counts = {name: np.zeros(len(levels)) for name, levels in FIELDS.items()}
    for _ in range(U_SAMPLE_PAIRS):
        i, j = rnd.randrange(n), rnd.randrange(n)
        if i == j:
            continue
        levels = compare(features[i], features[j], every_field=True)
        for name, level in zip(FIELD_NAMES, levels, strict=True):
            counts[name][level] += 1
    u: dict[str, list[float]] = {}
    for name in FIELD_NAMES:
        seen = counts[name][1:] + 0.5  # a little smoothing: no level is impossible
        seen[0] = 0.0
        rest = seen / seen.sum() * (1 - exact[name])
        u[name] = [0.0, max(exact[name], _TINY), *[float(x) for x in rest[1:]]]
    return u, tf


def _em(
    patterns: np.ndarray,
    counts: np.ndarray,
    model: Model,
    *,
    learn: Sequence[str],
    use: Sequence[str],
    learn_prior: bool = True,
) -> tuple[dict[str, list[float]], float]:
    """EM over distinct level patterns: m of the `learn` fields (u held), and the share of
    matches; only the `use` fields enter the likelihood (the blocked-on ones stay out)."""
    m = {name: np.array(model.m[name], dtype=float) for name in FIELD_NAMES}
    u = {name: np.array(model.u[name], dtype=float) for name in FIELD_NAMES}
    prior = _START_PRIOR
    cols = {name: FIELD_NAMES.index(name) for name in FIELD_NAMES}
    possible = names_may_match(patterns)
    for _ in range(EM_ROUNDS):
        log_m = np.zeros(len(patterns))
        log_u = np.zeros(len(patterns))
        for name in use:
            levels = patterns[:, cols[name]]
            known = levels > 0
            log_m += np.where(known, np.log(np.maximum(m[name][levels], _TINY)), 0.0)
            log_u += np.where(known, np.log(np.maximum(u[name][levels], _TINY)), 0.0)
        a = np.log(prior) + log_m
        b = np.log(1 - prior) + log_u
        top = np.maximum(a, b)
        p = np.exp(a - top) / (np.exp(a - top) + np.exp(b - top))
        # What the name rules call two people is no match, whatever the other fields say
        # (a household at one address would otherwise teach that names may differ).
        p = np.where(possible, p, 0.0)
        weighted = p * counts
        if learn_prior:
            prior = float(np.clip(weighted.sum() / counts.sum(), 1e-4, 0.9999))
        for name in learn:
            levels = patterns[:, cols[name]]
            sums = np.bincount(levels, weights=weighted, minlength=len(FIELDS[name]))
            sums[0] = 0.0
            if sums.sum() > 0:
                sums = (sums + 0.01) / (sums.sum() + 0.01 * (len(sums) - 1))
                sums[0] = 0.0
                m[name] = sums
    return {name: [float(x) for x in m[name]] for name in learn}, prior


def is_plausible(m: Sequence[float]) -> bool:
    """Whether learned m values describe duplicates: most agree exactly, few disagree
    outright. Else EM found another crowd in the pairs (namesakes in one town, a
    household) and the field keeps its defaults."""
    return m[1] >= MIN_EXACT_M and m[-1] <= MAX_DIFFERENT_M


def learn_u(features: Sequence[Features], *, seed: int = 0) -> Model:
    """A model with this database's u values and value frequencies (defaults when small)."""
    model = Model()
    if len(features) >= MIN_RECORDS_FOR_U:
        model.u, model.tf = estimate_u(features, seed=seed)
    return model


def train(model: Model, gammas: np.ndarray, *, people: int) -> Model:
    """m by EM over the candidate pairs (`gammas`, one row of levels per pair), in two
    sessions, then the prior over all of them; the defaults stay when too few pairs."""
    if len(gammas) < MIN_TRAINING_PAIRS:
        return model
    patterns, counts = np.unique(gammas, axis=0, return_counts=True)
    counts = counts.astype(float)
    col = FIELD_NAMES.index
    # Session 1: pairs with the same name teach what the address of one human looks like.
    same_name = (patterns[:, col("first")] == 1) & (patterns[:, col("last")] == 1)
    # Session 2: pairs at the same address teach what the name of one human looks like.
    same_place = (patterns[:, col("road")] == 1) & (patterns[:, col("area")] == 1)
    trained: dict[str, int] = {}
    for mask, learn, key in (
        (same_name, PLACE_FIELDS, "pairs with the same name"),
        (same_place, NAME_FIELDS, "pairs at the same address"),
    ):
        if counts[mask].sum() >= MIN_TRAINING_PAIRS:
            learned, _ = _em(patterns[mask], counts[mask], model, learn=learn, use=learn)
            kept = {name: m for name, m in learned.items() if is_plausible(m)}
            model.m.update(kept)
            trained[key] = int(counts[mask].sum())
            if len(kept) < len(learned):
                trained[key + ", fields kept"] = len(kept)
    _, share = _em(patterns, counts, model, learn=(), use=FIELD_NAMES)
    all_pairs = max(people * (people - 1) / 2, counts.sum())
    model.prior = float(np.clip(share * counts.sum() / all_pairs, 1e-12, 0.5))
    trained["candidate pairs"] = int(counts.sum())
    trained["people"] = people
    model.trained_on = trained
    return model


def score_many(model: Model, gammas: np.ndarray, tf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities for many pairs at once, from their levels (pairs × fields) and TF
    bits; 0 where a rule vetoes the pair."""
    weights = model.weights()
    bits = np.full(len(gammas), _prior_bits(model.prior))
    for i in range(len(FIELD_NAMES)):
        bits += weights[i, gammas[:, i]]
    bits += tf
    ok = allowed(gammas)
    probability = 1.0 / (1.0 + np.exp2(-np.clip(bits, -60, 60)))
    return np.where(ok, probability, 0.0), bits
