"""Two real `tandem worker` processes on this test's database, both sweeping the same
waiting emails to a real SMTP server: each email arrives exactly once."""

from __future__ import annotations

import datetime as dt
import subprocess
import time

import pytest
from django.utils import timezone

from tandem.imports.tests.processes import ROOT, child_env, stop, tandem
from tandem.notifications.models import EmailStatus, Notification

WAIT = 90  # each worker sweeps as it starts; generous for a loaded machine


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_waiting_email_exactly_once(smtp, salesperson, manager, tmp_path):
    salesperson.email, manager.email = "sam@example.com", "max@example.com"
    salesperson.save(), manager.save()
    # Emails whose tasks were lost (written directly, two minutes old): the workers' sweep
    # is what sends them.
    created = timezone.now() - dt.timedelta(minutes=2)
    Notification.objects.bulk_create(
        Notification(
            user=u, kind="sla_breach", title=f"Breach {i}", key=f"b:{i}", created_at=created
        )
        for i in range(20)
        for u in (salesperson, manager)
    )
    env = child_env(
        tmp_path,
        TANDEM_EMAIL_HOST="127.0.0.1",
        TANDEM_EMAIL_PORT=str(smtp.port),
        TANDEM_EMAIL_FROM="Tandem <tandem@example.com>",
    )
    env["TANDEM_EMAIL_BACKEND"] = "django.core.mail.backends.smtp.EmailBackend"
    logs = [(tmp_path / f"worker{i}.log").open("w") for i in range(2)]
    workers = [
        subprocess.Popen(tandem("worker"), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        for log in logs
    ]
    try:
        deadline = time.monotonic() + WAIT
        while Notification.objects.exclude(email_status=EmailStatus.SENT).exists():
            assert all(w.poll() is None for w in workers), "a worker stopped"
            assert time.monotonic() < deadline, list(
                Notification.objects.values_list("email_status", "email_error")[:3]
            )
            time.sleep(0.3)
        time.sleep(1)  # a duplicate, were there one, would arrive now
    finally:
        for worker in workers:
            stop(worker)
        for log in logs:
            log.close()
    assert len(smtp.to("sam@example.com")) == 20 and len(smtp.to("max@example.com")) == 20
    assert len(smtp.messages) == 40
    assert set(Notification.objects.values_list("email_attempts", flat=True)) == {1}
    for i in range(2):
        assert "Traceback" not in (tmp_path / f"worker{i}.log").read_text()
