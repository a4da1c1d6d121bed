"""The data-driven model: removal effects on a first-order Markov chain of the paths.

Method. Every won or lost deal with at least one touch is a path
`start -> k1 -> k2 -> ... -> conversion` (won) or `... -> null` (lost), where k are the
report's group keys (campaign, channel, source or kind) of its touches in time order,
up to the deal's creation. Repeats in a row (k, k) are merged into one step: a
self-loop only delays a path and does not change where it ends. Transition
probabilities are the observed counts of each step divided by the counts out of its
state.

With Q the transitions among the keys, r the probabilities of stepping into
conversion and s the start distribution, the chance to convert from each state is
x = N r with N = (I - Q)^-1, and the chain's conversion probability is P = s·x.
Removing key k (every step into k goes to null instead) loses exactly the converting
walks that visit k: a walk from state i reaches k with probability N[i,k] / N[k,k]
and then converts with probability x_k. So

    P_without_k = P - (s·N[:,k] / N[k,k]) * x_k,   removal effect RE_k = 1 - P_without_k / P

which takes one matrix inverse for all keys instead of one solve per key.

Credit: each won deal's revenue (and each open deal's amount, for pipeline) is split
among the distinct keys on its own path in proportion to their removal effects, in
cents with largest-remainder rounding. A key on a won path always has a positive
effect; if every key of an open deal's path has none (never seen on a converting
path), the deal's amount is split evenly over its keys.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise

import numpy as np

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


def collapse(keys: Sequence[str]) -> list[str]:
    """The path without repeats in a row."""
    out: list[str] = []
    for key in keys:
        if not out or out[-1] != key:
            out.append(key)
    return out


def removal_effects(paths: Iterable[tuple[Sequence[str], bool]]) -> dict[str, float]:
    """Removal effect of every key seen on the (keys, converted) paths; {} if none won."""
    steps: Counter[tuple[str, str]] = Counter()
    for keys, converted in paths:
        walk = collapse(keys)
        if not walk:
            continue
        steps[(START, walk[0])] += 1
        for a, b in pairwise(walk):
            steps[(a, b)] += 1
        steps[(walk[-1], CONVERSION if converted else NULL)] += 1
    states = sorted({a for a, _ in steps} - {START})
    if not states:
        return {}
    index = {key: i for i, key in enumerate(states)}
    size = len(states)
    q = np.zeros((size, size))
    r = np.zeros(size)
    s = np.zeros(size)
    out_of = Counter[str]()
    for (a, _), count in steps.items():
        out_of[a] += count
    for (a, b), count in steps.items():
        if a == START:
            s[index[b]] += count / out_of[START]
        elif b == CONVERSION:
            r[index[a]] += count / out_of[a]
        elif b != NULL:
            q[index[a], index[b]] += count / out_of[a]
    fundamental = np.linalg.inv(np.eye(size) - q)
    x = fundamental @ r
    p = float(s @ x)
    if p <= 0:
        return dict.fromkeys(states, 0.0)
    reach = (s @ fundamental) / np.diag(fundamental)
    lost = reach * x
    return {key: max(float(lost[index[key]] / p), 0.0) for key in states}


def markov_weights(keys: Sequence[str], effects: dict[str, float]) -> dict[str, float]:
    """One deal's weights per distinct key on its path (even when none has an effect)."""
    distinct = list(dict.fromkeys(keys))
    weights = {key: effects.get(key, 0.0) for key in distinct}
    if sum(weights.values()) <= 0:
        return dict.fromkeys(distinct, 1.0)
    return weights
