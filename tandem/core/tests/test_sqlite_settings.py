"""Every SQLite database gets the same settings, however DATABASE_URL names it (or doesn't).

Settings are read once per process from the environment, so each case runs in a child
process that opens the database and reports what SQLite itself says.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    pragmas = {
        name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "busy_timeout", "synchronous", "wal_autocheckpoint")
    }
print(json.dumps({
    "name": connection.settings_dict["NAME"],
    "transaction_mode": connection.settings_dict["OPTIONS"].get("transaction_mode"),
    "test_name": connection.settings_dict["TEST"].get("NAME"),
    **pragmas,
}))
"""


def probe(cwd: Path, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TANDEM_", "DJANGO_")) and k != "DATABASE_URL"
    }
    base.update(
        DJANGO_SETTINGS_MODULE="tandem.settings",
        TANDEM_DEBUG="true",
        TANDEM_DATA_DIR=str(data_dir),
        PYTHONPATH=str(Path(__file__).resolve().parents[3]),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=cwd, env=base, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("url", "expected_file"),
    [
        (None, "data/tandem.sqlite3"),
        ("sqlite://", "data/tandem.sqlite3"),
        ("sqlite:///relative/crm.sqlite3", "cwd/relative/crm.sqlite3"),
        ("sqlite:///{tmp}/absolute/crm.sqlite3", "absolute/crm.sqlite3"),
    ],
)
def test_every_sqlite_database_runs_in_wal_with_immediate_transactions_and_a_busy_timeout(
    tmp_path, url, expected_file
):
    (tmp_path / "cwd").mkdir()
    env = {"DATABASE_URL": url.format(tmp=tmp_path)} if url else {}
    result = probe(tmp_path / "cwd", tmp_path / "data", **env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["name"] == str(tmp_path / expected_file)  # absolute, whatever the cwd later
    assert seen["journal_mode"] == "wal"
    assert seen["transaction_mode"] == "IMMEDIATE"
    assert seen["busy_timeout"] == 20_000
    assert seen["synchronous"] == 1  # NORMAL: safe in WAL mode
    assert seen["wal_autocheckpoint"] == 4000  # pages: fewer copies of hot pages under load
    assert seen["test_name"]  # tests run on a file too, never in memory


def test_the_lock_timeout_is_a_setting(tmp_path):
    result = probe(
        tmp_path,
        tmp_path / "data",
        DATABASE_URL=f"sqlite:///{tmp_path}/crm.sqlite3",
        TANDEM_DB_LOCK_TIMEOUT_MS="250",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["busy_timeout"] == 250


@pytest.mark.parametrize("value", ["soon", "0"])
def test_a_bad_lock_timeout_stops_start_up_naming_the_variable(tmp_path, value):
    result = probe(tmp_path, tmp_path / "data", TANDEM_DB_LOCK_TIMEOUT_MS=value)
    assert result.returncode != 0
    assert "TANDEM_DB_LOCK_TIMEOUT_MS" in result.stderr


def test_an_in_memory_database_is_refused_as_the_server_and_worker_cannot_share_it(tmp_path):
    result = probe(tmp_path, tmp_path / "data", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr
    assert "name a file" in result.stderr
