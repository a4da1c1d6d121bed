"""Duplicates in a real browser: open the review queue, open a pair, pick a value, merge,
see the survivor with both emails, then undo the merge from the history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tandem.dedup.models import DuplicateCandidate, Merge
from tandem.dedup.services import find_candidates_for
from tandem.people import services
from tandem.people.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_review_merge_and_undo_a_duplicate(page: Page, live_server, marketer, system):
    acme = services.create_company(actor=system, data={"name": "Acme"})
    jon = services.create_person(
        actor=system,
        data={"first_name": "Jon", "last_name": "Miller", "company": acme},
        email="jon@acme.example",
    )
    john = services.create_person(
        actor=system,
        data={"first_name": "John", "last_name": "Miller", "company": acme, "title": "CTO"},
        email="john.miller@gmail.com",
    )
    services.update_person(actor=system, person=jon, data={"title": "Engineer"})
    find_candidates_for([john.pk], "capture")
    assert DuplicateCandidate.objects.count() == 1

    # Log in and open the queue: the pair is there with why it matched.
    page.goto(live_server.url + "/duplicates/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("User name").fill(marketer.username)
    page.get_by_label("Password").fill("pw-" + marketer.username)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Possible duplicates")).to_be_visible()
    row = page.locator("table.dedup-queue tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("same company")

    # Open the pair: both side by side, one choice per differing field.
    row.get_by_role("link", name=re.compile("^Review")).click()
    expect(page.get_by_role("heading", name="Merge John Miller into Jon Miller?")).to_be_visible()
    title = page.get_by_role("group", name="Job title")
    expect(title.get_by_role("radio", name=re.compile("Engineer"))).to_be_checked()
    # Pick the other record's title.
    title.get_by_role("radio", name=re.compile("CTO")).check()
    expect(page.get_by_text("john.miller@gmail.com").first).to_be_visible()
    page.get_by_role("button", name="Merge", exact=True).click()

    # The survivor's page: both emails, the picked title; the other record is gone.
    expect(page).to_have_url(re.compile(rf"/people/{jon.pk}/$"))
    expect(page.get_by_role("heading", name=re.compile("Jon Miller"))).to_be_visible()
    expect(page.get_by_text("jon@acme.example").first).to_be_visible()
    expect(page.get_by_text("john.miller@gmail.com").first).to_be_visible()
    expect(page.get_by_text("Merged John Miller into Jon Miller.")).to_be_visible()
    survivor = Person.objects.get(pk=jon.pk)
    assert survivor.title == "CTO"
    assert not Person.objects.live().filter(pk=john.pk).exists()

    # Undo it from the merge history: both people are back as they were.
    page.goto(live_server.url + "/duplicates/")
    page.get_by_role("link", name="Merge history").click()
    history = page.locator("table.merges tbody tr")
    expect(history).to_have_count(1)
    history.get_by_role("button", name="Undo merge").click()
    expect(page.get_by_text(re.compile("Undid the merge"))).to_be_visible()
    expect(history).to_contain_text("Undone")
    assert Merge.objects.get().undone_at is not None
    assert Person.objects.live().filter(pk=john.pk).exists()
    assert Person.objects.get(pk=jon.pk).title == "Engineer"
    assert Person.objects.get(pk=john.pk).email == "john.miller@gmail.com"
