"""Web-form capture under load over real HTTP (issue 4, point 17).

    python -m bench.capture_load --db sqlite|postgres [--submissions 20000] [--concurrency 16]
        [--form guide|plain] [--repeat-share 0.1] [--workers N] [--threads N]
        [--worker-during-load] [--keep] [--load-only]

Sets up a fresh database (SQLite in a temporary TANDEM_DATA_DIR, or the
PostgreSQL database `tandem_capture_bench`, dropped and created again),
migrates, and builds the form through the services: `guide` is the J1 form
(`demo-guide`: names, email, company, title, a newsletter consent with double
opt-in, a campaign); `plain` asks for the same fields with no consent, so no
email is queued. Then it starts `tandem serve` (granian, production settings,
DEBUG off) on 127.0.0.1:8109 with the per-IP and per-form rate limits raised by
setting, and a separate client process keeps `--concurrency` keep-alive
connections busy posting urlencoded forms (as a browser posts them: signed
fill time, UTM tags, consent ticked). Each submission has its own email, except
`--repeat-share` of them, which send an earlier email again in another case
and with spaces around it (the same person: a second touchpoint, not a second
record), sometimes while the first is still in flight.

It reports accepted submissions per second (303 answers), latency
percentiles seen by the client, every other status, the CPU the client used
and how busy the machine was. Then it drains the background work with
`tandem worker --burst` (or, with `--worker-during-load`, a worker runs
during the load and is waited for) and checks exact counts: people ==
distinct emails, touchpoints == accepted submissions, and with the guide form
one consent per person, one consent event and one confirmation email per
submission, and no failed task.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import PG_SERVER, database_label, drop_pg_database, machine_label, use_database

HOST = "127.0.0.1"
PORT = int(os.environ.get("TANDEM_BENCH_PORT", "8109"))  # tandem serve under test
PG_NAME = "tandem_capture_bench"
TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0
COMPANIES = 300  # submissions name one of these companies


# --- the client (a separate process: it shares the two cores with the server) ----------------


async def _client(spec: dict[str, Any]) -> dict[str, Any]:
    host, port, path = spec["host"], spec["port"], spec["path"]
    bodies: list[str] = spec["bodies"]
    warmup = int(spec["warmup"])
    head = (
        f"{spec.get('method', 'POST')} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Origin: http://shop.example.net\r\nReferer: http://shop.example.net/guide\r\n"
        "User-Agent: capture-load/1\r\n"
    )
    requests = [(head + f"Content-Length: {len(b.encode())}\r\n\r\n" + b).encode() for b in bodies]
    statuses = [0] * len(requests)
    latencies = [0.0] * len(requests)
    marks: dict[str, float] = {}

    async def run(indices: Any) -> None:
        reader = writer = None
        for i in indices:
            for attempt in (1, 2):
                started = time.perf_counter()  # a new connection's set-up counts as waiting
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                try:
                    writer.write(requests[i])
                    head_bytes = await reader.readuntil(b"\r\n\r\n")
                except (ConnectionError, asyncio.IncompleteReadError):
                    writer.close()
                    reader = writer = None
                    if attempt == 2:
                        statuses[i] = -1
                    continue
                lower = head_bytes.lower()
                length = 0
                at = lower.find(b"\r\ncontent-length:")
                if at >= 0:
                    length = int(lower[at + 17 : lower.index(b"\r\n", at + 2)])
                if length:
                    await reader.readexactly(length)
                latencies[i] = (time.perf_counter() - started) * 1000
                statuses[i] = int(head_bytes[9:12])
                if b"\r\nconnection: close" in lower:
                    writer.close()
                    reader = writer = None
                break
        if writer is not None:
            writer.close()

    concurrency = int(spec["concurrency"])
    warm = iter(range(warmup))
    await asyncio.gather(*(run(warm) for _ in range(concurrency)))
    timed = iter(range(warmup, len(requests)))
    server_pid = int(spec["server_pid"])
    server0, busy0, client0 = process_cpu_seconds(server_pid), machine_busy(), _cpu_seconds()
    marks["start"] = time.perf_counter()
    await asyncio.gather(*(run(timed) for _ in range(concurrency)))
    marks["end"] = time.perf_counter()
    server1, busy1, client1 = process_cpu_seconds(server_pid), machine_busy(), _cpu_seconds()
    per_process = {pid: server1[pid] - server0.get(pid, 0.0) for pid in server1}
    return {
        "statuses": statuses,
        "latencies_ms": latencies,
        "seconds": marks["end"] - marks["start"],
        "client_cpu_seconds": client1 - client0,
        "server_cpu_seconds": sum(per_process.values()),
        "server_cpu_split": sorted(per_process.values(), reverse=True),
        "machine_busy": (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]),
        "machine_stolen": (busy1[2] - busy0[2]) / max(1, busy1[1] - busy0[1]),
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds used so far by a process and each live descendant (the web server's workers)."""
    out: dict[int, float] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            out[current] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            with open(f"/proc/{current}/task/{current}/children") as children:
                todo += [int(c) for c in children.read().split()]
        except (OSError, ValueError, IndexError):
            continue
    return out


def client_main(spec_path: str, out_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    result = asyncio.run(_client(spec))
    Path(out_path).write_text(json.dumps(result))
    return 0


# --- the workload ---------------------------------------------------------------------------


def make_bodies(
    *, total: int, repeat_share: float, token: str, with_consent: bool, seed: int = 17
) -> tuple[list[str], list[str]]:
    """The posted bodies and, per body, the normalised email it carries."""
    rng = random.Random(seed)
    bodies, emails = [], []
    fresh: list[str] = []
    for n in range(total):
        if fresh and rng.random() < repeat_share:
            email = rng.choice(fresh[-2000:])  # often a recent one: some arrive concurrently
            typed = f"  {email.upper()} "
        else:
            email = f"lead{n:07d}@example.com"
            fresh.append(email)
            typed = email
        fields = {
            "first_name": f"Lee{n % 997}",
            "last_name": f"Load{n % 991}",
            "email": typed,
            "company": f"Company {rng.randrange(COMPANIES)}",
            "title": "Buyer",
            "utm_source": "linkedin",
            "utm_medium": "social",
            "utm_campaign": "spring-guide",
            "page_url": "https://www.example.com/guide?utm_source=linkedin",
            "referrer": "https://www.linkedin.com/",
            "tandem_ts": token,
            "tandem_website": "",
        }
        if with_consent:
            fields["consent_newsletter"] = "on"
        bodies.append(urlencode(fields))
        emails.append(email)
    return bodies, emails


# --- setting up and running -------------------------------------------------------------------


def bench_env(db: str, data_dir: Path, pg_name: str = PG_NAME) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tandem.settings",
        "TANDEM_DEBUG": "false",
        "TANDEM_SECRET_KEY": "capture-bench-secret-key-not-for-production-" + "c" * 24,
        "TANDEM_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TANDEM_SSL_REDIRECT": "false",
        "TANDEM_SECURE_COOKIES": "false",
        "TANDEM_HSTS_SECONDS": "0",
        "TANDEM_DATA_DIR": str(data_dir),
        "TANDEM_BIND": f"{HOST}:{PORT}",
        "TANDEM_BASE_URL": f"http://{HOST}:{PORT}",
        "TANDEM_FORM_RATE_PER_IP": str(10**9),
        "TANDEM_FORM_RATE_PER_FORM": str(10**9),
        "TANDEM_TASKS": "database",
        "TANDEM_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "TANDEM_LOG_LEVEL": "WARNING",
    }
    env.pop("TANDEM_TESTING", None)
    if db == "postgres":
        env["DATABASE_URL"] = f"{PG_SERVER}/{pg_name}"
    else:
        env.pop("DATABASE_URL", None)
    return env


def tandem_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "tandem", *args]


def wait_until_up(proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped (exit {proc.returncode})")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{PORT}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz in time")


def machine_busy() -> tuple[int, int, int]:
    """(busy, total, stolen) jiffies of the whole machine, from /proc/stat; stolen
    is time the virtual machine's cores ran someone else's work."""
    with open("/proc/stat") as stat:
        parts = [int(x) for x in stat.readline().split()[1:]]
    idle, steal = parts[3] + parts[4], parts[7]
    return sum(parts) - idle - steal, sum(parts), steal


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def create_form(kind: str) -> tuple[str, str, bool]:
    """(form key, signed fill time, has consent) for the form under test."""
    from tandem.accounts.actor import Actor
    from tandem.capture import webforms
    from tandem.capture.demo import ensure_demo_guide_form

    actor = Actor.system("bench")
    guide = ensure_demo_guide_form(actor)
    form = guide
    if kind == "plain":
        form = webforms.create_form(
            actor=actor,
            data={
                "name": "Plain guide download",
                "key": "plain-guide",
                "campaign": guide.campaign,
                "source": "Website",
                "fields": guide.fields,
                "double_opt_in": False,
            },
        )
    token = webforms.fill_token(form.key, shown_at=time.time() - 60)
    return form.key, token, kind == "guide"


def count_rows(form_key: str) -> dict[str, int]:
    from django.db.models import Count

    from tandem.campaigns.models import Touchpoint
    from tandem.capture.models import Consent, ConsentEvent, OutboundEmail
    from tandem.people.models import Person, PersonEmail

    counts = {
        "people": Person.objects.count(),
        "emails": PersonEmail.objects.count(),
        "touchpoints": Touchpoint.objects.filter(form__key=form_key).count(),
        "consents": Consent.objects.count(),
        "consent_events": ConsentEvent.objects.count(),
        "outbound_emails": OutboundEmail.objects.count(),
    }
    try:
        from django_tasks_db.models import DBTaskResult

        for row in DBTaskResult.objects.values("status").annotate(n=Count("id")):
            counts[f"tasks_{row['status'].lower()}"] = row["n"]
    except ImportError:
        pass
    try:
        from tandem.capture import inbox

        counts["inbox_waiting"] = inbox.waiting_count()
        counts["inbox_failed"] = inbox.failed_count()
    except (ImportError, AttributeError):
        pass
    return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capture_load", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--submissions", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=500, help="posts before the timed part")
    parser.add_argument("--form", choices=("guide", "plain"), default="guide")
    parser.add_argument("--repeat-share", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=None, help="web server processes")
    parser.add_argument("--threads", type=int, default=None, help="threads per process")
    parser.add_argument("--worker-during-load", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--load-only", action="store_true", help="stop after the load: no drain, no count check"
    )
    parser.add_argument("--client-spec", help=argparse.SUPPRESS)
    parser.add_argument("--client-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client_spec:
        return client_main(args.client_spec, args.client_out)

    work = Path(tempfile.mkdtemp(prefix="capture-bench-"))
    data_dir = work / "data"
    env = bench_env(args.db, data_dir)
    os.environ.clear()
    os.environ.update(env)
    server = worker = None
    try:
        use_database(args.db, pg_name=PG_NAME, sqlite_folder=str(data_dir), keep=False)
        subprocess.run(tandem_cmd("collectstatic", "--noinput", "-v", "0"), env=env, check=True)
        key, token, with_consent = create_form(args.form)
        total = args.warmup + args.submissions
        bodies, emails = make_bodies(
            total=total, repeat_share=args.repeat_share, token=token, with_consent=with_consent
        )
        spec = {
            "host": HOST,
            "port": PORT,
            "path": f"/f/{key}",
            "bodies": bodies,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
        }
        spec_path, out_path = work / "spec.json", work / "out.json"

        serve = ["serve"]
        if args.workers:
            serve += ["--workers", str(args.workers)]
        if args.threads:
            serve += ["--threads", str(args.threads)]
        server = subprocess.Popen(tandem_cmd(*serve), env=env)
        wait_until_up(server)
        spec["server_pid"] = server.pid
        spec_path.write_text(json.dumps(spec))
        if args.worker_during_load:
            worker = subprocess.Popen(tandem_cmd("worker"), env=env, stdout=subprocess.DEVNULL)

        print(f"Machine:  {machine_label()}")
        print(f"Database: {database_label()}")
        print(
            f"Form:     {key} ({'double opt-in consent' if with_consent else 'no consent'}), "
            f"{args.submissions:,} timed posts after {args.warmup:,} warm-up, "
            f"{args.concurrency} connections, {args.repeat_share:.0%} repeated emails, "
            f"server: tandem serve {' '.join(serve[1:]) or '(defaults)'}"
            + (", worker running during the load" if worker else "")
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.capture_load",
                "--client-spec",
                str(spec_path),
                "--client-out",
                str(out_path),
            ],
            check=True,
        )
        result = json.loads(out_path.read_text())
        statuses: list[int] = result["statuses"]
        timed_lat = result["latencies_ms"][args.warmup :]
        timed_status = statuses[args.warmup :]
        accepted = sum(1 for s in timed_status if s == 303)
        others: dict[int, int] = {}
        for s in timed_status:
            if s != 303:
                others[s] = others.get(s, 0) + 1
        seconds = result["seconds"]
        ok_lat = [lat for lat, s in zip(timed_lat, timed_status, strict=True) if s == 303]
        rate = accepted / seconds
        p50, p95, p99 = (percentile(ok_lat, q) for q in (50, 95, 99))
        print()
        print(f"accepted: {accepted:,} in {seconds:.2f} s = {rate:,.0f} submissions/s")
        print(
            f"latency:  p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, "
            f"max {max(ok_lat, default=0):.1f} ms"
        )
        print(f"other answers: {others or 'none'}")
        posts = len(timed_status)
        print(
            f"CPU per post: server {result['server_cpu_seconds'] * 1000 / posts:.2f} ms, "
            f"client {result['client_cpu_seconds'] * 1000 / posts:.2f} ms; "
            f"machine {result['machine_busy']:.0%} busy, {result['machine_stolen']:.0%} stolen "
            "by the host during the load (all processes, both cores)"
        )
        split = result["server_cpu_split"]
        print(
            "server CPU by process (web server and its workers): "
            + ", ".join(f"{seconds / max(sum(split), 1e-9):.0%}" for seconds in split)
        )
        verdict = rate >= TARGET_RATE and p99 <= TARGET_P99_MS and not others
        print(
            f"target ≥ {TARGET_RATE:,.0f}/s with p99 ≤ {TARGET_P99_MS:.0f} ms: "
            f"{'met' if verdict else 'NOT met'}"
        )

        server.terminate()
        server.wait(30)
        server = None
        if args.load_only:
            return 0
        started = time.perf_counter()
        if worker is not None:
            _wait_for_tasks(worker)
            worker = None
        else:
            subprocess.run(
                tandem_cmd("worker", "--burst"), env=env, check=True, stdout=subprocess.DEVNULL
            )
        drained = time.perf_counter() - started
        print(f"background work drained in {drained:.1f} s after the load")

        accepted_emails = [e for e, s in zip(emails, statuses, strict=True) if s == 303]
        expected = {
            "people": len(set(accepted_emails)),
            "emails": len(set(accepted_emails)),
            "touchpoints": len(accepted_emails),
        }
        if with_consent:
            expected |= {
                "consents": expected["people"],
                "consent_events": len(accepted_emails),
                "outbound_emails": len(accepted_emails),
            }
        counts = count_rows(key)
        exact = all(counts.get(k) == v for k, v in expected.items())
        exact = exact and not any(
            counts.get(k) for k in ("tasks_failed", "inbox_waiting", "inbox_failed")
        )
        print(f"expected: {expected}")
        print(f"counted:  {counts}")
        print(f"exact counts: {'yes' if exact else 'NO'}")
        return 0 if exact else 1
    finally:
        for proc in (server, worker):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(30)
        from django.db import connections

        connections.close_all()
        if args.db == "postgres" and not args.keep:
            drop_pg_database(PG_NAME)
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _wait_for_tasks(worker: subprocess.Popen[bytes]) -> None:
    """Wait until the running worker has nothing left to do, then stop it."""
    from django_tasks_db.models import DBTaskResult

    while DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
        time.sleep(0.5)
    worker.terminate()
    worker.wait(30)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
