"""`TANDEM_TASKS=redis://…` puts background work on RQ, and `tandem worker` runs it.

Real processes and a real Redis (127.0.0.1:6379, a database of its own): a
capture queues its email on RQ after the commit; the worker sends it.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REDIS = ("127.0.0.1", 6379)


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


SEND = """
import django, os
django.setup()
from django.db import transaction
from tandem.capture.email import queue_email
with transaction.atomic():
    row = queue_email(kind="form_notification", to="team@example.com", subject="New lead",
                      context={})
print(row.pk)
"""

STATUS = """
import django, sys
django.setup()
from tandem.capture.models import OutboundEmail
print(OutboundEmail.objects.get(pk=int(sys.argv[1])).status)
"""


@pytest.mark.timeout(300)  # starts a Redis worker process and waits on it (31 s measured)
def test_the_redis_queue_carries_work_to_the_worker(tmp_path: Path):
    if not redis_answers():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not answering on 127.0.0.1:6379: CI tests the RQ backend")
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    # Apart from other runs: the suites of the two databases run side by side (test.sh).
    half = 12 if os.environ.get("DATABASE_URL", "").startswith("postgres") else 8
    queue_db = random.Random(uuid.uuid4().int).randrange(half, half + 4)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="tandem.settings",
        TANDEM_DEBUG="true",
        TANDEM_DATA_DIR=str(tmp_path),
        TANDEM_TASKS=f"redis://{REDIS[0]}:{REDIS[1]}/{queue_db}",
        TANDEM_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    run("-m", "tandem", "migrate", "-v", "0")
    pk = run("-c", SEND).splitlines()[-1]
    assert run("-c", STATUS, pk) == "queued"  # on the queue, not sent in the caller
    run("-m", "tandem", "worker", "--burst")
    assert run("-c", STATUS, pk) == "sent"
