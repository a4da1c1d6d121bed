"""What `tandem worker` does before it takes tasks, contributed by the apps that need it.

core runs the worker but sits below every app, so it cannot name their work.
An app registers a step from its `AppConfig.ready()` (imports: build the
indexes a killed import left dropped; capture: drain the web-form posts that
waited while no worker ran). Steps run in registration order, that is in
INSTALLED_APPS order; each must be safe to run at every start.
`grep -rn register_worker_start tandem` lists them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_steps: dict[str, Callable[[], object]] = {}


def register_worker_start(key: str, step: Callable[[], object]) -> None:
    """Run `step` each time a worker starts (registering `key` again replaces it)."""
    _steps[key] = step


def run_worker_start() -> None:
    for step in list(_steps.values()):
        step()


# Loops a long-running worker keeps going beside the task queue (capture: its own drain of
# the web-form inbox, so posts are captured as they arrive, not only when a task comes).
_loops: dict[str, Callable[[threading.Event], object]] = {}


def register_worker_loop(key: str, loop: Callable[[threading.Event], object]) -> None:
    """Run `loop(stop)` in its own thread while a (non-burst) worker runs; it returns once
    `stop` is set."""
    _loops[key] = loop


@contextmanager
def worker_loops(*, enabled: bool) -> Iterator[None]:
    """Start every registered loop for the worker's lifetime, then stop and join them."""
    stop = threading.Event()
    threads = []
    if enabled:
        for key, loop in list(_loops.items()):
            thread = threading.Thread(target=loop, args=(stop,), name=key, daemon=True)
            thread.start()
            threads.append(thread)
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
