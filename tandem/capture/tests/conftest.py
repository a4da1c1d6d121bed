"""Fixtures the capture tests share."""

from __future__ import annotations

import threading

import pytest

from tandem.capture.demo import ensure_demo_guide_form
from tandem.capture.models import WebForm


@pytest.fixture
def drain_timers_done():
    """A post enqueues a drain a moment later (inbox._drain_soon): let it run in the test."""
    yield
    for thread in threading.enumerate():
        if thread.name == "tandem-capture-drain":
            thread.join(5)


@pytest.fixture
def queued(settings):
    """Production's default: tasks go to the database queue, a worker runs them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def guide(system) -> WebForm:
    """The J1 form (the demo's buyer's guide)."""
    return ensure_demo_guide_form(system)
