"""Python's cycle collector: start-up's objects kept out of its passes in the long-running
processes, and the collector held back during bulk work, collecting between batches.

The web server's processes and the worker call `settle_startup()` once they are
loaded: it loads the URLs, then calls `freeze_startup()`. Every so often the
collector makes a full pass over all the objects a process holds, and after
start-up that is Django, the apps, scikit-learn and their modules: some
hundreds of thousands of objects that live as long as the process. Measured
during `python -m bench.capture_e2e --db sqlite` (2 cores, 2026-12-06): the
worker made such a pass every second or so, 130-200 ms each, freeing nothing;
web processes made a few of 85-250 ms. A pass taken while the process held
SQLite's write turn (core/write_turn.py) held every web-form post behind it:
those passes were the posts' p99 (~200 ms; ~90 ms once frozen). Frozen objects
stay reference-counted; garbage made later is still collected.

An import makes and drops millions of small objects (rows, their dicts,
tuples for executemany). Each allocation counts towards the collector's
thresholds, so it runs thousands of times, and every full pass walks all
the objects the process holds: Django's, the libraries', the job's caches.
Measured on a 1M-row import into SQLite (bench.import_people), the
collector cost 46 s of 147.

`paused_collector()` freezes what exists when the work starts (the
program itself, which holds no garbage worth looking for), turns
automatic collection off, and leaves the collecting to `collect()`,
called between batches: it looks only at what was made since the freeze,
so it is cheap, and cycles made by a batch are freed after it. When the
block ends, everything is as it was (what was frozen before it stays frozen).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def settle_startup() -> None:
    """Load the URLs (with them every view module) and index their names now, then
    `freeze_startup()`: the loaded modules are start-up's too.

    Django loads them at the first request, or the first `reverse`. In the worker
    that was inside the first task that built a link: the sending of a burst's
    first confirmation emails, about a second of CPU on a 2-core machine, holding
    the interpreter from the capture drain's thread, so that burst's leads became
    people a second later (`bench.capture_e2e`: post → person p95 over 2 s in 10 of
    13 runs, 3 of 13 with the URLs loaded at start).
    """
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 - imports the views and indexes the names
    freeze_startup()


def freeze_startup() -> None:
    """Collect start-up's garbage once, then keep what remains out of later passes."""
    gc.collect()
    gc.freeze()


@contextmanager
def paused_collector() -> Iterator[None]:
    was_enabled = gc.isenabled()
    was_frozen = gc.get_freeze_count() > 0  # a server or worker froze its start-up
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if not was_frozen:
            gc.unfreeze()  # else what existed when the block began stays frozen with it
        if was_enabled:
            gc.enable()


def collect() -> None:
    """Free the cycles made since the pause began (objects frozen at its start are skipped)."""
    gc.collect()
