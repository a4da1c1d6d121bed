"""Cents that add up: largest-remainder rounding of one amount over weighted keys.

Each key's exact share is `cents * weight / total`; every key gets the floor, and the
cents left over go one each to the keys with the largest remainders (ties: the key
that came first, which for a deal is the key of its earliest touch). The parts always
add up to `cents` exactly.
"""

from __future__ import annotations

import math


def split_cents(cents: int, weights: dict[str, float]) -> dict[str, int]:
    """Share `cents` over the keys of `weights` (insertion order breaks ties)."""
    total = math.fsum(weights.values())
    keys = list(weights)
    if not keys:
        return {}
    if total <= 0:  # nothing to go by: evenly
        weights = dict.fromkeys(keys, 1.0)
        total = float(len(keys))
    parts: dict[str, int] = {}
    remainders: list[tuple[float, int, str]] = []
    given = 0
    for position, key in enumerate(keys):
        exact = cents * weights[key] / total
        floor = math.floor(exact)
        parts[key] = floor
        given += floor
        # Rounded so that float noise does not decide between equal shares.
        remainders.append((-round(exact - floor, 9), position, key))
    left = cents - given
    remainders.sort()
    for _, _, key in remainders[: max(left, 0)]:
        parts[key] += 1
    if left < 0:  # cannot happen with floors; kept so the sum stays exact regardless
        parts[keys[0]] += left
    return parts
