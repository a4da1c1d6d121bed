"""The review queue, the merge screen and the merge history, per role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tandem.accounts.actor import Actor
from tandem.dedup.models import CandidateStatus, DuplicateCandidate, Merge
from tandem.dedup.services import find_candidates_for, merge_people
from tandem.dedup.tests.factories import person
from tandem.people.models import Person, PersonEmail

ROLES = ["admin", "manager", "marketer", "salesperson", "other_salesperson"]
# The pair is owned by other_salesperson: salesperson may not merge it.
MAY_MERGE = {"admin", "manager", "marketer", "other_salesperson"}


@pytest.fixture
def candidate(users_by_role) -> DuplicateCandidate:
    owner = users_by_role["other_salesperson"]
    person("Jon", "Miller", email="jon@acme.example", company_name="Acme", owner=owner, title="")
    second = person(
        "John",
        "Miller",
        email="john.miller@gmail.com",
        company_name="Acme",
        owner=owner,
        title="Head of IT",
    )
    find_candidates_for([second.pk], "capture")
    return DuplicateCandidate.objects.get()


def login(client, users_by_role, role):
    if role != "anonymous":
        client.force_login(users_by_role[role])


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_the_queue_lists_pairs_the_viewer_may_merge(client, users_by_role, candidate, role):
    login(client, users_by_role, role)
    response = client.get(reverse("dedup:queue"))
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response["Location"]
        return
    assert response.status_code == 200
    shown = reverse("dedup:review", args=[candidate.pk]).encode() in response.content
    assert shown == (role in MAY_MERGE)


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_the_merge_screen_is_for_those_who_may_edit_both(client, users_by_role, candidate, role):
    login(client, users_by_role, role)
    response = client.get(reverse("dedup:review", args=[candidate.pk]))
    expected = 302 if role == "anonymous" else 200 if role in MAY_MERGE else 403
    assert response.status_code == expected
    if expected == 200:
        body = response.content.decode()
        assert 'name="title" value="merged" checked' in body  # the filled value is preselected
        assert "john.miller@gmail.com" in body  # listed under what moves


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_merging_is_checked_on_the_server(client, users_by_role, candidate, role):
    login(client, users_by_role, role)
    response = client.post(
        reverse("dedup:merge", args=[candidate.pk]),
        {"survivor": candidate.person_a_id, "title": "merged", "first_name": "merged"},
    )
    if role in MAY_MERGE:
        assert response.status_code == 302
        assert response["Location"] == reverse("people:detail", args=[candidate.person_a_id])
        survivor = Person.objects.get(pk=candidate.person_a_id)
        assert (survivor.first_name, survivor.title) == ("John", "Head of IT")
        assert PersonEmail.objects.filter(person=survivor).count() == 2
        assert not Person.objects.live().filter(pk=candidate.person_b_id).exists()
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert not Merge.objects.exists()
        assert Person.objects.live().count() == 2


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_not_duplicates_is_checked_on_the_server(client, users_by_role, candidate, role):
    login(client, users_by_role, role)
    response = client.post(reverse("dedup:dismiss", args=[candidate.pk]))
    candidate.refresh_from_db()
    if role in MAY_MERGE:
        assert response.status_code == 302
        assert candidate.status == CandidateStatus.DISMISSED
        assert candidate.resolved_by == users_by_role[role]
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert candidate.status == CandidateStatus.OPEN


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_undo_merge_is_checked_on_the_server(client, users_by_role, candidate, role):
    survivor, merged = (
        Person.objects.get(pk=candidate.person_a_id),
        Person.objects.get(pk=candidate.person_b_id),
    )
    merge = merge_people(actor=Actor.system("test"), survivor=survivor, merged=merged)
    login(client, users_by_role, role)
    history = client.get(reverse("dedup:merges"))
    response = client.post(reverse("dedup:undo", args=[merge.pk]))
    merge.refresh_from_db()
    if role == "anonymous":
        assert history.status_code == 302 and response.status_code == 302
        assert merge.undone_at is None
        return
    assert history.status_code == 200
    undo_url = reverse("dedup:undo", args=[merge.pk]).encode()
    assert (undo_url in history.content) == (role in MAY_MERGE)
    if role in MAY_MERGE:
        assert response.status_code == 302 and merge.undone_at is not None
        assert Person.objects.live().filter(pk=merged.pk).exists()
    else:
        assert response.status_code == 403 and merge.undone_at is None


def test_a_tampered_choice_is_shown_next_to_its_field(client, admin, candidate):
    client.force_login(admin)
    response = client.post(
        reverse("dedup:merge", args=[candidate.pk]),
        {"survivor": candidate.person_a_id, "stage": "customer"},
    )
    assert response.status_code == 400
    assert b'id="err-stage"' in response.content
    assert not Merge.objects.exists()


def test_keep_the_other_record_swaps_the_sides(client, admin, candidate):
    client.force_login(admin)
    url = reverse("dedup:review", args=[candidate.pk])
    response = client.get(f"{url}?keep={candidate.person_b_id}")
    assert f'name="survivor" value="{candidate.person_b_id}"'.encode() in response.content
    client.post(reverse("dedup:merge", args=[candidate.pk]), {"survivor": candidate.person_b_id})
    assert Person.objects.get(pk=candidate.person_a_id).merged_into_id == candidate.person_b_id


def test_a_resolved_pair_is_no_longer_offered(client, admin, candidate):
    client.force_login(admin)
    client.post(reverse("dedup:dismiss", args=[candidate.pk]))
    assert client.get(reverse("dedup:review", args=[candidate.pk])).status_code == 404
    assert (
        reverse("dedup:review", args=[candidate.pk]).encode()
        not in client.get(reverse("dedup:queue")).content
    )


def test_namesakes_are_told_apart_by_email_in_the_merge_title(client, admin):
    person("Birgit", "Klein", email="birgit@summit.example", company_name="Summit")
    second = person("Birgit", "Klein", email="birgit.k@summit.example", company_name="Summit")
    find_candidates_for([second.pk], "capture")
    client.force_login(admin)
    candidate = DuplicateCandidate.objects.get()
    body = client.get(reverse("dedup:review", args=[candidate.pk])).content.decode()
    assert (
        "<h1>Merge Birgit Klein (birgit.k@summit.example) into "
        "Birgit Klein (birgit@summit.example)?</h1>"
    ) in body


def test_names_typed_by_visitors_stay_inert(client, admin):
    person("<script>alert(1)</script>", "Miller", company_name="Acme")
    second = person("<script>alert(1)</script>", "Miller", company_name="Acme")
    find_candidates_for([second.pk], "capture")
    client.force_login(admin)
    for url in (
        reverse("dedup:queue"),
        reverse("dedup:review", args=[DuplicateCandidate.objects.get().pk]),
    ):
        body = client.get(url).content
        assert b"<script>alert(1)</script>" not in body
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_queue_pages_by_score(client, admin):
    for n in range(30):
        a = person(f"Jon{n:02d}", "Miller", company_name=f"Acme {n}")
        b = person(f"John{n:02d}", "Miller", company_name=f"Acme {n}")
        find_candidates_for([a.pk, b.pk], "scan")
    client.force_login(admin)
    first = client.get(reverse("dedup:queue"))
    assert first.status_code == 200
    assert first.context["next_url"]
    second = client.get(reverse("dedup:queue") + first.context["next_url"])
    ids_first = {r["candidate"].pk for r in first.context["rows"]}
    ids_second = {r["candidate"].pk for r in second.context["rows"]}
    assert len(ids_first) == 25 and len(ids_second) == 5 and not ids_first & ids_second
    bad = client.get(reverse("dedup:queue") + "?cursor=nonsense")
    assert bad.status_code == 400


def test_the_queue_costs_the_same_queries_for_one_pair_or_a_full_page(
    client, admin, django_assert_num_queries
):
    def add_pairs(n: int, start: int) -> None:
        for i in range(start, start + n):
            a = person(f"Jon{i:02d}", "Miller", company_name=f"Acme {i}")
            b = person(f"John{i:02d}", "Miller", company_name=f"Acme {i}")
            find_candidates_for([a.pk, b.pk], "scan")

    client.force_login(admin)
    add_pairs(1, 0)
    client.get(reverse("dedup:queue"))  # warm the session and the user
    # session, user, capped count, the page of pairs with both people and companies
    with django_assert_num_queries(4):
        assert len(client.get(reverse("dedup:queue")).context["rows"]) == 1
    add_pairs(24, 1)
    with django_assert_num_queries(4):
        assert len(client.get(reverse("dedup:queue")).context["rows"]) == 25
