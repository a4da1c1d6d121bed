"""The attribution page and its CSV: pickers, one model, the models side by side, the
export in plain decimals, errors named on the page, sign-in required."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from tandem.attribution.engine import MODELS
from tandem.attribution.tests.factories import at, campaign, deal, person, touch
from tandem.campaigns.models import CampaignCost

PERIOD = "from=2026-11-01&to=2026-11-30"


@pytest.fixture
def won(system):
    guide, fair = campaign(system, "guide", "Pricing guide"), campaign(system, "fair", "=Fair")
    ann = person(system, "Ann", lead_at=at("2026-10-01"))
    touch(ann, at("2026-10-01"), guide)
    touch(ann, at("2026-10-20"), fair, kind="booth_scan")
    touch(ann, at("2026-10-25"), fair, kind="call")
    deal([ann], amount="1234.56", created=at("2026-11-02"), closed=at("2026-11-20"))
    CampaignCost.objects.create(campaign=guide, spent_on="2026-11-02", amount="100.00")
    return guide, fair


def rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_page_shows_the_chosen_model(client, marketer, won):
    client.force_login(marketer)
    response = client.get(f"{reverse('attribution:report')}?model=u_shaped&{PERIOD}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "U-shaped (40/20/40) by campaign" in html
    assert "Pricing guide" in html and "493.82" in html  # 40 % of 1234.56 = 493.824
    assert 'option value="markov"' in html and 'option value="kind"' in html
    assert 'href="/attribution/"' in html  # the main menu links here


def test_models_side_by_side(client, marketer, won):
    client.force_login(marketer)
    response = client.get(f"{reverse('attribution:report')}?view=compare&{PERIOD}")
    html = response.content.decode()
    for label in MODELS.values():
        assert label in html
    assert html.count("1,234.56") >= len(MODELS)  # each column's total


def test_csv_of_one_model_in_plain_decimals(client, manager, won):
    client.force_login(manager)
    response = client.get(f"{reverse('attribution:export')}?model=first_touch&{PERIOD}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    table = rows(response)
    assert table[0] == [
        "key",
        "campaign",
        "revenue",
        "pipeline",
        "deals_won",
        "deals_open",
        "cost",
        "roi",
    ]
    assert table[1] == [
        str(won[0].pk),
        "Pricing guide",
        "1234.56",
        "0.00",
        "1",
        "0",
        "100.00",
        "11.3456",
    ]
    assert table[-1][:3] == ["", "Total", "1234.56"]


def test_csv_of_the_models_side_by_side(client, manager, won):
    client.force_login(manager)
    response = client.get(f"{reverse('attribution:export')}?view=compare&{PERIOD}")
    table = rows(response)
    assert table[0] == ["key", "campaign", *MODELS]
    by_label = {row[1]: row[2:] for row in table[1:]}
    # A campaign name starting with "=" is not run by a spreadsheet.
    assert by_label["'=Fair"][list(MODELS).index("last_touch")] == "1234.56"
    assert by_label["Total"] == ["1234.56"] * len(MODELS)
    for column in range(2, 2 + len(MODELS)):
        assert sum(float(row[column]) for row in table[1:-1]) == pytest.approx(1234.56)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("model=best", "model"),
        ("group_by=owner", "group_by"),
        ("from=11/01/2026", "from"),
        ("from=2026-11-30&to=2026-11-01", "to"),
        ("half_life=soon", "half_life"),
        ("half_life=0", "half_life"),
    ],
)
def test_bad_input_is_named_on_the_page_and_refused_by_the_csv(client, marketer, query, field):
    client.force_login(marketer)
    page = client.get(f"{reverse('attribution:report')}?{query}")
    assert page.status_code == 200
    assert f'id="err-{field}">' in page.content.decode()
    assert f'id="err-{field}"></p>' not in page.content.decode()
    export = client.get(f"{reverse('attribution:export')}?{query}")
    assert export.status_code == 400 and export.content.decode().startswith(field)


@pytest.mark.parametrize("name", ["attribution:report", "attribution:export"])
def test_sign_in_required(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize("role", ["admin", "manager", "marketer", "salesperson"])
def test_every_role_sees_the_page(client, users_by_role, role):
    client.force_login(users_by_role[role])
    assert client.get(reverse("attribution:report")).status_code == 200
    assert client.get(reverse("attribution:export")).status_code == 200
