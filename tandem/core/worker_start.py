"""What `tandem worker` does before it takes tasks, contributed by the apps that need it.

core runs the worker but sits below every app, so it cannot name their work.
An app registers a step from its `AppConfig.ready()` (imports: build the
indexes a killed import left dropped; capture: drain the web-form posts that
waited while no worker ran). Steps run in registration order, that is in
INSTALLED_APPS order; each must be safe to run at every start.
`grep -rn register_worker_start tandem` lists them.
"""

from __future__ import annotations

from collections.abc import Callable

_steps: dict[str, Callable[[], object]] = {}


def register_worker_start(key: str, step: Callable[[], object]) -> None:
    """Run `step` each time a worker starts (registering `key` again replaces it)."""
    _steps[key] = step


def run_worker_start() -> None:
    for step in list(_steps.values()):
        step()
