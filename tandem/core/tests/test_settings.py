"""Settings come from the environment only, and a bad value stops start-up naming its variable."""

import os
import subprocess
import sys

import pytest

PROD = {
    "TANDEM_SECRET_KEY": "s3cr3t-Kx9!pQ7zR2vL8mN4wB6yT1uJ5hG0fD3eA-cZ8xV2nM7kL4",
    "TANDEM_ALLOWED_HOSTS": "crm.example.com",
    "DATABASE_URL": "sqlite:////tmp/tandem-settings-test.sqlite3",
}


def run_tandem(args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for their live server; production never does.
        if not k.startswith("TANDEM_") and k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    base.update({"TANDEM_DATA_DIR": "/tmp/tandem-settings-test"}, **env)
    return subprocess.run(
        [sys.executable, "-m", "tandem", *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TANDEM_DEBUG", "maybe"),
        ("TANDEM_BIND", "localhost"),
        ("TANDEM_BIND", "127.0.0.1:99999"),
        ("TANDEM_WEB_WORKERS", "two"),
        ("TANDEM_TASKS", "carrier-pigeon"),
        ("DATABASE_URL", "nonsense://"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value):
    result = run_tandem(["check"], **{**PROD, variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


def test_production_needs_a_secret_key():
    env = {k: v for k, v in PROD.items() if k != "TANDEM_SECRET_KEY"}
    result = run_tandem(["check"], **env)
    assert result.returncode != 0
    assert "TANDEM_SECRET_KEY" in result.stderr


def test_the_migrations_check_needs_no_secrets_but_nothing_else_runs_without_them():
    bare = {"DATABASE_URL": PROD["DATABASE_URL"]}
    checked = run_tandem(["makemigrations", "--check", "--dry-run"], **bare)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    refused = run_tandem(["migrate", "--check"], **bare)
    assert refused.returncode != 0
    assert "TANDEM_SECRET_KEY" in refused.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = run_tandem(["check", "--deploy", "--fail-level", "WARNING"], **PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.mark.parametrize("debug", ["true", "false"])
def test_a_refused_request_is_logged_once(debug: str) -> None:
    """Django's "django" logger had a console of its own besides ours: each 403 came out twice."""
    script = (
        "import logging, django; django.setup();"
        "logging.getLogger('django.request').warning('Forbidden (probe): /x')"
    )
    env = {"TANDEM_DEBUG": debug} if debug == "true" else dict(PROD)
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TANDEM_") and k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    base.update(
        {
            "TANDEM_DATA_DIR": "/tmp/tandem-settings-test",
            "DJANGO_SETTINGS_MODULE": "tandem.settings",
        },
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=base, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("Forbidden (probe)") == 1, done.stderr


def test_a_missing_secret_key_is_one_line_not_a_traceback() -> None:
    result = run_tandem(["token", "list"], TANDEM_ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "TANDEM_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
