"""Fixtures every routing test shares."""

from __future__ import annotations

import pytest

from tandem.routing.reasons import ensure_default_reasons


@pytest.fixture(autouse=True)
def default_send_back_reasons(db) -> None:
    """The seeded send-back reasons, whatever ran before: migration 0003 seeds them once,
    and the flush a transactional test leaves behind (a reused test database) drops them."""
    ensure_default_reasons()
