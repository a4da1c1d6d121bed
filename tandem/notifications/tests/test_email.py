"""Each notification is emailed to its user exactly once, through a real SMTP server:
after the commit, only if the user has an address and wants that kind, and a failed send
is recorded and retried, never lost."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.notifications import emails, services
from tandem.notifications.models import EmailStatus, Notification
from tandem.notifications.tests.conftest import plain_body

START = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def sam(salesperson):
    salesperson.email = "sam@example.com"
    salesperson.save()
    return salesperson


def hand_off(users, key="handoff:person:1", **extra):
    return services.notify(
        users,
        kind="handoff",
        title="New lead: Ada Lovelace",
        body="Routed to you by the rule “DACH territory”. First contact due by 11:00.",
        url="/people/1/",
        key=key,
        **extra,
    )


def test_a_new_notification_is_emailed_after_the_commit_with_a_link_that_opens_it(
    smtp, sam, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert hand_off([sam]) == 1
    assert smtp.messages == []  # nothing is sent inside the caller's transaction
    for callback in callbacks:
        callback()

    [message] = smtp.to("sam@example.com")
    assert message["Subject"] == "[Tandem] New lead: Ada Lovelace"
    assert message["Auto-Submitted"] == "auto-generated"
    note = Notification.objects.get()
    text = plain_body(message)
    assert "First contact due by 11:00" in text
    assert f"https://crm.example.com/notifications/{note.pk}/" in text
    assert "https://crm.example.com/notifications/settings/" in text
    assert (note.email_status, note.email_attempts) == (EmailStatus.SENT, 1)
    assert note.emailed_at is not None


def test_notifying_twice_with_the_same_key_makes_one_notification_and_one_email(
    smtp, sam, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert hand_off([sam]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert hand_off([sam, sam.pk]) == 0
        assert hand_off([sam, manager]) == 1  # only the manager is new
    assert Notification.objects.filter(user=sam).count() == 1
    assert len(smtp.to("sam@example.com")) == 1


def test_a_kind_turned_off_is_not_emailed_but_still_under_the_bell(
    smtp, sam, django_capture_on_commit_callbacks
):
    services.set_email_preferences(
        actor=Actor.for_user(sam), user=sam, kinds=["sla_breach", "send_back"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        hand_off([sam])
        services.notify([sam], kind="sla_breach", title="SLA breached: Ada", key="breach:1")
    assert [m["Subject"] for m in smtp.to("sam@example.com")] == ["[Tandem] SLA breached: Ada"]
    skipped = Notification.objects.get(kind="handoff")
    assert skipped.email_status == EmailStatus.SKIPPED
    assert skipped.email_error == "The user turned these emails off."
    assert services.unread_count(sam) == 2


def test_a_user_without_an_email_address_gets_the_bell_only(
    smtp, other_salesperson, django_capture_on_commit_callbacks
):
    assert other_salesperson.email == ""
    with django_capture_on_commit_callbacks(execute=True):
        hand_off([other_salesperson])
    assert smtp.messages == []
    note = Notification.objects.get()
    assert note.email_status == EmailStatus.SKIPPED
    assert services.unread_count(other_salesperson) == 1


def test_a_failed_send_is_recorded_and_retried_by_the_sweep_not_lost(
    smtp, sam, django_capture_on_commit_callbacks, caplog
):
    smtp.refuse = True
    with (
        time_machine.travel(START, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        hand_off([sam])
    note = Notification.objects.get()
    assert note.email_status == EmailStatus.PENDING
    assert note.emailed_at is None and note.email_attempts == 1
    assert "451" in note.email_error
    assert "notification email" in caplog.text and "failed (attempt 1)" in caplog.text
    assert note.email_retry_at == START + dt.timedelta(minutes=2)

    smtp.refuse = False
    with time_machine.travel(START + dt.timedelta(minutes=1), tick=False):
        assert emails.sweep() == {}  # the retry is not due yet
    with time_machine.travel(START + dt.timedelta(minutes=2), tick=False):
        assert emails.sweep() == {"sent": 1}
        assert emails.sweep() == {}
    assert len(smtp.to("sam@example.com")) == 1
    note.refresh_from_db()
    assert (note.email_status, note.email_attempts, note.email_error) == (EmailStatus.SENT, 2, "")


def test_after_the_last_attempt_the_email_is_marked_failed(smtp, sam, caplog):
    smtp.refuse = True
    with time_machine.travel(START, tick=False):
        hand_off([sam])
    now = START
    for _ in range(emails.MAX_ATTEMPTS):
        now += dt.timedelta(hours=1)
        with time_machine.travel(now, tick=False):
            emails.sweep()
    note = Notification.objects.get()
    assert (note.email_status, note.email_attempts) == (EmailStatus.FAILED, emails.MAX_ATTEMPTS)
    assert "giving up" in caplog.text
    with time_machine.travel(now + dt.timedelta(hours=1), tick=False):
        smtp.refuse = False
        assert emails.sweep() == {}
    assert smtp.messages == []


def test_an_email_whose_task_never_ran_is_sent_by_the_next_notify(
    smtp, sam, manager, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(START, tick=False),
        django_capture_on_commit_callbacks(execute=False),
    ):
        hand_off([sam], key="lost")  # its task is lost (callbacks dropped)
    with (
        time_machine.travel(START + dt.timedelta(minutes=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.notify([manager], kind="sla_breach", title="Breach", key="breach:2")
    [lost] = smtp.to("sam@example.com")
    assert "Ada Lovelace" in lost["Subject"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_given_the_same_notifications_send_each_email_once(smtp, sam, manager):
    manager.email = "max@example.com"
    manager.save()
    # Pending emails whose tasks both workers were given (written directly: notify would
    # send them itself on commit, as this test runs without a wrapping transaction).
    Notification.objects.bulk_create(
        Notification(user=u, kind="handoff", title=f"Lead {i}", key=f"h:{i}", created_at=START)
        for i in range(5)
        for u in (sam, manager)
    )
    ids = list(Notification.objects.values_list("pk", flat=True))
    results: list[dict[str, int]] = []
    start = threading.Barrier(2)

    def worker():  # each thread has its own database connection, as two workers would
        try:
            start.wait()
            results.append(emails.send_notification_emails(ids))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    assert sum(r.get("sent", 0) for r in results) == 10
    assert len(smtp.to("sam@example.com")) == 5 and len(smtp.to("max@example.com")) == 5
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sent"}


def test_a_claim_left_by_a_dead_worker_is_retried_after_a_quarter_hour(smtp, sam):
    with time_machine.travel(START, tick=False):
        hand_off([sam])
        note = Notification.objects.get()
        assert emails.claim([note.pk], timezone.now()) == [note.pk]  # then the worker dies
        assert emails.claim([note.pk], timezone.now()) == []
    with time_machine.travel(START + dt.timedelta(minutes=10), tick=False):
        assert emails.sweep() == {}
    with time_machine.travel(START + dt.timedelta(minutes=16), tick=False):
        assert emails.sweep() == {"sent": 1}
    assert len(smtp.messages) == 1


def test_a_header_injection_in_the_title_stays_in_the_subject(smtp, sam):
    services.notify([sam], kind="task", title="Call\r\nBcc: evil@example.com", key="t")
    emails.send_notification_emails(list(Notification.objects.values_list("pk", flat=True)))
    [message] = smtp.messages
    assert message["Bcc"] is None
    assert message["Subject"] == "[Tandem] Call Bcc: evil@example.com"


def test_news_for_a_batch_of_leads_is_one_insert_and_one_task_after_the_commit(
    smtp, sam, manager, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    news = [
        services.News(user=u, kind="handoff", title=f"New lead {i}", key=f"lead:{i}")
        for i in range(150)
        for u in (sam, manager)
    ]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        # the insert (in batches on SQLite: its limit of parameters per statement), the
        # read-back of the new ids; not one query per notification
        with django_assert_max_num_queries(8):
            assert services.notify_many(news) == 300
        assert services.notify_many(news[:10]) == 0
        hand_off([sam])
    assert Notification.objects.count() == 301
    assert len(callbacks) == 2  # one email task for the batch, one for the hand-off
    callbacks[0]()
    assert len(smtp.to("sam@example.com")) == 150  # the manager has no address
    callbacks[1]()
    assert len(smtp.messages) == 151
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sent", "skipped"}


def test_notify_refuses_what_it_could_not_store_or_follow(sam):
    with pytest.raises(ValueError, match="unknown notification kind"):
        services.notify([sam], kind="gossip", title="x", key="k")
    with pytest.raises(ValueError, match="key"):
        services.notify([sam], kind="task", title="x", key="k" * 201)
    with pytest.raises(ValueError, match="key"):
        services.notify([sam], kind="task", title="x", key="")
    with pytest.raises(ValueError, match="path inside Tandem"):
        services.notify([sam], kind="task", title="x", key="k", url="/" + "p" * 500)
    assert services.notify([None], kind="task", title="x", key="k") == 0
    assert not Notification.objects.exists()
