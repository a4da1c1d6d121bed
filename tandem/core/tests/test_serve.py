"""`tandem serve` is a real production server: it answers over HTTP with production
settings, serves the static files itself, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def production_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Production settings on a data directory migrated and collected once for the module
    (two subprocesses, about 11 s); a test that changes the directory puts it back."""
    tmp_path = tmp_path_factory.mktemp("serve")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TANDEM_", "DJANGO_")) and key != "DATABASE_URL"
    }
    env.update(
        TANDEM_SECRET_KEY="serve-test-" + "k" * 50,
        TANDEM_ALLOWED_HOSTS="127.0.0.1",
        TANDEM_DATA_DIR=str(tmp_path / "data"),
        TANDEM_SSL_REDIRECT="false",
        TANDEM_SECURE_COOKIES="false",
        TANDEM_HSTS_SECONDS="0",
    )
    for command in (["migrate", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([sys.executable, "-m", "tandem", *command], env=env, check=True)
    return env


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http to localhost)
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.mark.timeout(300)  # migrates a fresh database, then starts granian (27 s measured)
def test_serve_answers_with_production_settings_and_stops_on_sigterm(production_env):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "tandem", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=production_env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = get(base + "/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, "the server stopped"
                assert time.monotonic() < deadline, "no answer from tandem serve"
                time.sleep(0.2)
        assert status == 200
        assert get(base + "/readyz")[0] == 200
        status, page = get(base + "/login/")
        assert status == 200 and b"csrfmiddlewaretoken" in page
        status, script = get(base + "/static/capture/embed.js")
        assert status == 200 and script  # whitenoise, no separate file server
        assert get(base + "/no-such-page/")[0] == 404
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0


@pytest.fixture
def uncollected_env(production_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Production settings on a data directory where `collectstatic` never ran."""
    return {**production_env, "TANDEM_DATA_DIR": str(tmp_path / "fresh")}


def serve_until_exit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    port = free_port()
    return subprocess.run(
        [sys.executable, "-m", "tandem", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_serve_without_collected_static_files_stops_at_start_saying_what_to_run(uncollected_env):
    done = serve_until_exit(uncollected_env)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert "Static files are not collected" in lines[0]
    assert "tandem collectstatic --noinput" in lines[0]


def test_serve_with_static_files_older_than_the_code_names_a_missing_file(production_env):
    manifest = Path(production_env["TANDEM_DATA_DIR"]) / "static" / "staticfiles.json"
    collected = manifest.read_text()
    data = json.loads(collected)
    del data["paths"]["tandem/app.css"]  # as if app.css were added after the last collectstatic
    manifest.write_text(json.dumps(data))
    try:
        done = serve_until_exit(production_env)
    finally:
        manifest.write_text(collected)
    assert done.returncode != 0
    assert "out of date" in done.stderr and "tandem/app.css" in done.stderr
    assert "tandem collectstatic --noinput" in done.stderr
