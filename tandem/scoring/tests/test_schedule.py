"""The worker's scoring beat: the decay rescore is claimed once per interval, whoever asks."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tandem.scoring import tasks

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def test_decay_rescore_is_due_once_per_interval(settings):
    settings.TANDEM_SCORING_DECAY_HOURS = 24
    with time_machine.travel(START, tick=False):
        assert tasks.claim_decay() is True  # first beat ever: due now
        assert tasks.claim_decay() is False  # a second worker at the same time: not again
    with time_machine.travel(START + dt.timedelta(hours=23), tick=False):
        assert tasks.claim_decay() is False
    with time_machine.travel(START + dt.timedelta(hours=24), tick=False):
        assert tasks.claim_decay() is True
