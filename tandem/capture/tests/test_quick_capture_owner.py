"""Quick capture tells the salesperson what happened, where they look, and whose the lead is.

A new person a salesperson saves is theirs (TANDEM_QUICK_CAPTURE_OWNER=self,
the default) or waits unowned for routing (=queue); the answer to Save says
so in the save bar, the sync answer carries the line for "Saved today", and
the interest level shows on the person's page.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid

import pytest
from django.test import Client

from tandem.people import services as people
from tandem.people.models import Person

PAGE = "/capture"
SYNC = "/capture/sync"


@pytest.fixture
def sam(client, salesperson) -> Client:
    client.force_login(salesperson)
    return client


def sync(client: Client, **entry):
    body = {"uuid": str(uuid.uuid4()), "place": "booth", **entry}
    return client.post(SYNC, json.dumps(body), content_type="application/json")


def save_bar(html: str) -> str:
    match = re.search(r'<div class="actions save-bar">(.*?)</div>', html, re.S)
    assert match, "no save bar"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def test_a_salespersons_new_lead_is_theirs_and_the_sync_answer_says_so(sam, salesperson):
    response = sync(sam, first_name="Ada", last_name="Lovelace", email="ada@example.com")
    assert response.status_code == 200
    answer = response.json()
    person = Person.objects.get()
    assert person.owner == salesperson
    assert answer["person"]["owner_id"] == salesperson.pk
    assert answer["message"] == "Saved Ada Lovelace: new person, yours."


def test_the_sync_answer_carries_the_saved_today_line(sam):
    answer = sync(sam, first_name="Ada", email="ada@example.com", location="Hall 4").json()
    person = Person.objects.get()
    saved = answer["saved"]
    assert saved["name"] == "Ada" and saved["url"] == f"/people/{person.pk}/"
    assert saved["kind"] == "Booth scan" and saved["location"] == "Hall 4"
    assert re.fullmatch(r"\d\d:\d\d", saved["time"])
    # The page shows the same entry after a reload, marked with the same touchpoint.
    page = sam.get(PAGE).content.decode()
    assert f'data-touchpoint="{saved["touchpoint_id"]}"' in page


def test_the_queue_setting_leaves_a_new_lead_unowned_for_routing(sam, settings):
    settings.TANDEM_QUICK_CAPTURE_OWNER = "queue"
    answer = sync(sam, first_name="Ada", email="ada@example.com").json()
    assert Person.objects.get().owner is None
    assert answer["message"] == "Saved Ada: new person, in the queue, nobody owns them yet."


@pytest.mark.parametrize("role", ["marketer", "manager", "admin"])
def test_other_roles_leads_wait_unowned(client, users_by_role, role):
    client.force_login(users_by_role[role])
    sync(client, first_name="Ada", email="ada@example.com")
    assert Person.objects.get().owner is None


def test_a_known_person_keeps_their_owner_and_the_message_names_them(
    sam, system, other_salesperson
):
    people.create_person(
        actor=system,
        data={"first_name": "Lee", "owner": other_salesperson},
        email="lee@example.com",
    )
    answer = sync(sam, email="lee@example.com").json()
    assert Person.objects.get().owner == other_salesperson
    assert answer["message"] == "Saved Lee: known person, touchpoint added, owned by Sol Seller."


def test_without_javascript_the_saved_message_is_in_the_save_bar(sam):
    response = sam.post(
        PAGE, {"place": "booth", "first_name": "Ada", "email": "ada@example.com"}, follow=True
    )
    html = response.content.decode()
    assert "Saved Ada: new person, yours." in save_bar(html)
    assert html.count("Saved Ada: new person, yours.") == 1  # not also at the top
    assert re.search(r'<ul class="plain-list" id="saved-today">\s*<li data-touchpoint', html)


def test_an_empty_day_shows_nothing_yet_and_a_hidden_list_for_the_page_to_fill(sam):
    html = sam.get(PAGE).content.decode()
    assert '<ul class="plain-list" id="saved-today" hidden>' in html
    assert re.search(r'id="saved-today-empty">Nothing yet\.', html)


def test_the_interest_level_shows_on_the_person(sam):
    sync(sam, first_name="Ada", email="ada@example.com", interest="high", location="Hall 4")
    person = Person.objects.get()
    html = sam.get(f"/people/{person.pk}/").content.decode()
    facts = html[html.index('id="details"') :]
    assert re.search(r"<dt>Interest</dt><dd><span class=\"badge interest-high\">High</span>", facts)
    timeline = html[html.index('id="timeline-list"') :]
    assert "Interest: high" in timeline


def test_a_bad_owner_setting_stops_start_up():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='tandem.settings'; django.setup()",
        ],
        env={
            "TANDEM_DEBUG": "true",
            "TANDEM_QUICK_CAPTURE_OWNER": "mine",
            "PATH": "/usr/bin:/bin",
            "TANDEM_DATA_DIR": "/tmp/tandem-ux-owner-test",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "TANDEM_QUICK_CAPTURE_OWNER='mine': use self or queue" in done.stderr
