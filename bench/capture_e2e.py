"""Web-form capture end to end, with the worker running, against the floor app (issue 17, point 1).

    python -m bench.capture_e2e --db sqlite|postgres [--duration 10] [--connections 16]
        [--floor-dir ../shared/bench/capture-floor] [--conn-max-age SECONDS] [--keep]

One command, two servers, the same `wrk` line against each:

1. The floor: `floorapp.py` (the least a Django view can do per post: one
   upsert and one insert on SQLite) under `gunicorn -w 2` on 127.0.0.1:8199,
   with `wrk -t 2 -c N -d Ds -s post.lua` from the floor's folder.
2. Tandem as in production: `tandem serve` and `tandem worker` both up on a
   fresh database (SQLite in a temporary TANDEM_DATA_DIR, or the PostgreSQL
   database `tandem_capture_e2e_bench`), rate limits lifted by their settings,
   and the same `wrk` line posting the J1 form `/f/demo-guide` as a browser
   does (a new email per post, a company from 300, the newsletter consent
   ticked: double opt-in, so one confirmation email per post, signed fill
   time, UTM tags).

While wrk runs, a probe posts one more submission every PROBE_EVERY seconds
on its own connection, and one reader asks the API every 0.2 s while probes
wait (GET /api/v1/people?q=probe&updated_since=..., with a read token: one
request for all the probes waiting, of the people changed since shortly before
the oldest of them was posted) which of them are people yet: the time from a post's answer to its
person being visible. After wrk, the command waits until the last post is a
person and the worker has nothing left, then checks exact counts.

Reported side by side: accepted posts/s and p99 for both (wrk's figures),
captured end to end per second (posts stored, divided by the time from the
first post until the last of them is a person: the newest person's
created_at), the probe's p50/p95/max, and the ratios to the floor against the
targets. wrk stops at the end of its duration with posts in flight: the
server may still store those (it was sent them), so the exact check is that
every post wrk counted as answered is a person, nothing else is, and each
stored post has exactly one touchpoint, consent event and confirmation email.
Exit status 0 when every target is met.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from bench.capture_load import (
    HOST,
    PORT,
    bench_env,
    machine_busy,
    percentile,
    process_cpu_seconds,
    tandem_cmd,
    wait_until_up,
)
from bench.common import database_label, drop_pg_database, machine_label, stop, use_database

FLOOR_PORT = int(os.environ.get("TANDEM_BENCH_FLOOR_PORT", "8199"))
PG_NAME = "tandem_capture_e2e_bench"
PROBE_EVERY = 0.25  # seconds between two probe posts
PROBE_POLL = 0.2  # seconds between two API reads (one read covers every probe waiting)


def default_floor_dir() -> Path:
    """TANDEM_BENCH_FLOOR_DIR, else the first `shared/bench/capture-floor` above this checkout."""
    if os.environ.get("TANDEM_BENCH_FLOOR_DIR"):
        return Path(os.environ["TANDEM_BENCH_FLOOR_DIR"])
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "bench" / "capture-floor"
        if candidate.is_dir():
            return candidate
    return Path("capture-floor")


# Targets: ratios to the floor measured in the same run (the machine is shared and noisy).
@dataclass(frozen=True)
class Targets:
    accepted: float  # × the floor's accepted posts/s
    end_to_end: float  # × the floor's
    visible_p95_s: float
    p99_ms: float | None


TARGETS = {
    "sqlite": Targets(accepted=0.8, end_to_end=0.8, visible_p95_s=2.0, p99_ms=50.0),
    "postgres": Targets(accepted=0.5, end_to_end=0.5, visible_p95_s=2.0, p99_ms=None),
}

# The wrk script for Tandem: the floor's post.lua, plus what a browser posts on the J1 form.
# Each thread keeps its counter, read back in done() to know which emails were sent.
TANDEM_LUA = """
counter = 0
local threads = {}
local n = 0
function setup(thread)
  n = n + 1
  thread:set("tid", n)
  table.insert(threads, thread)
end
function init(args) counter = 0 end
-- A name of letters from the counter: people differ, as visitors do (the same name at
-- the same company would make every post a likely duplicate of the others).
local function letters(n)
  local s = ""
  repeat
    s = string.char(97 + n % 26) .. s
    n = math.floor(n / 26)
  until n == 0
  return string.upper(s:sub(1, 1)) .. s:sub(2)
end
function request()
  counter = counter + 1
  local body = "first_name=" .. letters(counter * 7919 + tid) .. "&last_name=" ..
    letters(counter * 104729 + tid * 31) .. "&email=load" .. tid .. "x" .. counter ..
    "%40example.com&company=Company+" .. (counter % 300) .. "&title=Buyer" ..
    "&consent_newsletter=on&tandem_website=&tandem_ts=__TOKEN__" ..
    "&utm_source=linkedin&utm_medium=social&utm_campaign=spring-guide" ..
    "&page_url=https%3A%2F%2Fwww.example.com%2Fguide&referrer=https%3A%2F%2Fwww.linkedin.com%2F"
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx3xx=%d errors=%d p99_ms=%.1f\\n",
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(99) / 1000))
  for _, t in ipairs(threads) do
    io.write(string.format("SENT tid=%d count=%d\\n", t:get("tid"), t:get("counter")))
  end
end
"""


def run_wrk(url: str, script: Path, *, connections: int, duration: int) -> dict[str, Any]:
    """Run wrk; its RESULT line, Requests/sec and (Tandem's script) the SENT lines."""
    done = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=script.parent,
    )
    out = done.stdout
    if done.returncode:
        raise SystemExit(f"wrk failed (exit {done.returncode}):\n{out}\n{done.stderr}")
    found = re.search(r"RESULT requests=(\d+) non2xx3xx=(\d+) errors=(\d+) p99_ms=([\d.]+)", out)
    per_second = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found or not per_second:
        raise SystemExit(f"wrk gave no result:\n{out}")
    requests, non_ok, errors = (int(found.group(i)) for i in (1, 2, 3))
    seconds = requests / float(per_second.group(1)) if requests else float(duration)
    return {
        "requests": requests,
        "accepted": requests - non_ok,
        "non_ok": non_ok,
        "errors": errors,
        "p99_ms": float(found.group(4)),
        "seconds": seconds,
        "rate": (requests - non_ok) / seconds,
        "sent": {int(t): int(c) for t, c in re.findall(r"SENT tid=(\d+) count=(\d+)", out)},
    }


def wait_for_port(port: int, proc: subprocess.Popen[bytes], path: str = "/") -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server on port {port} stopped (exit {proc.returncode})")
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port} in time")


# --- the floor ----------------------------------------------------------------------------------


def run_floor(floor_dir: Path, work: Path, *, connections: int, duration: int) -> dict[str, Any]:
    db = work / "floor.sqlite3"
    env = {**os.environ, "DATABASE": str(db)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"{HOST}:{FLOOR_PORT}", "floorapp:app"],
        cwd=floor_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(FLOOR_PORT, proc, "/counts")
        result = run_wrk(
            f"http://{HOST}:{FLOOR_PORT}/f/floor",
            floor_dir / "post.lua",
            connections=connections,
            duration=duration,
        )
        with urllib.request.urlopen(f"http://{HOST}:{FLOOR_PORT}/counts", timeout=10) as r:
            people, touchpoints = (int(x) for x in r.read().decode().split())
        result |= {"people": people, "touchpoints": touchpoints}
        result["end_to_end_rate"] = result["rate"]  # the floor captures in the request
        return result
    finally:
        stop(proc)


# --- Tandem -------------------------------------------------------------------------------------


def setup_tandem(*, scoring: bool = True) -> tuple[str, str, str]:
    """Build the J1 form, make a read token: (form key, raw token, fill token).

    `scoring`: the demo's rule set is active, so every drained batch is also scored
    (issue 19: capture end to end within 10% of its figure without scoring)."""
    from bench.capture_load import create_form
    from tandem.accounts.actor import Actor
    from tandem.accounts.models import Role
    from tandem.accounts.services import create_token, create_user

    key, fill, _ = create_form("guide")
    actor = Actor.system("bench")
    user = create_user(
        actor=actor, username="bench-admin", password=None, data={"role": Role.ADMIN}
    )
    _, raw = create_token(actor=actor, user=user, name="bench", scope="read")
    if scoring:
        from tandem.scoring.demo import load_demo_rules

        load_demo_rules(actor)
    return key, raw, fill


class Probe:
    """Posts one submission every PROBE_EVERY seconds while the load runs, and times how
    long after the post's answer its person shows in the API."""

    def __init__(self, key: str, token: str, fill: str) -> None:
        self.key, self.token, self.fill = key, token, fill
        self.stop = threading.Event()
        self.visible: list[float] = []  # seconds from answer to visible
        self.accepted: list[str] = []
        self.refused: dict[str, int] = {}
        self.lost: list[str] = []
        self.threads: list[threading.Thread] = []
        self.waiting: dict[str, float] = {}  # accepted, not seen yet: when answered
        self.posted: dict[str, dt.datetime] = {}  # when each was sent (UTC, this machine's clock)
        self.lock = threading.Lock()
        self.posting_done = False
        self.watcher: threading.Thread

    def _post(self, email: str) -> int:
        body = urlencode(
            {
                "first_name": "Probe",
                "last_name": "Person",
                "email": email,
                "company": "Probe Co",
                "consent_newsletter": "on",
                "tandem_ts": self.fill,
                "tandem_website": "",
            }
        ).encode()
        request = urllib.request.Request(
            f"http://{HOST}:{PORT}/f/{self.key}",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=30) as r:
                return int(r.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def _visible(self, since: dt.datetime) -> set[str]:
        """The probe people the API shows now: one read for all the probes waiting (a
        read per probe would itself load the server while captures lag), of the people
        changed since `since`, as a client syncing changes asks (a read of every probe
        so far cost the web server 20 ms of CPU at the end of a burst, 10 times a second:
        the instrument's own load, not the captures')."""
        query = urlencode(
            {
                "q": "probe",
                "updated_since": since.strftime("%Y-%m-%dT%H:%M:%S"),
                "sort": "-created_at",
                "limit": 200,
            }
        )
        request = urllib.request.Request(
            f"http://{HOST}:{PORT}/api/v1/people?{query}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 (http://127.0.0.1 only)
            return {item["email"] for item in json.loads(r.read())["items"]}

    def _one(self, n: int) -> None:
        email = f"probe{n:05d}@example.net"
        posted = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        status = self._post(email)
        answered = time.perf_counter()
        if status != 303:
            self.refused[str(status)] = self.refused.get(str(status), 0) + 1
            return
        with self.lock:
            self.accepted.append(email)
            self.waiting[email] = answered
            self.posted[email] = posted

    def _watch(self) -> None:
        """Read the API every PROBE_POLL seconds until every accepted probe is seen."""
        deadline = None
        while True:
            with self.lock:
                oldest = min((self.posted[e] for e in self.waiting), default=None)
            # Nothing waiting, nothing to read; the server shares this machine's clock, and
            # a second's margin covers the second its timestamps are cut to.
            seen = self._visible(oldest - dt.timedelta(seconds=2)) if oldest else set()
            now = time.perf_counter()
            with self.lock:
                for email in [e for e in self.waiting if e in seen]:
                    self.visible.append(now - self.waiting.pop(email))
                if self.posting_done and all(not t.is_alive() for t in self.threads):
                    deadline = deadline or now + 120
                    if not self.waiting or now > deadline:
                        self.lost = sorted(self.waiting)
                        return
            time.sleep(PROBE_POLL)

    def run(self, start_after: float, seconds: float) -> None:
        watcher = threading.Thread(target=self._watch, daemon=True)
        time.sleep(start_after)
        watcher.start()
        end = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < end and not self.stop.is_set():
            thread = threading.Thread(target=self._one, args=(n,), daemon=True)
            thread.start()
            self.threads.append(thread)
            n += 1
            time.sleep(PROBE_EVERY)
        self.posting_done = True
        self.watcher = watcher

    def join(self) -> None:
        for thread in self.threads:
            thread.join(150)
        self.watcher.join(150)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _counts(key: str) -> dict[str, int]:
    from django.db.models import Count

    from bench.capture_load import count_rows
    from tandem.people.models import Person

    counts = count_rows(key)
    counts["people_emails"] = (
        Person.objects.values("email").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    return counts


def _wait_captured(expected_at_least: int, *, quiet_seconds: float = 20.0) -> None:
    """Until at least `expected_at_least` people exist and nothing waits in the inbox
    (or no progress for `quiet_seconds`)."""
    from tandem.capture import inbox
    from tandem.people.models import Person

    last, since = -1, time.monotonic()
    while True:
        people = Person.objects.count()
        if people >= expected_at_least and not inbox.waiting_count():
            return
        if people != last:
            last, since = people, time.monotonic()
        elif time.monotonic() - since > quiet_seconds:
            print(f"  no progress for {quiet_seconds:.0f} s ({people:,} people); counting anyway")
            return
        time.sleep(0.1)


def _wait_drain_loop(worker: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    """Until the worker's own drain loop runs (its heartbeat file is fresh): on a loaded
    machine the worker's start-up (system checks, imports) takes longer than the pause."""
    from tandem.capture import inbox

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and worker.poll() is None:
        if inbox.drain_loop_alive_anywhere():
            return
        time.sleep(0.2)


def _wait_tasks(quiet_seconds: float = 60.0) -> None:
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + quiet_seconds
    while time.monotonic() < deadline:
        if not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
            return
        time.sleep(0.2)


def run_tandem(
    db: str,
    work: Path,
    *,
    connections: int,
    duration: int,
    server_args: list[str],
    pg_name: str,
    with_worker: bool = True,
    scoring: bool = True,
) -> dict[str, Any]:
    env = bench_env(db, work / "data", pg_name)
    os.environ.clear()
    os.environ.update(env)
    use_database(db, pg_name=pg_name, sqlite_folder=str(work / "data"), keep=False)
    key, token, fill = setup_tandem(scoring=scoring)
    subprocess.run(tandem_cmd("collectstatic", "--noinput", "-v", "0"), env=env, check=True)
    script = work / "tandem.lua"
    script.write_text(TANDEM_LUA.replace("__TOKEN__", quote(fill, safe="")))
    server = worker = None
    try:
        server = subprocess.Popen(tandem_cmd("serve", *server_args), env=env)
        wait_until_up(server)
        worker = subprocess.Popen(
            tandem_cmd("worker") if with_worker else [sys.executable, "-c", "input()"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(2)  # the worker's start-up (imports, first poll) is not part of the burst
        if with_worker:
            _wait_drain_loop(worker)
        if server.poll() is not None or worker.poll() is not None:
            raise SystemExit("tandem serve or tandem worker stopped at start-up")
        from django.db import connection

        connection.close()
        probe = Probe(key, token, fill)
        prober = threading.Thread(target=probe.run, args=(1.0, max(1.0, duration - 2.0)))
        cpu0 = (
            sum(process_cpu_seconds(server.pid).values()),
            sum(process_cpu_seconds(worker.pid).values()),
            machine_busy(),
        )
        started = time.time()
        prober.start()
        result = run_wrk(
            f"http://{HOST}:{PORT}/f/{key}", script, connections=connections, duration=duration
        )
        busy1 = machine_busy()
        result["cpu"] = {
            "server": sum(process_cpu_seconds(server.pid).values()) - cpu0[0],
            "worker": sum(process_cpu_seconds(worker.pid).values()) - cpu0[1],
            "machine_busy": (busy1[0] - cpu0[2][0]) / max(1, busy1[1] - cpu0[2][1]),
        }
        prober.join()
        if not with_worker:  # the worker starts after the load: what is left is drained then
            stop(worker)
            worker = subprocess.Popen(
                tandem_cmd("worker"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        probe.join()
        sent = {
            f"load{t}x{c}@example.com" for t, n in result["sent"].items() for c in range(1, n + 1)
        }
        _wait_captured(result["accepted"] + len(probe.accepted))
        from django.db.models import Max

        from tandem.people.models import Person

        last_person = Person.objects.aggregate(Max("created_at"))["created_at__max"]
        end_to_end = last_person.timestamp() - started if last_person else float("inf")
        _wait_tasks()
        if worker is not None:  # all its work for the burst: captures, emails, duplicate checks
            result["cpu"]["worker_total"] = sum(process_cpu_seconds(worker.pid).values()) - cpu0[1]
        stored_emails = set(
            Person.objects.filter(email__startswith="load").values_list("email", flat=True)
        )
        counts = _counts(key)
        worker_errors = b""
        stop(worker)
        if worker is not None and worker.stderr is not None:
            worker_errors = worker.stderr.read()
        worker = None
        stored = len(stored_emails) + len(probe.accepted)
        result |= {
            "end_to_end_seconds": end_to_end,
            "end_to_end_rate": stored / end_to_end,
            "stored": stored,
            "counts": counts,
            "probe": probe,
            "stray": len(stored_emails - sent),
            "worker_errors": "\n".join(
                line
                for line in worker_errors.decode(errors="replace").splitlines()
                if "state=SUCCESSFUL" not in line
                and "state=RUNNING" not in line
                and "shutting down" not in line
            )[-3000:],
        }
        expected = {
            "people": stored,
            "emails": stored,
            "touchpoints": stored,
            "consents": stored,
            "consent_events": stored,
            "outbound_emails": stored,
        }
        result["expected"] = expected
        result["exact"] = (
            all(counts.get(k) == v for k, v in expected.items())
            and not any(
                counts.get(k)
                for k in ("tasks_failed", "inbox_waiting", "inbox_failed", "people_emails")
            )
            and result["accepted"] <= len(stored_emails) <= len(sent)
            and not result["stray"]
            and not probe.lost
        )
        return result
    finally:
        stop(worker)
        stop(server)
        from django.db import connections as databases

        databases.close_all()


# --- the report ----------------------------------------------------------------------------------


def report(db: str, floor: dict[str, Any], tandem: dict[str, Any]) -> bool:
    probe: Probe = tandem["probe"]
    targets = TARGETS[db]
    visible_p50 = percentile(probe.visible, 50)
    visible_p95 = percentile(probe.visible, 95)
    accepted_ratio = tandem["rate"] / floor["rate"]
    e2e_ratio = tandem["end_to_end_rate"] / floor["end_to_end_rate"]
    print()
    print(f"Machine:  {machine_label()}, {_cpu_model()}")
    print(f"Database: {database_label()} (the floor app: SQLite)")
    print(f"Date:     {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print()
    rows = [
        ("accepted posts/s", f"{floor['rate']:,.0f}", f"{tandem['rate']:,.0f}", accepted_ratio),
        ("p99 (ms)", f"{floor['p99_ms']:.1f}", f"{tandem['p99_ms']:.1f}", None),
        (
            "captured end to end/s",
            f"{floor['end_to_end_rate']:,.0f}",
            f"{tandem['end_to_end_rate']:,.0f} ({tandem['end_to_end_seconds']:.1f} s)",
            e2e_ratio,
        ),
        ("non-3xx answers, errors", f"{floor['non_ok']}, {floor['errors']}",
         f"{tandem['non_ok']}, {tandem['errors']}", None),
    ]  # fmt: skip
    print(f"{'':28} {'floor':>12} {'Tandem':>22} {'ratio':>7}")
    for label, a, b, ratio in rows:
        print(f"{label:28} {a:>12} {b:>22} {'' if ratio is None else f'{ratio:.2f}x':>7}")
    print(
        f"post answered → person in the API ({len(probe.visible)} probes during the burst): "
        f"p50 {visible_p50:.2f} s, p95 {visible_p95:.2f} s, max {max(probe.visible, default=0):.2f} s"
        + (f"; refused {probe.refused}" if probe.refused else "")
        + (f"; never seen {len(probe.lost)}" if probe.lost else "")
    )
    print(
        f"posts stored {tandem['stored']:,} (wrk counted {tandem['accepted']:,} answered; "
        f"the rest were in flight when wrk stopped), probes {len(probe.accepted)}"
    )
    cpu = tandem["cpu"]
    print(
        f"CPU during the load: web server {cpu['server']:.1f} s, worker {cpu['worker']:.1f} s; "
        f"machine {cpu['machine_busy']:.0%} busy (all processes, both cores)"
    )
    if "worker_total" in cpu:
        stored = max(1, tandem["stored"])
        print(
            f"CPU per post: web server {cpu['server'] * 1000 / stored:.2f} ms during the load; "
            f"worker {cpu['worker_total'] * 1000 / stored:.2f} ms until its last task "
            f"(captures, emails, duplicate checks)"
        )
    print(f"expected: {tandem['expected']}")
    print(f"counted:  {tandem['counts']}")
    print(f"exact counts: {'yes' if tandem['exact'] else 'NO'}")
    if tandem["worker_errors"].strip():
        print(f"worker stderr (tail):\n{tandem['worker_errors']}")
    checks = [
        (f"accepted ≥ {targets.accepted}× floor", accepted_ratio >= targets.accepted),
        (f"end to end ≥ {targets.end_to_end}× floor", e2e_ratio >= targets.end_to_end),
        (
            f"visible p95 ≤ {targets.visible_p95_s} s",
            bool(probe.visible) and visible_p95 <= targets.visible_p95_s,
        ),
        ("exact counts", tandem["exact"]),
    ]
    if targets.p99_ms is not None:
        p99_ok = tandem["p99_ms"] <= targets.p99_ms
        checks.insert(1, (f"p99 ≤ {targets.p99_ms:.0f} ms", p99_ok))
    print("targets: " + "; ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in checks))
    return all(ok for _, ok in checks)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu unknown"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capture_e2e", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--floor-dir", type=Path, default=default_floor_dir())
    parser.add_argument("--pg-name", default=PG_NAME, help="PostgreSQL database to (re)create")
    parser.add_argument("--workers", type=int, default=None, help="tandem serve --workers")
    parser.add_argument("--threads", type=int, default=None, help="tandem serve --threads")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="TANDEM_CONN_MAX_AGE for tandem serve and tandem worker (0: a connection a request)",
    )
    parser.add_argument(
        "--no-scoring",
        action="store_true",
        help="no active rule set (by default the demo's rules score every drained batch)",
    )
    parser.add_argument(
        "--worker-after-load",
        action="store_true",
        help="for comparison: start the worker only after the load (posts wait in the inbox)",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    if not (args.floor_dir / "floorapp.py").exists():
        raise SystemExit(f"no floorapp.py in {args.floor_dir} (give --floor-dir)")
    if args.conn_max_age is not None:
        os.environ["TANDEM_CONN_MAX_AGE"] = str(args.conn_max_age)
    server_args = []
    if args.workers:
        server_args += ["--workers", str(args.workers)]
    if args.threads:
        server_args += ["--threads", str(args.threads)]
    work = Path(tempfile.mkdtemp(prefix="capture-e2e-"))
    try:
        print(
            f"floor: gunicorn -w 2 floorapp:app, wrk -t 2 -c {args.connections} -d {args.duration}s"
        )
        floor = run_floor(
            args.floor_dir, work, connections=args.connections, duration=args.duration
        )
        print(f"  {floor['rate']:,.0f} posts/s, p99 {floor['p99_ms']:.1f} ms")
        print(
            f"Tandem: tandem serve {' '.join(server_args) or '(defaults)'} + tandem worker, "
            f"same wrk line on /f/demo-guide, "
            f"{'no active rule set' if args.no_scoring else 'the demo rule set active'}, "
            f"CONN_MAX_AGE={os.environ.get('TANDEM_CONN_MAX_AGE', '600 (default)')}"
        )
        tandem = run_tandem(
            args.db,
            work,
            connections=args.connections,
            duration=args.duration,
            server_args=server_args,
            pg_name=args.pg_name,
            with_worker=not args.worker_after_load,
            scoring=not args.no_scoring,
        )
        return 0 if report(args.db, floor, tandem) else 1
    finally:
        if args.db == "postgres" and not args.keep:
            drop_pg_database(args.pg_name)
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
