#!/usr/bin/env bash
# The whole test suite: lint, migrations check, mypy, then pytest on SQLite and on
# PostgreSQL (TANDEM_TEST_POSTGRES, or a server answering on 127.0.0.1:5432).
# Under CI=true a missing browser or database fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export TANDEM_DATA_DIR="${TANDEM_DATA_DIR:-$PWD/data}"

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
if [ ! -x /usr/bin/chromium ]; then
  if [ "${CI:-}" = "true" ]; then echo "chromium is missing: browser tests cannot run" >&2; exit 1; fi
  echo "!! chromium is missing: browser tests will be skipped (they fail under CI=true)"
fi

echo "== ruff"
$BIN/ruff check .
$BIN/ruff format --check .
echo "== migrations"
TANDEM_DEBUG=true $BIN/tandem makemigrations --check --dry-run >/dev/null
# Types, against the settings of both worlds: the django-stubs plugin loads
# tandem.settings, so development and production (no debug, a key and hosts of
# its own) each type-check the apps, models and settings as they are configured.
echo "== mypy (development settings)"
env -u TANDEM_SECRET_KEY -u TANDEM_ALLOWED_HOSTS TANDEM_DEBUG=true $BIN/mypy tandem
echo "== mypy (production settings)"
env -u TANDEM_DEBUG -u TANDEM_TESTING \
  TANDEM_SECRET_KEY=type-check-only-not-a-deployment-key-0123456789abcdefghij \
  TANDEM_ALLOWED_HOSTS=crm.example.com \
  $BIN/mypy --cache-dir .mypy_cache/production tandem

# The two databases' suites run side by side, each with a data folder of its own; on
# PostgreSQL, whose leg is the longer (its server shares the cores), the API contract
# (tests/test_api_contract.py, a third of that leg) runs as a third process with a test
# database of its own, so the three end about together. Their output is printed when all
# are done. Set TANDEM_TEST_SERIAL=1 to run the databases one after another.
pg_url="${TANDEM_TEST_POSTGRES:-}"
if [ -z "$pg_url" ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  pg_url="postgres://postgres@127.0.0.1:5432/tandem"
fi
if [ -z "$pg_url" ] && [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable (set TANDEM_TEST_POSTGRES): CI needs both databases" >&2
  exit 1
fi
contract=tests/test_api_contract.py
pg_pids=()
pg_logs=()
pg_run() {  # name, then pytest's arguments: one PostgreSQL process in the background
  local log
  log="$(mktemp)"
  mkdir -p "$TANDEM_DATA_DIR/pg-tests-$1"
  TANDEM_DATA_DIR="$TANDEM_DATA_DIR/pg-tests-$1" DATABASE_URL="$pg_url" \
    TANDEM_TEST_DB_NAME="test_tandem_$1" \
    $BIN/pytest -q -p no:cacheprovider "${@:2}" >"$log" 2>&1 &
  pg_pids+=($!)
  pg_logs+=("$log")
}
if [ -n "$pg_url" ] && [ -z "${TANDEM_TEST_SERIAL:-}" ]; then
  echo "== tests on PostgreSQL ($pg_url), side by side with SQLite (output below when done)"
  if [ "$#" = 0 ]; then
    pg_run contract "$contract"
    pg_run rest --ignore="$contract"
  else
    pg_run all "$@"
  fi
fi

echo "== tests on SQLite"
sqlite_status=0
env -u DATABASE_URL $BIN/pytest -q "$@" || sqlite_status=$?

pg_status=0
if [ "${#pg_pids[@]}" != 0 ]; then
  for i in "${!pg_pids[@]}"; do
    wait "${pg_pids[$i]}" || pg_status=$?
    echo "== tests on PostgreSQL ($pg_url), part $((i + 1)) of ${#pg_pids[@]}"
    cat "${pg_logs[$i]}"
    rm -f "${pg_logs[$i]}"
  done
elif [ -n "$pg_url" ]; then
  echo "== tests on PostgreSQL ($pg_url)"
  DATABASE_URL="$pg_url" $BIN/pytest -q "$@" || pg_status=$?
else
  echo "!! PostgreSQL not reachable: ran SQLite only"
fi
if [ "$sqlite_status" != 0 ] || [ "$pg_status" != 0 ]; then
  echo "tests failed: SQLite exit $sqlite_status, PostgreSQL exit $pg_status" >&2
  exit 1
fi
