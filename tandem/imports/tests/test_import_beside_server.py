"""An import runs while the web server takes form posts and the worker drains them, the way
production runs (`tandem serve` + `tandem worker`), on the database named by DATABASE_URL:
the CLI import and the wizard's (over HTTP, run by the worker) both complete, every post is
accepted, and afterwards people == distinct emails of all three sources, no task failed."""

from __future__ import annotations

import http.client
import http.cookiejar
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db.models import Count
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django_tasks_db.models import DBTaskResult

from conftest import make_user
from tandem.accounts.actor import Actor
from tandem.accounts.models import Role
from tandem.campaigns.models import Touchpoint
from tandem.capture import webforms
from tandem.capture.demo import ensure_demo_guide_form
from tandem.imports.models import ImportJob, ImportStatus
from tandem.imports.tests.factories import write_csv
from tandem.imports.tests.processes import (
    PORT_CONCURRENCY_TEST,
    ROOT,
    child_env,
    stop,
    tandem,
    wait_until_up,
)
from tandem.people.models import PersonEmail

CLI_ROWS = 3000
WIZARD_ROWS = 1500
POSTERS = 2
MIN_POSTS = 30  # posts go on at least this long, and until both imports are over
# Each wait below: generous for a loaded machine (about 30 s in all on an idle 2-core one).
WAIT = 120
POST_PAUSE = 0.5  # seconds between two posts of one poster
BASE = f"http://127.0.0.1:{PORT_CONCURRENCY_TEST}"


def people_rows(prefix: str, count: int, *, shared_every: int) -> list[list[str]]:
    """A file's rows; every `shared_every`-th email is also posted through the form."""
    rows = [["Email", "First Name", "Last Name", "Company"]]
    for i in range(count):
        email = f"shared{i}@example.com" if i % shared_every == 0 else f"{prefix}{i}@example.com"
        rows.append([email, f"{prefix.title()}{i}", "Import", f"Corp {i % 400}"])
    return rows


class _FormFields(HTMLParser):
    """The values a browser would post from the page's own form (not the menu's logout)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._first_option: str | None = None
        self._chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post" and not self.fields:
            self._in_form = a.get("action", "") in ("", self.path)
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "file"):
                self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select, self._first_option, self._chosen = a.get("name"), None, False
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a and not self._chosen:
                self.fields.append((self._select, a.get("value", "")))
                self._chosen = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if not self._chosen and self._first_option is not None:
                self.fields.append((self._select, self._first_option))
            self._select = None
        elif tag == "form" and self._in_form:
            self._in_form = False


class Browser:
    """A logged-in user's session over real HTTP (cookies and CSRF tokens as a browser)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path: str, data: bytes | None = None, content_type: str = "") -> Any:
        request = urllib.request.Request(BASE + path, data=data)  # noqa: S310 (our server)
        if content_type:
            request.add_header("Content-Type", content_type)
        request.add_header("Referer", BASE + path)
        try:
            return self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as err:
            errors = re.findall(r'class="error[^"]*"[^>]*>(.*?)</', err.read().decode(), re.S)
            raise AssertionError(f"{path}: {err.code} {errors}") from None

    def form_of(self, path: str) -> list[tuple[str, str]]:
        parser = _FormFields(path)
        parser.feed(self.open(path).read().decode())
        return parser.fields

    def post(self, path: str, fields: list[tuple[str, str]], *, files: dict | None = None) -> str:
        if files:
            body = encode_multipart(BOUNDARY, {**dict(fields), **files})
            response = self.open(path, body, MULTIPART_CONTENT)
        else:
            body = urllib.parse.urlencode(fields).encode()
            response = self.open(path, body, "application/x-www-form-urlencoded")
        self.last_page = response.read().decode()
        return response.geturl()

    def csrf(self, path: str) -> list[tuple[str, str]]:
        page = self.open(path).read().decode()
        return [
            (
                "csrfmiddlewaretoken",
                re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[0],
            )
        ]


def post_forms(key: str, token: str, stop_event: threading.Event, n: int, out: dict) -> None:
    """One poster: a keep-alive connection posting new leads (and shared emails) until told."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT_CONCURRENCY_TEST, timeout=60)
    i = 0
    while i < MIN_POSTS // POSTERS or not stop_event.is_set():
        email = f"shared{i * 10}@example.com" if i % 7 == 0 else f"form{n}-{i}@example.com"
        body = urllib.parse.urlencode(
            {
                "first_name": f"Form{i}",
                "last_name": f"Poster{n}",
                "email": email,
                "company": f"Corp {i % 400}",
                "title": "Buyer",
                "consent_newsletter": "on",
                "tandem_ts": token,
                "tandem_website": "",
            }
        )
        conn.request(
            "POST",
            f"/f/{key}",
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        response.read()
        out.setdefault(response.status, []).append(email)
        i += 1
        # A steady stream the worker keeps up with: this test is about sharing the database.
        # (Posts without a pause queue a drain task every 0.25 s per web process; on a busy
        # machine the worker falls hundreds of tasks behind, and the queue takes minutes
        # to empty after the last post.)
        time.sleep(POST_PAUSE)


def queue() -> list[dict]:
    """What the worker has to do, by task and state (for a failure's message)."""
    return list(DBTaskResult.objects.values("task_path", "status").annotate(n=Count("id")))


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_imports_beside_the_server_and_the_worker_complete_with_exact_counts(tmp_path):
    actor = Actor.system("test")
    form = ensure_demo_guide_form(actor)
    token = webforms.fill_token(form.key, shown_at=time.time() - 60)
    marketer = make_user("mia", Role.MARKETER)
    # The server checks passwords with production's hasher, not the tests' fast one.
    marketer.password = PBKDF2PasswordHasher().encode("pw-mia", PBKDF2PasswordHasher().salt())
    marketer.save(update_fields=["password"])
    cli_file = write_csv(tmp_path / "fair.csv", people_rows("fair", CLI_ROWS, shared_every=10))
    wizard_file = tmp_path / "webinar.csv"
    write_csv(wizard_file, people_rows("webinar", WIZARD_ROWS, shared_every=15))

    env = child_env(tmp_path)
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("serve", "worker", "cli")}
    server = subprocess.Popen(
        tandem("serve", "--bind", f"127.0.0.1:{PORT_CONCURRENCY_TEST}", "--workers", "1"),
        env=env, cwd=ROOT, stdout=logs["serve"], stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        tandem("worker"), env=env, cwd=ROOT, stdout=logs["worker"], stderr=subprocess.STDOUT
    )
    posters: list[threading.Thread] = []
    done_posting = threading.Event()
    statuses: dict[int, list[str]] = {}
    try:
        wait_until_up(server, BASE)
        browser = Browser()
        login = browser.form_of("/login/")
        login = [(k, v) for k, v in login if k not in ("username", "password")]
        browser.post("/login/", [*login, ("username", "mia"), ("password", "pw-mia")])

        for n in range(POSTERS):
            posters.append(
                threading.Thread(
                    target=post_forms, args=(form.key, token, done_posting, n, statuses)
                )
            )
            posters[-1].start()

        cli = subprocess.Popen(
            tandem("import", "--skip-checks", "people", str(cli_file), "--batch-size", "250"),
            env=env, cwd=ROOT, stdout=logs["cli"], stderr=subprocess.STDOUT,
        )  # fmt: skip

        # The wizard: upload, keep the suggested mapping (which starts the dry run), run.
        where = browser.post(
            "/imports/",
            [*browser.csrf("/imports/"), ("entity", "people")],
            files={"file": wizard_file.open("rb")},
        )
        found = re.search(r"/imports/(\d+)/mapping/", where)
        assert found, (where, browser.last_page[-3000:])
        job_id = int(found.group(1))
        mapping_path = f"/imports/{job_id}/mapping/"
        browser.post(mapping_path, browser.form_of(mapping_path))
        deadline = time.monotonic() + WAIT
        while True:  # the worker runs the dry run
            job = ImportJob.objects.get(pk=job_id)
            if job.status == ImportStatus.MAPPED and job.is_dry_run:
                break
            assert job.status not in (ImportStatus.FAILED,), job.error
            assert time.monotonic() < deadline, ("the dry run did not end", job.status, queue())
            time.sleep(0.2)
        assert job.created_count > 0
        browser.post(f"/imports/{job_id}/run/", browser.csrf(f"/imports/{job_id}/"))

        assert cli.wait(WAIT) == 0, (tmp_path / "cli.log").read_text()
        deadline = time.monotonic() + WAIT
        while True:  # the worker runs the import
            job = ImportJob.objects.get(pk=job_id)
            if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
                break
            assert time.monotonic() < deadline, ("the import did not end", job.status, queue())
            time.sleep(0.2)
        assert job.status == ImportStatus.DONE, job.error
        assert job.created_count + job.skipped_count == WIZARD_ROWS

        done_posting.set()
        for thread in posters:
            thread.join(60)
        accepted = statuses.get(303, [])
        assert set(statuses) == {303}, {s: len(v) for s, v in statuses.items()}
        assert len(accepted) >= MIN_POSTS

        cli_job = ImportJob.objects.exclude(pk=job_id).get(is_dry_run=False)
        assert cli_job.status == ImportStatus.DONE
        assert cli_job.created_count + cli_job.skipped_count == CLI_ROWS

        distinct = {row[0] for row in people_rows("fair", CLI_ROWS, shared_every=10)[1:]}
        distinct |= {row[0] for row in people_rows("webinar", WIZARD_ROWS, shared_every=15)[1:]}
        distinct |= set(accepted)
        deadline = time.monotonic() + WAIT
        while True:  # the worker drains the form posts
            people = PersonEmail.objects.count()
            waiting = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()
            if people >= len(distinct) and not waiting:
                break
            assert time.monotonic() < deadline, (people, len(distinct), waiting)
            time.sleep(0.3)
    finally:
        done_posting.set()
        for thread in posters:
            thread.join(60)
        stop(worker)
        stop(server)
        for log in logs.values():
            log.close()

    emails = set(PersonEmail.objects.values_list("email", flat=True))
    assert emails == distinct  # one person per distinct email, whichever source came first
    assert PersonEmail.objects.count() == len(distinct)
    assert Touchpoint.objects.filter(form=form).count() == len(accepted)  # every post kept
    failed = list(
        DBTaskResult.objects.filter(status="FAILED").values_list("task_path", "traceback")
    )
    assert not failed, failed[0][1][-4000:]
    assert "Traceback" not in (tmp_path / "worker.log").read_text()
    assert "Traceback" not in Path(tmp_path / "serve.log").read_text()
