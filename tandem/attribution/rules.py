"""The rule-based models: how one deal's credit is shared among its touches.

Pure functions over one path (a deal's touches in time order); no database here, so
the property tests can run them on thousands of made-up paths.

Position-based models (u_shaped, w_shaped, full_path) give fixed shares to anchor
touches and spread a "rest" share evenly over the touches that are no anchor:

- u_shaped: first touch 40, last touch (the opportunity-creation touch) 40, rest 20.
- w_shaped: first touch 30, lead-creation touch 30, opportunity-creation touch 30,
  rest 10.
- full_path: first 22.5, lead creation 22.5, opportunity creation 22.5, the close
  touch (the last one at or before the deal's close) 22.5, rest 10.

Degenerate cases, one rule for all three: when anchors fall on the same touch, that
touch gets the sum of their shares; when every touch is an anchor (nothing left for
the rest), the rest share is spread evenly over the distinct anchor touches. So
u_shaped gives 100 to a single touch and 50/50 to two; w_shaped gives a single
touch 100, three distinct anchors 33⅓ each, and two touches where the lead touch is
the first 65/35. A deal that is still open has not closed: under full_path its close
share goes with the opportunity-creation touch.

The lead-creation touch is the last touch at or before the moment the deal's first
contact became a lead (their first stage change to `lead`, else their creation); when
every touch came later, it is the first touch. The opportunity-creation touch is the
last touch at or before the deal's creation.

time_decay weighs each touch 2^(-age / half_life), age in days before the deal's
creation (a touch at the creation weighs 1, one half-life earlier 0.5).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

RULE_MODELS = (
    "first_touch",
    "last_touch",
    "linear",
    "u_shaped",
    "w_shaped",
    "full_path",
    "time_decay",
)


def positional(n: int, anchors: Sequence[tuple[int, float]], rest: float) -> list[float]:
    """Shares for n touches: each (index, share) anchor, `rest` over the non-anchors."""
    weights = [0.0] * n
    for index, share in anchors:
        weights[index] += share
    anchored = {index for index, _ in anchors}
    others = [i for i in range(n) if i not in anchored]
    spread = others or sorted(anchored)
    part = rest / len(spread)
    for i in spread:
        weights[i] += part
    return weights


def lead_index(times: Sequence[float], lead_at: float | None) -> int:
    """The last touch at or before the lead's creation; the first touch if none is."""
    if lead_at is None:
        return 0
    return max(bisect_right(times, lead_at) - 1, 0)


def rule_weights(
    model: str,
    times: Sequence[float],
    *,
    created: float,
    lead_at: float | None = None,
    opened: int | None = None,
    half_life_days: float = 7.0,
) -> list[float]:
    """Relative weights of the touches at `times` (sorted, in days) for one deal.

    `created` is the deal's creation (days); `opened` the number of touches at or before
    it (full_path paths run on to the close; the others stop there, so it defaults to
    all of them).
    """
    n = len(times)
    if n == 0:
        return []
    last_open = (n if opened is None else opened) - 1
    if model == "first_touch":
        return [1.0] + [0.0] * (n - 1)
    if model == "last_touch":
        return [0.0] * (n - 1) + [1.0]
    if model == "linear":
        return [1.0] * n
    if model == "u_shaped":
        return positional(n, [(0, 40.0), (n - 1, 40.0)], 20.0)
    if model == "w_shaped":
        lead = min(lead_index(times, lead_at), n - 1)
        return positional(n, [(0, 30.0), (lead, 30.0), (n - 1, 30.0)], 10.0)
    if model == "full_path":
        opp = max(last_open, 0)
        lead = min(lead_index(times, lead_at), opp)
        return positional(n, [(0, 22.5), (lead, 22.5), (opp, 22.5), (n - 1, 22.5)], 10.0)
    if model == "time_decay":
        # Relative to the newest touch: the same shares as 2^(-age / half_life) (the
        # factor cancels out), and very old paths do not underflow to all zeros.
        half, newest = float(half_life_days), min(max(times), created)
        return [2.0 ** (-max(newest - t, 0.0) / half) for t in times]
    raise ValueError(f"unknown model {model!r}")
