"""The people list and API sort by score (scoring's sorts through people's ListSort slot):
highest or lowest first, ties by id, people not scored yet last, cursors across ties."""

from __future__ import annotations

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.people import services as people
from tandem.scoring import engine
from tandem.scoring.tests.factories import active_rules, fit

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, system, marketer):
    _, raw = create_token(actor=system, user=marketer, name="t", scope=TokenScope.READ_WRITE)

    def get(path: str):
        return client.get("/api/v1" + path, headers={"Authorization": f"Bearer {raw}"})

    return get


@pytest.fixture
def scored(system):
    """Two VPs (30), three Heads (20, a tie across a page boundary), one with no matching
    rule (0), one intern (-5), and one person added after the rescore (no score yet)."""
    active_rules(
        [
            fit("title", "contains", "VP", 30),
            fit("title", "contains", "Head", 20),
            fit("title", "contains", "Intern", -5),
        ]
    )

    def add(name: str, title: str) -> int:
        return people.create_person(actor=system, data={"last_name": name, "title": title}).pk

    ids = {
        "vp": [add("Vp1", "VP Sales"), add("Vp2", "VP Marketing")],
        "head": [add("H1", "Head of IT"), add("H2", "Head of Ops"), add("H3", "Head of HR")],
        "zero": [add("Zero", "Engineer")],
        "intern": [add("Intern", "Intern")],
    }
    engine.rescore_everyone()
    ids["unscored"] = [add("New", "VP New")]  # its rescore waits for the commit
    return ids


def _walk(api, sort: str, limit: int, extra: str = "") -> list[int]:
    """Every id of the list, page by page through the cursor (the filters sent each time)."""
    seen: list[int] = []
    body = api(f"/people?sort={sort}&limit={limit}{extra}").json()
    while True:
        seen += [p["id"] for p in body["items"]]
        if not body["next_cursor"]:
            return seen
        body = api(f"/people?sort={sort}&limit={limit}{extra}&cursor={body['next_cursor']}").json()


def test_highest_score_first_ties_by_id_unscored_last(api, scored):
    expected = [
        *sorted(scored["vp"], reverse=True),
        *sorted(scored["head"], reverse=True),
        *scored["zero"],
        *scored["intern"],
        *scored["unscored"],
    ]
    for limit in (1, 2, 4, 50):  # page boundaries fall inside the ties
        assert _walk(api, "-score", limit) == expected, limit


def test_lowest_score_first_keeps_unscored_last(api, scored):
    expected = [
        *scored["intern"],
        *scored["zero"],
        *sorted(scored["head"]),
        *sorted(scored["vp"]),
        *scored["unscored"],
    ]
    assert _walk(api, "score", 2) == expected
    assert _walk(api, "fit_score", 3) == expected


def test_score_sort_with_a_search_and_a_filter(api, scored):
    heads_and_vps = _walk(api, "-score", 2, "&min_score=20")
    assert heads_and_vps == [
        *sorted(scored["vp"], reverse=True),
        *sorted(scored["head"], reverse=True),
    ]
    # A name search pages through merged index ranges (ADR 0004), in score order too.
    found = [p["id"] for p in api("/people?sort=-score&q=h").json()["items"]]
    assert found == sorted(scored["head"], reverse=True)


def test_engagement_sort_and_bad_cursors_are_refused(api, scored):
    assert len(_walk(api, "-engagement_score", 3)) == 8
    page = api("/people?sort=-name&limit=1").json()
    refused = api(f"/people?sort=-score&limit=1&cursor={page['next_cursor']}")
    assert refused.status_code == 422 and "cursor" in refused.content.decode()
    assert api("/people?sort=shoe_size").status_code == 422


def test_the_people_list_offers_and_applies_the_score_sort(client, marketer, scored):
    client.force_login(marketer)
    page = client.get("/people/?sort=-score").content.decode()
    assert "Score, highest first" in page and "Engagement score, lowest first" in page
    rows = [f'href="/people/{scored[k][-1]}/"' for k in ("vp", "head", "intern", "unscored")]
    at = [page.index(row) for row in rows]
    assert at == sorted(at)


def test_the_export_follows_the_score_sort(client, marketer, scored):
    client.force_login(marketer)
    response = client.get("/people/export.csv?sort=-score")
    lines = b"".join(response.streaming_content).decode().splitlines()
    ids = [int(line.split(",")[0]) for line in lines[1:]]
    assert ids[:2] == sorted(scored["vp"], reverse=True) and ids[-1] == scored["unscored"][0]
