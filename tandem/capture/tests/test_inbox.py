"""The capture inbox with a real queue: a web-form post is accepted at once and
captured by the worker, exactly once, and nothing a visitor sent is lost."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tandem.campaigns.models import Touchpoint
from tandem.capture import consent as consents
from tandem.capture import inbox, spool, webforms
from tandem.capture.models import Consent, InboxSubmission, OutboundEmail, WebForm
from tandem.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


def post(form: WebForm, email: str, **extra) -> int:
    data = {
        "first_name": "Lee",
        "last_name": "Lead",
        "email": email,
        "utm_source": "newsletter",
        webforms.TIMESTAMP_FIELD: webforms.fill_token(form.key, shown_at=time.time() - 60),
        **extra,
    }
    response = Client(enforce_csrf_checks=True).post(
        f"/f/{form.key}", data, HTTP_ORIGIN="http://shop.example.net"
    )
    return response.status_code


def waiting_rows():
    """The inbox's rows, with what the spool holds moved in (SQLite: capture/spool.py)."""
    spool.move_all()
    return InboxSubmission.objects.all()


def wait_for_drain_task(seconds: float = 5.0) -> None:
    """The web process enqueues one drain shortly after a burst of posts."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if DBTaskResult.objects.filter(status="READY").exists():
            return
        time.sleep(0.05)
    raise AssertionError("no drain task was enqueued")


def test_a_post_is_answered_at_once_and_the_worker_captures_it(queued, guide):
    assert post(guide, "Ada@Example.com", consent_newsletter="on") == 303
    assert not Person.objects.exists()  # accepted, not yet captured
    assert inbox.for_form(guide).waiting == 1
    received = waiting_rows().get().received_at

    wait_for_drain_task()
    call_command("worker", burst=True)

    person = Person.objects.get()
    assert person.email == "ada@example.com"
    touchpoint = Touchpoint.objects.get(person=person)
    assert (touchpoint.form, touchpoint.utm_source) == (guide, "newsletter")
    assert touchpoint.occurred_at == received  # when the visitor sent it, not when captured
    consent = Consent.objects.get(person=person)
    assert consent.status == "pending"  # double opt-in: waits for the confirmation link
    assert OutboundEmail.objects.filter(person=person).count() == 1
    assert not InboxSubmission.objects.exists()


def test_each_submission_is_captured_once_however_often_the_drain_runs(queued, guide):
    for typed in ("bo@example.com", "  BO@example.COM ", "cy@example.com"):
        assert post(guide, typed) == 303
    first = inbox.drain()
    again = inbox.drain()
    assert (first.captured, again.captured) == (3, 0)
    assert Person.objects.count() == 2
    assert Touchpoint.objects.count() == 3


def test_a_submission_the_capture_refuses_is_kept_with_its_error_and_can_be_retried(
    queued, guide, admin
):
    sub = webforms.Submission(person={"first_name": "Di", "email": "di@example.com"})
    sub.person["custom_fields"] = {"no_such_field": "x"}
    inbox.accept(form=guide, sub=sub, proof=consents.Proof(method="form", form=guide), base_url="")
    result = inbox.drain()
    assert (result.captured, result.failed) == (0, 1)
    assert not Person.objects.exists()
    state = inbox.for_form(guide)
    assert state.waiting == 0 and len(state.failed) == 1
    assert "no_such_field" in state.failed[0].last_error

    client = Client()
    client.force_login(admin)
    page = client.get(f"/forms/{guide.pk}/")
    assert "The capture refused 1 submission" in page.text
    assert "di@example.com" in page.text

    row = state.failed[0]
    row.payload["person"].pop("custom_fields")  # the cause fixed
    row.save(update_fields=["payload"])
    response = client.post(f"/forms/{guide.pk}/inbox/retry/")
    assert response.status_code == 302
    call_command("worker", burst=True)
    assert Person.objects.get().email == "di@example.com"
    assert not InboxSubmission.objects.exists()


def test_a_form_closed_in_another_process_takes_no_more_posts(queued, guide):
    assert post(guide, "early@example.com") == 303  # this process now holds the form
    # Closed by another web process: this one's copy is not told, the database is.
    WebForm.objects.filter(pk=guide.pk).update(is_active=False, updated_at=timezone.now())
    assert post(guide, "late@example.com") == 404
    assert waiting_rows().count() == 1


def test_the_rate_limit_holds_with_the_queue_too(queued, guide, settings):
    settings.TANDEM_FORM_RATE_PER_IP = 3
    codes = [post(guide, f"p{n}@example.com") for n in range(5)]
    assert codes == [303, 303, 303, 429, 429]
    assert waiting_rows().count() == 3


def test_a_salesperson_cannot_retry_a_forms_submissions(queued, guide, salesperson):
    client = Client()
    client.force_login(salesperson)
    assert client.post(f"/forms/{guide.pk}/inbox/retry/").status_code == 403


def test_the_worker_starts_with_submissions_left_waiting(queued, guide):
    assert post(guide, "left@example.com") == 303
    wait_for_drain_task()
    DBTaskResult.objects.all().delete()  # the drain task lost (a crash)
    call_command("worker", burst=True)
    assert Person.objects.filter(email="left@example.com").exists()


def test_a_drained_batch_sends_its_confirmation_emails_from_one_task(queued, guide):
    for n in range(3):
        assert post(guide, f"opt{n}@example.com", consent_newsletter="on") == 303
    wait_for_drain_task()
    DBTaskResult.objects.all().delete()
    inbox.drain()
    queued_tasks = list(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued_tasks.count("tandem.capture.tasks.send_emails") == 1
    assert "tandem.capture.tasks.send_email" not in queued_tasks
    call_command("worker", burst=True)
    assert sorted(OutboundEmail.objects.values_list("status", flat=True)) == ["sent"] * 3


def test_erasing_a_person_deletes_their_submissions_not_captured_yet(queued, guide, admin):
    from tandem.accounts.actor import Actor
    from tandem.people import services as people

    proof = consents.Proof(method="form", form=guide)
    inbox.accept(form=guide, sub=webforms.Submission(person={"email": "Di@Example.com"}), proof=proof, base_url="")  # fmt: skip
    inbox.drain()
    di = Person.objects.get(email="di@example.com")
    refused = webforms.Submission(person={"email": "di@example.com", "custom_fields": {"x": 1}})
    inbox.accept(form=guide, sub=refused, proof=proof, base_url="")
    inbox.drain()  # refused: kept with its error
    waiting = webforms.Submission(person={"email": " DI@example.com "})
    inbox.accept(form=guide, sub=waiting, proof=proof, base_url="")
    other = webforms.Submission(person={"email": "someone@example.com"})
    inbox.accept(form=guide, sub=other, proof=proof, base_url="")
    assert inbox.waiting_count() + inbox.failed_count() == 3

    people.erase_person(actor=Actor.for_user(admin), person=di)

    left = list(InboxSubmission.objects.values_list("payload", flat=True))
    assert [p["person"]["email"] for p in left] == ["someone@example.com"]
    inbox.drain()
    assert not Person.objects.filter(email="di@example.com").exists()  # not made again


def test_posts_are_stored_by_one_statement_prepared_once_per_connection(queued, guide):
    """Each post runs one of the same two statements (counting a lease of the form's
    limit or not: core/ratelimit.py); PostgreSQL parses each once per connection and
    then runs a cached plan (Django leaves prepared statements off unless asked)."""
    from django.db import connection

    for n in range(8):
        assert post(guide, f"reader{n}@example.com") == 303
    assert inbox.for_form(guide).waiting == 8
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT generic_plans + custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE %s",
                ['%INSERT INTO "capture_inboxsubmission"%'],
            )
            runs = [n for (n,) in cursor.fetchall()]
            assert sum(runs) == 8 and len(runs) <= 2
    wait_for_drain_task()  # the posts' drain, enqueued while this test's queue is in place


def test_a_drain_reads_the_forms_settings_once_not_once_per_submission(queued, guide, marketer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    marketer.email = "maya@tandem.example"
    marketer.save(update_fields=["email"])
    guide.notify.add(marketer)
    for n in range(5):
        assert post(guide, f"many{n}@example.com") == 303
    with CaptureQueriesContext(connection) as queries:
        assert inbox.drain().captured == 5
    statements = [q["sql"] for q in queries.captured_queries]
    # Custom field definitions (checked for each new person, and the form's fields) and
    # the people told of each submission: read once for the batch.
    assert sum('FROM "people_customfield"' in s for s in statements) <= 2
    assert sum('"capture_webform_notify"' in s for s in statements) == 1
    notices = OutboundEmail.objects.filter(kind="form_notification")
    assert sorted(notices.values_list("to", flat=True)) == ["maya@tandem.example"] * 5


def test_the_workers_own_drain_loop_captures_posts_as_they_arrive(queued, guide):
    """`tandem worker` captures in its own loop, not only when a drain task comes; while
    it runs, the web processes enqueue no drain task (where they can see its heartbeat)."""
    stop = threading.Event()
    loop = threading.Thread(
        target=inbox.drain_continuously, args=(stop,), kwargs={"poll_seconds": 0.05}
    )
    loop.start()
    try:
        deadline = time.monotonic() + 5
        while not inbox.drain_loop_running() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # its first heartbeat
        # A drain an earlier test's post left pending (its timer, on its own connection)
        # lands by now; only tasks enqueued after this post count.
        time.sleep(inbox.DRAIN_DELAY_SECONDS + 0.2)
        drains = DBTaskResult.objects.filter(task_path__endswith="drain_capture_inbox")
        before = set(drains.values_list("id", flat=True))
        assert post(guide, "loop@example.com", consent_newsletter="on") == 303
        while not Person.objects.filter(email="loop@example.com").exists():
            assert time.monotonic() < deadline + 10, "the loop did not capture the post"
            time.sleep(0.05)
        time.sleep(inbox.DRAIN_DELAY_SECONDS + 0.2)
        if inbox._heartbeat_file() is not None:
            assert set(drains.values_list("id", flat=True)) == before
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()
    assert Consent.objects.get(person__email="loop@example.com").status == "pending"
    assert not InboxSubmission.objects.exists()


def test_a_drain_loop_not_heard_of_lately_leaves_the_posts_to_drain_tasks_again(
    queued, guide, settings, tmp_path
):
    """A worker's loop that stopped beating (its process gone, in any process: the file is
    shared) is not counted on: a post enqueues a drain task again."""
    settings.DATA_DIR = tmp_path  # where PostgreSQL's heartbeat file goes
    name = inbox._heartbeat_file()
    assert name is not None
    time.sleep(inbox.DRAIN_DELAY_SECONDS + 0.2)  # an earlier test's pending drain lands
    drains = DBTaskResult.objects.filter(task_path__endswith="drain_capture_inbox")
    before = set(drains.values_list("id", flat=True))
    with open(name, "a"):
        pass
    stale = time.time() - inbox._HEARTBEAT_SECONDS - 5
    os.utime(name, (stale, stale))
    try:
        assert post(guide, "stale@example.com") == 303
        deadline = time.monotonic() + 5
        while set(drains.values_list("id", flat=True)) == before:
            assert time.monotonic() < deadline, "no drain task was enqueued"
            time.sleep(0.05)
    finally:
        os.unlink(name)


def test_the_drain_loop_sends_the_emails_and_checks_the_people_of_several_drains_together(
    queued, guide
):
    """Held follow-ups: two drains' people are checked for duplicates by one task and their
    confirmation emails go out from one task, once the loop flushes them; nothing is lost."""
    follow_ups = inbox.FollowUps()
    tasks = DBTaskResult.objects.exclude(task_path__endswith="drain_capture_inbox")
    for batch in (("one@example.com", "two@example.com"), ("three@example.com",)):
        for address in batch:
            assert post(guide, address, consent_newsletter="on") == 303
        assert inbox.drain(follow_ups=follow_ups).captured == len(batch)
    assert not tasks.exists()  # held, not enqueued yet
    people = sorted(Person.objects.values_list("id", flat=True))
    emails = sorted(OutboundEmail.objects.values_list("id", flat=True))
    assert (sorted(follow_ups.created), sorted(follow_ups.emails)) == (people, emails)

    follow_ups.flush()

    assert not follow_ups.held()
    sending = tasks.get(task_path__endswith="send_emails")
    assert sorted(sending.args_kwargs["args"][0]) == emails
    checking = tasks.get(task_path__endswith="find_duplicates")
    assert sorted(checking.args_kwargs["kwargs"]["person_ids"]) == people
    call_command("worker", burst=True)
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_on_postgresql_a_drain_behind_the_posts_holds_the_follow_ups_longer(queued, guide):
    """A full read means posts come faster than the drain captures them: on PostgreSQL the
    held duplicate checks and emails wait up to FOLLOW_UP_BEHIND_SECONDS (their tasks
    would take the worker's CPU from the drain), and on SQLite with the posts spooled
    (capture/spool.py); once the drain has caught up (and on SQLite without a spool) they
    go after FOLLOW_UP_SECONDS. Nothing is dropped either way."""
    from django.db import connection

    tasks = DBTaskResult.objects.exclude(task_path__endswith="drain_capture_inbox")
    for address in ("one@example.com", "two@example.com"):
        assert post(guide, address, consent_newsletter="on") == 303
    follow_ups = inbox.FollowUps()
    follow_ups.created.append(0)  # something held for two seconds already (no such person)
    follow_ups.since = time.monotonic() - 2 * inbox.FOLLOW_UP_SECONDS
    assert follow_ups.due(time.monotonic())
    assert not follow_ups.due(time.monotonic(), behind=True)

    inbox.drain(follow_ups=follow_ups, batch=2)  # a full read of two, then none left

    # SQLite spools the posts in a file of their own (capture/spool.py): they do not wait
    # for the drain's write turns there either, so it holds its follow-ups alike.
    if connection.vendor == "postgresql" or spool.path():
        assert not tasks.exists() and follow_ups.held()
    else:
        assert tasks.exists() and not follow_ups.held()
    follow_ups.flush()
    call_command("worker", burst=True)
    assert Person.objects.count() == 2
    assert OutboundEmail.objects.filter(status="sent").count() == 2


def test_a_burst_holds_the_follow_ups_until_it_is_over(queued, guide, monkeypatch):
    """While the drain captures FOLLOW_UP_BUSY_RATE submissions a second or more, its
    duplicate checks and confirmation emails wait (up to FOLLOW_UP_BEHIND_SECONDS), so the
    worker's CPU goes to making people; a second after the burst they are due."""
    monkeypatch.setattr(inbox, "FOLLOW_UP_BUSY_RATE", 3)  # three posts make a burst here
    tasks = DBTaskResult.objects.exclude(task_path__endswith="drain_capture_inbox")
    for address in ("one@example.com", "two@example.com", "three@example.com"):
        assert post(guide, address, consent_newsletter="on") == 303
    follow_ups = inbox.FollowUps()

    assert inbox.drain(follow_ups=follow_ups).captured == 3
    follow_ups.since -= 2 * inbox.FOLLOW_UP_SECONDS  # held for two seconds already
    now = time.monotonic()

    assert follow_ups.busy(now) and not follow_ups.due(now)
    assert not tasks.exists() and len(follow_ups.emails) == 3
    assert not follow_ups.busy(now + 2) and follow_ups.due(now + 2)  # a quiet second after
    follow_ups.count(3, now + 2)  # or the burst goes on: then at most this long
    assert not follow_ups.due(now + 2)
    assert follow_ups.due(follow_ups.since + inbox.FOLLOW_UP_BEHIND_SECONDS)

    monkeypatch.setattr(inbox, "FOLLOW_UP_BUSY_RATE", 4)  # three a second is no burst
    assert not follow_ups.busy(now) and follow_ups.due(now)


def test_a_worker_started_after_one_was_killed_sends_the_emails_it_held(queued, guide):
    """A drain loop killed with confirmation emails held (queued, no task to send them
    yet): the next worker sends them, once each. An email whose first try failed waits
    for its retry's back-off, not for a worker's start."""
    for address in ("one@example.com", "two@example.com"):
        assert post(guide, address, consent_newsletter="on") == 303
    follow_ups = inbox.FollowUps()
    inbox.drain(follow_ups=follow_ups)
    assert len(follow_ups.emails) == 2
    del follow_ups  # the worker is killed: what it held is gone
    DBTaskResult.objects.all().delete()
    retrying = OutboundEmail.objects.create(
        kind="consent_confirmation", to="retry@example.com", subject="Confirm", attempts=1
    )

    call_command("worker", burst=True)

    assert sorted(OutboundEmail.objects.exclude(pk=retrying.pk).values_list("to", "status")) == [
        ("one@example.com", "sent"),
        ("two@example.com", "sent"),
    ]
    retrying.refresh_from_db()
    assert retrying.status == "queued"
    call_command("worker", burst=True)  # a second start sends nothing twice
    assert sorted(message.to[0] for message in mail.outbox) == [
        "one@example.com",
        "two@example.com",
    ]


def _duplicate_checks() -> list[tuple[str, list[int]]]:
    """(status, person ids) of each duplicate-check task, oldest first."""
    return [
        (t.status, sorted(t.args_kwargs["kwargs"]["person_ids"]))
        for t in DBTaskResult.objects.filter(task_path__endswith="find_duplicates").order_by(
            "enqueued_at"
        )
    ]


def _gone_process() -> int:
    """The id of a process that ran and is gone."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


@pytest.mark.parametrize(
    ("beat_seconds_ago", "same_id"),
    [(60, False), (1, False), (1, True)],
    ids=["later", "restarted at once", "restarted at once with the same process id"],
)
def test_a_worker_started_after_one_was_killed_checks_the_people_it_held(
    queued, guide, settings, tmp_path, drain_timers_done, beat_seconds_ago, same_id
):
    """A drain loop killed while it held its people's duplicate checks (a burst) leaves its
    own heartbeat file behind, named with its process id: the next worker, started a
    minute later or at once by a supervisor, checks the people made since shortly before
    its last beat, once; a second start finds nothing left."""
    settings.DATA_DIR = tmp_path  # where PostgreSQL's heartbeat file goes
    for address in ("anna@example.com", "anna.schmidt@example.com"):
        assert post(guide, address) == 303
    follow_ups = inbox.FollowUps()
    inbox.drain(follow_ups=follow_ups)
    people = sorted(Person.objects.values_list("pk", flat=True))
    assert sorted(follow_ups.created) == people and len(people) == 2
    del follow_ups  # the worker is killed: what it held is gone
    DBTaskResult.objects.all().delete()
    name = inbox._heartbeat_file()
    assert name is not None
    # A container's worker may well get the same process id again.
    left = inbox._loop_file(name, pid=os.getpid() if same_id else _gone_process())
    with open(left, "w"):  # the file a killed loop leaves
        pass
    beat = time.time() - beat_seconds_ago
    os.utime(left, (beat, beat))

    call_command("worker", burst=True)

    assert _duplicate_checks() == [("SUCCESSFUL", people)]
    assert not os.path.exists(left)
    call_command("worker", burst=True)  # the next start: nothing left to check
    assert _duplicate_checks() == [("SUCCESSFUL", people)]


def test_a_worker_start_checks_no_one_again_after_a_clean_stop_or_beside_a_live_loop(
    queued, guide, settings, tmp_path, drain_timers_done
):
    """No loop file (the loop stopped cleanly: its checks went out) or a fresh one of a
    process that runs (another worker's loop, which checks its own), here or on another
    machine: nothing is checked at the start."""
    settings.DATA_DIR = tmp_path
    assert post(guide, "quiet@example.com") == 303
    inbox.drain()  # checks its people itself
    DBTaskResult.objects.all().delete()
    name = inbox._heartbeat_file()
    assert name is not None
    assert not [f for f in os.listdir(os.path.dirname(name)) if ".loop-" in f]
    assert inbox.check_people_a_killed_loop_held() == 0
    beside = subprocess.Popen(["sleep", "30"])  # another worker, beating now
    live = [
        inbox._loop_file(name, pid=beside.pid),
        inbox._loop_file(name, host="other-machine", pid=_gone_process()),
    ]
    try:
        for file in live:
            with open(file, "w"):
                pass
        assert inbox.check_people_a_killed_loop_held() == 0
        assert all(os.path.exists(file) for file in live)
    finally:
        beside.kill()
        beside.wait()
        for file in live:
            os.unlink(file)
    assert _duplicate_checks() == []


def test_a_running_loop_checks_the_people_of_a_worker_killed_beside_it(
    queued, guide, settings, tmp_path, drain_timers_done
):
    """Two workers: one is killed in a burst and not started again, the other's loop
    keeps beating (the web processes' shared file stays fresh). The running loop finds
    the killed one's file within _HEARTBEAT_SECONDS and checks the people it held."""
    settings.DATA_DIR = tmp_path
    for address in ("berta@example.com", "berta.meier@example.com"):
        assert post(guide, address) == 303
    held = inbox.FollowUps()
    inbox.drain(follow_ups=held)  # the killed worker's drain: its checks held, then lost
    people = sorted(held.created)
    DBTaskResult.objects.all().delete()
    name = inbox._heartbeat_file()
    assert name is not None
    killed = inbox._loop_file(name, pid=_gone_process())
    with open(killed, "w"):
        pass
    inbox._beat()  # the other worker's loop (this process) beats: the shared file is fresh
    try:
        assert inbox.drain_loop_alive_anywhere()
        assert inbox.check_people_a_killed_loop_held(starting=False) == len(people) == 2
        assert not os.path.exists(killed)
        assert os.path.exists(inbox._loop_file(name))  # its own file stays
    finally:
        inbox._end_beat()
    assert _duplicate_checks() == [("READY", people)]  # one task for the worker, enqueued


def test_the_drain_loop_beats_through_a_long_drain(queued, guide, monkeypatch, drain_timers_done):
    """A drain that runs for many batches (a long burst) keeps the loop's heartbeat fresh,
    so the web processes keep counting on it (no drain tasks, back-pressure) meanwhile."""
    monkeypatch.setattr(inbox, "write_batch_size", lambda: 1)
    for n in range(3):
        assert post(guide, f"long{n}@example.com") == 303
    beats: list[float] = []
    assert inbox.drain(beat=lambda: beats.append(time.monotonic())).captured == 3
    assert len(beats) == 3


def test_a_bursts_people_are_checked_for_duplicates_by_lookups_not_a_whole_scan(queued, settings):
    """Half a minute of a burst holds thousands of new people: their duplicate checks go
    out in slices, each small enough for dedup to look them up rather than scan the whole
    database (its answer to a big import)."""
    settings.TANDEM_DUPLICATE_SCAN_ABOVE = 1500
    follow_ups = inbox.FollowUps()
    follow_ups.created.extend(range(1, 2501))

    follow_ups.flush()

    tasks = DBTaskResult.objects.all()
    assert not tasks.filter(task_path__endswith="scan_duplicates").exists()
    checks = tasks.filter(task_path__endswith="find_duplicates")
    assert sorted(len(t.args_kwargs["kwargs"]["person_ids"]) for t in checks) == [500, 1000, 1000]
    assert sorted(i for t in checks for i in t.args_kwargs["kwargs"]["person_ids"]) == list(
        range(1, 2501)
    )
