"""A real `tandem worker` in debug mode (as `make run` starts it): the database worker
then reloads on code changes, from a process that only watches the files. The apps'
loops run once, in the process that does the work, not in the watcher too."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection

from tandem.imports.tests.processes import ROOT, child_env, stop, tandem


def log_text(tmp_path: Path) -> str:
    return (tmp_path / "worker.log").read_text()


def _loop_files(folder: Path) -> list[str]:
    return sorted(f for f in os.listdir(folder) if "drain-loop" in f and ".loop-" in f)


@pytest.mark.slow
@pytest.mark.timeout(150)
@pytest.mark.django_db(transaction=True)
def test_a_worker_in_debug_mode_runs_one_drain_loop(tmp_path):
    env = child_env(tmp_path)
    assert env["TANDEM_DEBUG"] == "true"
    (tmp_path / "child-data").mkdir()
    folder = (
        Path(str(connection.settings_dict["NAME"])).parent
        if connection.vendor == "sqlite"
        else tmp_path / "child-data"  # PostgreSQL: the heartbeat files go to the data folder
    )
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        tandem("worker"), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 90
        # The child that works says so once it runs; the watcher would have started its
        # loops before it.
        while not (_loop_files(folder) and "Starting worker" in log_text(tmp_path)):
            assert worker.poll() is None, log_text(tmp_path)
            assert time.monotonic() < deadline, "no drain loop beat"
            time.sleep(0.2)
        time.sleep(3)  # a second loop, were there one, beats within a second
        assert len(_loop_files(folder)) == 1, _loop_files(folder)
    finally:
        stop(worker)  # the watcher only: its child ends without its clean stop
        log.close()
        for name in _loop_files(folder):
            (folder / name).unlink()
