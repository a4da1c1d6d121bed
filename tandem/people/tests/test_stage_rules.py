import pytest
from django.core.exceptions import ValidationError

from tandem.people import services
from tandem.people.models import StageChange


@pytest.fixture
def person(system):
    return services.create_person(
        actor=system, data={"first_name": "Ada", "last_name": "Lovelace"}, email="ada@example.com"
    )


def test_moving_forward_needs_no_reason(person, system):
    services.change_stage(person=person, to_stage="mql", actor=system)
    person.refresh_from_db()
    assert person.stage == "mql"
    assert StageChange.objects.filter(person=person, from_stage="lead", to_stage="mql").exists()


@pytest.mark.parametrize("to_stage", ["subscriber", "disqualified", "recycled"])
def test_going_backwards_or_out_needs_a_reason(person, system, to_stage):
    with pytest.raises(ValidationError) as err:
        services.change_stage(person=person, to_stage=to_stage, actor=system)
    assert "reason" in err.value.message_dict
    person.refresh_from_db()
    assert person.stage == "lead"


def test_email_variants_are_the_same_person(person, system):
    with pytest.raises(services.DuplicateEmailError) as err:
        services.create_person(actor=system, data={"first_name": "A"}, email="  ADA@Example.com ")
    assert err.value.person_id == person.pk


def test_one_reply_names_every_bad_field(system):
    with pytest.raises(ValidationError) as err:
        services.create_person(
            actor=system,
            data={"first_name": "A", "country": "Narnia"},
            email="nope",
            phone="12",
            stage="hot",
        )
    assert {"email", "phone", "country", "stage"} <= set(err.value.message_dict)
