"""Fixtures the capture tests share."""

from __future__ import annotations

import pytest

from tandem.capture.demo import ensure_demo_guide_form
from tandem.capture.models import WebForm


@pytest.fixture
def queued(settings):
    """Production's default: tasks go to the database queue, a worker runs them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def guide(system) -> WebForm:
    """The J1 form (the demo's buyer's guide)."""
    return ensure_demo_guide_form(system)
