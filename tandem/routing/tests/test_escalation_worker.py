"""With real `tandem worker` processes (two, side by side, as a deployment may run them) on
this test's database: a lead past its due time is announced exactly once — one breach
notification for the owner, one for the team's manager — however many ticks both workers
run. Time is moved by setting the due time in the past."""

from __future__ import annotations

import datetime as dt
import subprocess
import time

import pytest
from django.utils import timezone

from tandem.accounts.models import Team
from tandem.imports.tests.processes import ROOT, child_env, stop, tandem
from tandem.notifications.models import Notification
from tandem.routing.models import Handoff
from tandem.routing.tests.escalate_factories import routed


@pytest.mark.django_db(transaction=True)
def test_two_workers_announce_a_breach_exactly_once(tmp_path, salesperson, manager):
    team = Team.objects.create(name="North")
    salesperson.team = manager.team = team
    salesperson.save()
    manager.save()
    now = timezone.now()
    handoff = routed(owner=salesperson, routed_at=now - dt.timedelta(hours=2), minutes=60)
    waiting = routed(owner=salesperson, routed_at=now, minutes=600, name="NotYet")

    env = child_env(tmp_path, TANDEM_SLA_POLL_SECONDS="1")
    logs = [(tmp_path / f"worker{i}.log").open("w") for i in range(2)]
    workers = [
        subprocess.Popen(tandem("worker"), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        for log in logs
    ]
    try:
        deadline = time.monotonic() + 60
        while not Notification.objects.filter(kind="sla_breach").count() >= 2:
            assert all(w.poll() is None for w in workers), "a worker stopped"
            assert time.monotonic() < deadline, "no breach announced within a minute"
            time.sleep(0.3)
        time.sleep(4)  # several more ticks of both workers
        # Time moves: the second lead's due time is now in the past too.
        Handoff.objects.filter(pk=waiting.pk).update(
            due_at=timezone.now() - dt.timedelta(seconds=1)
        )
        deadline = time.monotonic() + 60
        while Notification.objects.filter(kind="sla_breach").count() < 4:
            assert time.monotonic() < deadline, "the second breach was not announced"
            time.sleep(0.3)
        time.sleep(3)
    finally:
        for worker in workers:
            stop(worker)
        for log in logs:
            log.close()
    breaches = sorted(
        Notification.objects.filter(kind="sla_breach").values_list("user__username", "key")
    )
    assert breaches == sorted(
        [
            ("sam", f"sla_breach:{handoff.pk}"),
            ("max", f"sla_breach:{handoff.pk}"),
            ("sam", f"sla_breach:{waiting.pk}"),
            ("max", f"sla_breach:{waiting.pk}"),
        ]
    )
    assert Handoff.objects.filter(breached_at__isnull=False).count() == 2
    for i in range(2):
        assert "Traceback" not in (tmp_path / f"worker{i}.log").read_text()
