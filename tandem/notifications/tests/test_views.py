"""The bell and its pages: the count by HTMX, the list newest first with unread marked,
opening one marks it read and follows it only inside Tandem, mark all read, the email
preferences form."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from tandem.core.models import AuditEvent
from tandem.notifications import services
from tandem.notifications.models import EmailPreference, Notification
from tandem.notifications.views import PAGE_SIZE

START = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def tell(user, n=1, **extra):
    for i in range(n):
        with time_machine.travel(START + dt.timedelta(minutes=i), tick=False):
            services.notify(
                [user],
                kind=extra.get("kind", "handoff"),
                title=f"New lead {i}",
                key=f"{extra.get('prefix', 'lead')}:{i}",
                url=extra.get("url", f"/people/{i}/"),
            )


def test_every_signed_in_page_has_the_bell_which_fetches_its_count_by_htmx(client, salesperson):
    client.force_login(salesperson)
    html = client.get(reverse("people:list")).content.decode()
    assert 'id="bell"' in html
    assert 'href="/notifications/"><svg' in html
    assert 'hx-get="/notifications/bell/"' in html and 'hx-trigger="load, every 60s"' in html
    assert 'href="/notifications/"' in html
    assert "<script>" not in html  # the CSP forbids inline scripts


def test_the_bell_fragment_shows_the_unread_count_and_keeps_polling(client, salesperson):
    client.force_login(salesperson)
    empty = client.get(reverse("notifications:bell"), headers={"HX-Request": "true"})
    assert ": none unread" in empty.content.decode()
    assert 'class="bell-count"' not in empty.content.decode()
    tell(salesperson, 3)
    html = client.get(reverse("notifications:bell"), headers={"HX-Request": "true"}).content
    html = html.decode()
    assert '<span class="bell-count" aria-hidden="true">3</span>' in html
    assert '<span class="visually-hidden">Notifications: 3 unread</span>' in html
    assert 'hx-trigger="every 60s"' in html and "load" not in html  # no reload loop
    assert "<html" not in html  # a fragment, not a page
    assert html.strip().startswith('<span id="bell-count"')


def test_the_bell_shows_99_plus_beyond_99(client, salesperson):
    Notification.objects.bulk_create(
        Notification(user=salesperson, kind="task", title="t", key=str(i), created_at=START)
        for i in range(120)
    )
    client.force_login(salesperson)
    html = client.get(reverse("notifications:bell")).content.decode()
    assert '<span class="bell-count" aria-hidden="true">99+</span>' in html
    assert ": 120 unread" in html


def test_the_bell_of_a_signed_out_page_answers_204_so_htmx_leaves_the_page_alone(client):
    assert client.get(reverse("notifications:bell")).status_code == 204


def test_the_list_is_mine_newest_first_with_unread_marked_and_paged(
    client, salesperson, other_salesperson
):
    tell(salesperson, PAGE_SIZE + 2)
    tell(other_salesperson, 1, prefix="theirs")
    Notification.objects.filter(user=salesperson, key="lead:0").update(read_at=START)
    client.force_login(salesperson)
    first = client.get(reverse("notifications:list"))
    items = first.context["items"]
    assert len(items) == PAGE_SIZE
    assert [i["n"].title for i in items[:2]] == [
        f"New lead {PAGE_SIZE + 1}",
        f"New lead {PAGE_SIZE}",
    ]
    assert all(i["n"].user_id == salesperson.pk for i in items)
    html = first.content.decode()
    assert html.count('class="notification unread"') == PAGE_SIZE
    assert f"{PAGE_SIZE + 1} unread" in html  # the count, server-side on this page

    second = client.get(first.context["next_url"])
    rest = [i["n"].title for i in second.context["items"]]
    assert rest == ["New lead 1", "New lead 0"]
    assert [i["is_unread"] for i in second.context["items"]] == [True, False]
    assert second.context["next_url"] == ""

    unread = client.get(reverse("notifications:list") + "?unread=1")
    assert unread.context["page"].count == PAGE_SIZE + 1


def test_a_bad_cursor_starts_the_list_at_the_top(client, salesperson):
    client.force_login(salesperson)
    response = client.get(reverse("notifications:list") + "?cursor=nonsense&unread=1")
    assert response.status_code == 302 and response["Location"] == "/notifications/?unread=1"


def test_opening_a_notification_marks_it_read_and_follows_its_path(client, salesperson):
    tell(salesperson, 1, url="/people/7/?tab=timeline")
    note = Notification.objects.get()
    client.force_login(salesperson)
    response = client.get(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/people/7/?tab=timeline"
    note.refresh_from_db()
    assert note.read_at is not None
    assert services.unread_count(salesperson) == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/",
        "//evil.example.com/path",
        "/\\evil.example.com",
        "/\\/evil.example.com",
        "javascript:alert(1)",
        "people/1/",
        "/people/1/\r\nLocation: https://evil.example.com",
        "http:/evil.example.com",
    ],
)
def test_opening_never_leads_off_site_and_notify_refuses_such_a_link(client, salesperson, url):
    assert not services.is_local_path(url)
    with pytest.raises(ValueError, match="path inside Tandem"):
        services.notify([salesperson], kind="task", title="x", key="k", url=url)
    # A row that got one anyway (written around notify) opens the list instead.
    note = Notification.objects.create(
        user=salesperson, kind="task", title="x", key="k", url=url, created_at=START
    )
    client.force_login(salesperson)
    response = client.get(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/notifications/"


def test_another_users_notification_is_not_found_and_stays_unread(
    client, salesperson, other_salesperson, admin
):
    tell(other_salesperson, 1)
    theirs = Notification.objects.get()
    for user in (salesperson, admin):
        client.force_login(user)
        assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
        assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_and_mark_all_read(client, salesperson, other_salesperson):
    tell(salesperson, 3)
    tell(other_salesperson, 2, prefix="theirs")
    client.force_login(salesperson)
    one = Notification.objects.filter(user=salesperson).first()
    assert client.post(reverse("notifications:read", args=[one.pk])).status_code == 302
    assert services.unread_count(salesperson) == 2
    response = client.post(reverse("notifications:read_all"), follow=True)
    assert "Marked 2 read." in response.content.decode()
    assert services.unread_count(salesperson) == 0
    assert services.unread_count(other_salesperson) == 2  # theirs untouched
    assert client.get(reverse("notifications:read_all")).status_code == 405


def test_the_email_settings_form_turns_kinds_off_and_is_audited(client, salesperson):
    client.force_login(salesperson)
    page = client.get(reverse("notifications:settings")).content.decode()
    assert "You have no email address" in page
    assert page.count('type="checkbox"') == 5 and len(re.findall(r"\bchecked\b", page)) == 5
    response = client.post(
        reverse("notifications:settings"), {"kinds": ["sla_breach", "sla_reminder"]}
    )
    assert response.status_code == 302
    pref = EmailPreference.objects.get(user=salesperson)
    assert sorted(pref.muted_kinds) == ["handoff", "send_back", "task"]
    event = AuditEvent.objects.get(event="notification_email_preferences_changed")
    assert event.actor == salesperson
    assert services.emailed_kinds(salesperson) == {"sla_breach", "sla_reminder"}
    again = client.get(reverse("notifications:settings")).content.decode()
    assert len(re.findall(r"\bchecked\b", again)) == 2
    bad = client.post(reverse("notifications:settings"), {"kinds": ["nonsense"]})
    assert bad.status_code == 200
    assert "nonsense is not one of the available choices" in bad.content.decode()


@pytest.mark.parametrize("rows", [1, 25])
def test_the_list_and_the_bell_cost_the_same_queries_for_one_or_a_full_page(
    client, salesperson, rows, django_assert_num_queries
):
    tell(salesperson, rows)
    client.force_login(salesperson)
    # session, user, the bell's unread count, the capped count, the page
    with django_assert_num_queries(5):
        response = client.get(reverse("notifications:list"))
    assert len(response.context["items"]) == rows
    # session, user, the unread count
    with django_assert_num_queries(3):
        client.get(reverse("notifications:bell"))


def test_the_bell_adds_no_query_to_other_pages(client, salesperson, django_assert_num_queries):
    """The count comes by HTMX, so the people list costs what it did before the bell."""
    from tandem.people.tests.test_views_queries import PEOPLE_LIST

    tell(salesperson, 3)
    client.force_login(salesperson)
    with django_assert_num_queries(PEOPLE_LIST):
        assert 'id="bell"' in client.get(reverse("people:list")).content.decode()
