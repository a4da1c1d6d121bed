"""The people API as an integrator uses it: flat fields in, the full person out, clear refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.people import services
from tandem.people.models import ActivityKind, Company, CustomField, Person, Stage, StageChange


@pytest.fixture
def api(client, marketer, system):
    """The test client, calling as the marketer with a read-write token."""
    _, raw = create_token(actor=system, user=marketer, name="tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def post(api, path, body):
    return api.post(f"/api/v1{path}", body, content_type="application/json")


def patch(api, path, body):
    return api.patch(f"/api/v1{path}", body, content_type="application/json")


def errors(response) -> dict[str, str]:
    """{field: message} from a 422 body, the field being the last part of loc."""
    return {str(e["loc"][-1]): e["msg"] for e in response.json()["detail"]}


@pytest.fixture
def ada(system, salesperson):
    acme = services.create_company(actor=system, data={"name": "Acme"})
    return services.create_person(
        actor=system,
        data={"first_name": "Ada", "last_name": "Lovelace", "company": acme, "owner": salesperson},
        email="ada@example.com",
        phone="+14155550100",
    )


# --- create --------------------------------------------------------------------------


def test_create_takes_flat_fields_and_returns_the_full_person(api, salesperson):
    response = post(
        api,
        "/people",
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": " Grace@Navy.MIL ",
            "phone": "020 7946 0018",
            "country": "GB",
            "company": "Royal Navy",
            "title": "Rear Admiral",
            "city": "London",
            "stage": "mql",
            "owner": "sam",
            "source": "conference",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "grace@navy.mil"
    assert body["emails"] == [
        {"id": body["emails"][0]["id"], "email": "Grace@Navy.MIL", "is_primary": True}
    ]
    assert body["phone"] == "+442079460018"
    assert body["phones"][0]["original"] == "020 7946 0018"
    assert body["company"]["name"] == "Royal Navy"
    assert body["owner"] == {"id": salesperson.pk, "username": "sam"}
    assert body["stage"] == "mql" and body["stage_changed_at"]
    assert body["url"].endswith(f"/people/{body['id']}/")
    person = Person.objects.get(pk=body["id"])
    assert (
        person.title == "Rear Admiral" and person.city == "London" and person.source == "conference"
    )


def test_create_with_a_company_name_reuses_the_existing_company(api, ada):
    response = post(api, "/people", {"last_name": "Byron", "company": "ACME"})
    assert response.json()["company"] == {"id": ada.company_id, "name": "Acme"}
    assert Company.objects.count() == 1


def test_create_with_a_company_id_and_owner_id(api, ada, manager):
    response = post(
        api, "/people", {"last_name": "Byron", "company": ada.company_id, "owner": manager.pk}
    )
    assert response.status_code == 201
    assert response.json()["company"]["id"] == ada.company_id
    assert response.json()["owner"]["username"] == "max"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_name": "X", "email": "not-an-email"}, "email"),
        ({"last_name": "X", "phone": "12"}, "phone"),
        ({"last_name": "X", "owner": "nobody"}, "owner"),
        ({"last_name": "X", "company": 99999}, "company"),
        ({"last_name": "X", "stage": "hot"}, "stage"),
        ({"last_name": "X", "country": "Narnia"}, "country"),
        ({"last_name": "X" * 101}, "last_name"),
        ({"last_name": "X", "nickname": "Y"}, "nickname"),
        ({"first_name": 7}, "first_name"),
        ({"last_name": "X", "company": True}, "company"),
        ({"last_name": "X", "company": "C" * 201}, "company"),  # a new company's name
        ({"last_name": "X", "owner": 1.5}, "owner"),
        ({}, "last_name"),
    ],
)
def test_bad_fields_get_422_naming_the_field_and_store_nothing(api, body, field):
    response = post(api, "/people", body)
    assert response.status_code == 422, response.content
    assert field in errors(response)
    assert not Person.objects.exists()


def test_a_rejected_create_does_not_leave_a_new_company_behind(api):
    response = post(api, "/people", {"last_name": "X", "company": "Brand New Ltd", "email": "bad"})
    assert response.status_code == 422
    assert not Company.objects.exists()


def test_a_taken_email_is_409_naming_the_person_who_has_it(api, ada):
    response = post(api, "/people", {"last_name": "Other", "email": "  ADA@example.com"})
    assert response.status_code == 409
    assert response.json()["existing_person_id"] == ada.pk
    assert "ada@example.com" in response.json()["detail"]
    assert Person.objects.count() == 1


def test_custom_field_errors_name_the_custom_field(api, system):
    CustomField.objects.create(entity="person", key="budget", label="Budget", field_type="number")
    response = post(api, "/people", {"last_name": "X", "custom_fields": {"budget": "lots"}})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "custom_fields", "budget"]
    ok = post(api, "/people", {"last_name": "X", "custom_fields": {"budget": "1200"}})
    assert ok.json()["custom_fields"] == {"budget": 1200}


# --- read ------------------------------------------------------------------------------


def test_get_returns_emails_phones_company_and_owner(api, ada):
    body = api.get(f"/api/v1/people/{ada.pk}").json()
    assert body["full_name"] == "Ada Lovelace"
    assert [e["email"] for e in body["emails"]] == ["ada@example.com"]
    assert [p["number"] for p in body["phones"]] == ["+14155550100"]
    assert body["company"]["name"] == "Acme" and body["owner"]["username"] == "sam"


def test_unknown_and_deleted_people_are_404(api, ada, system):
    assert api.get("/api/v1/people/999999").status_code == 404
    services.delete_person(actor=system, person=ada)
    response = api.get(f"/api/v1/people/{ada.pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# --- update ------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api, ada):
    response = patch(
        api, f"/people/{ada.pk}", {"title": "Analyst", "company": "Analytical Engines"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Analyst" and body["company"]["name"] == "Analytical Engines"
    assert body["first_name"] == "Ada" and body["email"] == "ada@example.com"
    assert body["owner"]["username"] == "sam"


def test_patch_with_null_clears_a_field(api, ada):
    body = patch(api, f"/people/{ada.pk}", {"owner": None, "company": None, "phone": None}).json()
    assert body["owner"] is None and body["company"] is None and body["phone"] == ""


def test_patch_email_makes_it_the_primary_one(api, ada):
    body = patch(api, f"/people/{ada.pk}", {"email": "countess@example.com"}).json()
    assert body["email"] == "countess@example.com"
    assert [(e["email"], e["is_primary"]) for e in body["emails"]] == [
        ("countess@example.com", True),
        ("ada@example.com", False),
    ]


def test_patch_stage_is_refused_pointing_to_the_stage_endpoint(api, ada):
    response = patch(api, f"/people/{ada.pk}", {"stage": "customer"})
    assert response.status_code == 422
    assert "/stage" in errors(response)["stage"]
    assert Person.objects.get(pk=ada.pk).stage == Stage.LEAD


def test_a_patch_with_one_bad_field_changes_nothing(api, ada):
    before_audit = AuditEvent.objects.count()
    response = patch(
        api,
        f"/people/{ada.pk}",
        {
            "title": "Countess",
            "email": "countess@example.com",
            "company": "New Co",
            "phone": "nope",
        },
    )
    assert response.status_code == 422
    assert "phone" in errors(response)
    ada.refresh_from_db()
    assert ada.title == "" and ada.email == "ada@example.com" and ada.phone == "+14155550100"
    assert ada.emails.count() == 1
    assert not Company.objects.filter(name="New Co").exists()
    assert AuditEvent.objects.count() == before_audit


def test_patch_to_an_email_someone_else_has_is_409(api, ada, system):
    other = services.create_person(actor=system, data={"last_name": "Other"}, email="o@example.com")
    response = patch(api, f"/people/{other.pk}", {"email": "ADA@example.com", "title": "x"})
    assert response.status_code == 409
    assert response.json()["existing_person_id"] == ada.pk
    other.refresh_from_db()
    assert other.email == "o@example.com" and other.title == ""


def test_malformed_json_is_400_with_a_clear_message(api, ada):
    response = api.patch(f"/api/v1/people/{ada.pk}", '{"title": ', content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


# --- stage, timeline, activities --------------------------------------------------------


def test_stage_change_is_recorded_with_who_and_why(api, ada, marketer):
    response = post(api, f"/people/{ada.pk}/stage", {"to": "mql", "reason": "Downloaded the guide"})
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "mql"
    history = api.get(f"/api/v1/people/{ada.pk}/stages").json()["items"]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [("lead", "mql"), ("", "lead")]
    assert history[0]["reason"] == "Downloaded the guide"
    assert history[0]["actor"] == {"id": marketer.pk, "username": "mia"}
    assert "token" in history[0]["actor_label"]


def test_going_backwards_without_a_reason_is_422_naming_reason(api, ada, system):
    services.change_stage(person=ada, to_stage="opportunity", actor=system)
    response = post(api, f"/people/{ada.pk}/stage", {"to": "lead"})
    assert response.status_code == 422
    assert "reason" in errors(response)
    assert StageChange.objects.filter(person=ada).count() == 2


def test_unknown_stage_is_422_naming_to(api, ada):
    response = post(api, f"/people/{ada.pk}/stage", {"to": "hot"})
    assert response.status_code == 422 and "to" in errors(response)


def test_logged_activities_and_stage_changes_share_the_timeline(api, ada):
    earlier = timezone.now() - dt.timedelta(days=2)
    response = post(
        api,
        f"/people/{ada.pk}/activities",
        {
            "kind": "call",
            "subject": "Intro call",
            "outcome": "Wants a demo",
            "occurred_at": earlier.isoformat(),
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == ActivityKind.CALL and response.json()["person_id"] == ada.pk
    post(api, f"/people/{ada.pk}/stage", {"to": "sal"})
    items = api.get(f"/api/v1/people/{ada.pk}/timeline").json()["items"]
    assert [i["kind"] for i in items] == ["stage", "stage", "call"]
    assert items[2]["title"] == "Intro call" and items[2]["outcome"] == "Wants a demo"
    older = api.get(
        f"/api/v1/people/{ada.pk}/timeline", {"before": earlier.isoformat(), "limit": 5}
    )
    assert older.status_code == 200


def test_an_empty_activity_is_422_naming_body(api, ada):
    response = post(api, f"/people/{ada.pk}/activities", {"kind": "note"})
    assert response.status_code == 422 and "body" in errors(response)


# --- emails and phones -----------------------------------------------------------------


def test_add_and_remove_emails(api, ada):
    added = post(api, f"/people/{ada.pk}/emails", {"email": "ada@work.example"})
    assert added.status_code == 201 and added.json()["is_primary"] is False
    primary_id = api.get(f"/api/v1/people/{ada.pk}").json()["emails"][0]["id"]
    assert api.delete(f"/api/v1/people/{ada.pk}/emails/{primary_id}").status_code == 204
    body = api.get(f"/api/v1/people/{ada.pk}").json()
    assert body["email"] == "ada@work.example"
    assert body["emails"][0]["is_primary"] is True


def test_make_another_email_the_primary_one(api, ada):
    added = post(api, f"/people/{ada.pk}/emails", {"email": "ada@work.example"}).json()
    response = api.post(f"/api/v1/people/{ada.pk}/emails/{added['id']}/primary")
    assert response.status_code == 200, response.content
    assert response.json()["email"] == "ada@work.example"
    assert [e["is_primary"] for e in response.json()["emails"]] == [True, False]


def test_adding_an_email_another_person_has_is_409(api, ada, system):
    other = services.create_person(actor=system, data={"last_name": "Other"})
    response = post(api, f"/people/{other.pk}/emails", {"email": "Ada@Example.com"})
    assert response.status_code == 409 and response.json()["existing_person_id"] == ada.pk


def test_an_invalid_email_or_phone_is_422_naming_it(api, ada):
    assert "email" in errors(post(api, f"/people/{ada.pk}/emails", {"email": "nope"}))
    assert "phone" in errors(post(api, f"/people/{ada.pk}/phones", {"phone": "12"}))


def test_add_and_remove_phones(api, ada):
    added = post(
        api,
        f"/people/{ada.pk}/phones",
        {"phone": "+1 415 555 0199", "kind": "mobile", "make_primary": True},
    )
    assert added.status_code == 201
    assert added.json()["number"] == "+14155550199" and added.json()["kind"] == "mobile"
    assert api.get(f"/api/v1/people/{ada.pk}").json()["phone"] == "+14155550199"
    assert api.delete(f"/api/v1/people/{ada.pk}/phones/{added.json()['id']}").status_code == 204
    assert api.get(f"/api/v1/people/{ada.pk}").json()["phone"] == "+14155550100"


def test_removing_another_persons_email_or_an_unknown_one_is_404(api, ada, system):
    other = services.create_person(actor=system, data={"last_name": "Other"}, email="o@example.com")
    ada_email = ada.emails.get().pk
    assert api.delete(f"/api/v1/people/{other.pk}/emails/{ada_email}").status_code == 404
    assert api.delete(f"/api/v1/people/{ada.pk}/phones/999999").status_code == 404
    assert ada.emails.count() == 1


# --- delete and restore ------------------------------------------------------------------


def test_delete_hides_the_person_and_an_admin_restores_them(api, ada, admin, system):
    assert api.delete(f"/api/v1/people/{ada.pk}").status_code == 204
    assert api.get("/api/v1/people").json()["count"] == 0
    assert post(api, f"/people/{ada.pk}/restore", {}).status_code == 403
    _, raw = create_token(actor=system, user=admin, name="admin")
    response = api.post(
        f"/api/v1/people/{ada.pk}/restore", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200 and response.json()["deleted_at"] is None
    assert api.get(f"/api/v1/people/{ada.pk}").status_code == 200


# --- lists ---------------------------------------------------------------------------


@pytest.fixture
def crowd(system, salesperson):
    acme = services.create_company(actor=system, data={"name": "Acme"})
    rows = [
        ("Ada", "Lovelace", "lead", salesperson, acme),
        ("Alan", "Turing", "mql", None, None),
        ("Grace", "Hopper", "customer", salesperson, None),
        ("Edsger", "Dijkstra", "lead", None, acme),
    ]
    return {
        last: services.create_person(
            actor=system,
            data={"first_name": first, "last_name": last, "owner": owner, "company": company},
            email=f"{first}@example.com".lower(),
            stage=stage,
        )
        for first, last, stage, owner, company in rows
    }


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["last_name"] for p in response.json()["items"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Dijkstra", "Hopper", "Lovelace", "Turing"]),
        ({"email": "  ALAN@Example.COM "}, ["Turing"]),
        ({"q": "gra"}, ["Hopper"]),
        ({"q": "acme"}, ["Dijkstra", "Lovelace"]),
        ({"stage": "lead"}, ["Dijkstra", "Lovelace"]),
        ({"owner": "sam"}, ["Hopper", "Lovelace"]),
        ({"owner": "none"}, ["Dijkstra", "Turing"]),
        ({"sort": "-name"}, ["Turing", "Lovelace", "Hopper", "Dijkstra"]),
        ({"sort": "created_at"}, ["Lovelace", "Turing", "Hopper", "Dijkstra"]),
    ],
)
def test_list_filters_and_sorts(api, crowd, params, expected):
    assert names(api.get("/api/v1/people", params)) == expected


def test_list_filters_by_company_and_updated_since(api, crowd, system):
    acme = crowd["Lovelace"].company_id
    assert names(api.get("/api/v1/people", {"company": acme})) == ["Dijkstra", "Lovelace"]
    later = timezone.now() + dt.timedelta(seconds=1)
    assert names(api.get("/api/v1/people", {"updated_since": later.isoformat()})) == []


def test_updated_since_without_an_offset_is_read_as_utc(api, crowd, settings):
    settings.TIME_ZONE = "America/New_York"  # not the reading of a time the API is sent
    changed = max(p.updated_at for p in crowd.values())
    just_before = (changed - dt.timedelta(hours=1)).astimezone(dt.UTC).replace(tzinfo=None)
    assert names(api.get("/api/v1/people", {"updated_since": just_before.isoformat()}))
    just_after = (changed + dt.timedelta(seconds=1)).astimezone(dt.UTC).replace(tzinfo=None)
    assert names(api.get("/api/v1/people", {"updated_since": just_after.isoformat()})) == []
    assert names(api.get("/api/v1/companies", {"updated_since": just_after.isoformat()})) == []


def test_list_pages_by_offset_and_by_cursor(api, crowd):
    first = api.get("/api/v1/people", {"limit": 3}).json()
    assert first["count"] == 4 and first["count_exact"] is True and first["limit"] == 3
    assert [p["last_name"] for p in first["items"]] == ["Dijkstra", "Hopper", "Lovelace"]
    rest = api.get("/api/v1/people", {"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [p["last_name"] for p in rest["items"]] == ["Turing"] and rest["next_cursor"] is None
    by_offset = api.get("/api/v1/people", {"limit": 3, "offset": 3}).json()
    assert [p["last_name"] for p in by_offset["items"]] == ["Turing"] and by_offset["offset"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"stage": "hot"}, "stage"),
        ({"sort": "shoe_size"}, "sort"),
        ({"updated_since": "yesterday"}, "updated_since"),
    ],
)
def test_bad_list_parameters_are_422_naming_them(api, crowd, params, field):
    response = api.get("/api/v1/people", params)
    assert response.status_code == 422
    assert field in errors(response)
    assert response.json()["detail"][0]["loc"][0] == "query"
