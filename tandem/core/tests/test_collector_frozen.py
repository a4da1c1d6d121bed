"""The web processes and the worker keep start-up's objects out of the garbage collector's passes
(core/collector.py): a full pass over them took 85-250 ms while a post held SQLite's
write turn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_in_a_new_process(probe: str, data_dir: Path) -> Any:
    """What `probe` prints last, as JSON, run by a Python of its own with debug settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DJANGO_"))}
    env |= {"TANDEM_DEBUG": "true", "TANDEM_DATA_DIR": str(data_dir)}
    env["DJANGO_SETTINGS_MODULE"] = "tandem.settings"
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_loading_the_web_application_loads_the_views_and_freezes_the_start_up_heap(tmp_path):
    probe = (
        "import gc, json, sys\n"
        "before = gc.get_freeze_count()\n"
        "import tandem.wsgi\n"
        "print(json.dumps([before, gc.get_freeze_count(), 'tandem.capture.public' in sys.modules]))"
    )
    before, frozen, views_loaded = run_in_a_new_process(probe, tmp_path)
    assert before == 0
    assert frozen > 10_000  # Django, the apps and their views: left out of later passes
    assert views_loaded  # the URLs were loaded before freezing, not on the first request


def test_an_import_in_the_worker_leaves_its_start_up_frozen():
    """`paused_collector` (imports) unfroze everything when it ended: a worker that ran an
    import went back to full passes over its start-up objects."""
    probe = (
        "import gc, json\n"
        "from tandem.core.collector import freeze_startup, paused_collector\n"
        "freeze_startup()\n"
        "started = gc.get_freeze_count()\n"
        "with paused_collector():\n"
        "    during = gc.get_freeze_count()\n"
        "after = gc.get_freeze_count()\n"
        "gc.unfreeze()\n"
        "with paused_collector():\n"
        "    pass\n"
        "print(json.dumps([started, during, after, gc.get_freeze_count()]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    started, during, after, unfrozen_process = json.loads(out.strip().splitlines()[-1])
    assert started > 0 and during >= started
    assert after >= started  # still frozen
    assert unfrozen_process == 0  # a process that froze nothing ends as it began


def test_a_settled_worker_builds_its_first_link_without_loading_a_module(tmp_path):
    """The worker settles its start-up before its first task (`settle_startup`): the
    first `reverse` of a burst, a confirmation email's link, loaded every view module
    inside the send task, about a second that the capture drain's thread waited."""
    probe = (
        "import gc, json, sys, django\n"
        "django.setup()\n"
        "before = 'tandem.capture.public' in sys.modules\n"
        "from tandem.core.collector import settle_startup\n"
        "settle_startup()\n"
        "from tandem.capture import consent\n"
        "loaded = set(sys.modules)\n"
        "url = consent.confirmation_url(1, [2], base_url='https://crm.example.com')\n"
        "print(json.dumps([before, sorted(set(sys.modules) - loaded), gc.get_freeze_count(), url]))"
    )
    before, loaded_by_the_link, frozen, url = run_in_a_new_process(probe, tmp_path)
    assert before is False  # django.setup() alone leaves the views to the first use
    assert loaded_by_the_link == []
    assert frozen > 10_000
    assert url.startswith("https://crm.example.com/consent/confirm/")
