"""Accepting and sending back a hand-off: the stage moves, the owner, the timeline, the audit
trail and who in marketing hears of it (issue 20, point 7; J3's first half)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.core.models import AuditEvent
from tandem.notifications.models import Notification
from tandem.people.models import Activity, Person, StageChange
from tandem.people.queries import person_timeline
from tandem.routing import handoffs, reasons
from tandem.routing.models import Handoff, HandoffStatus, SendBackReason
from tandem.routing.tests.handoff_factories import campaign, handoff, lead, routed_lead, touch

pytestmark = pytest.mark.django_db


def events(target) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            target_type=target._meta.label_lower, target_id=target.pk
        ).values_list("event", flat=True)
    )


def test_the_seeded_reasons_are_the_issues_list():
    assert list(handoffs.active_reasons().values_list("key", flat=True)) == [
        "not_decision_maker",
        "no_budget",
        "bad_timing",
        "not_a_fit",
        "duplicate",
        "spam",
        "other",
    ]
    assert SendBackReason.objects.get(key="not_decision_maker").label == "Not the decision maker"


def test_accepting_moves_the_lead_to_sales_accepted(salesperson):
    person, h = routed_lead(salesperson)
    answered = handoffs.accept_handoff(actor=Actor.for_user(salesperson), person=person)
    person.refresh_from_db()
    assert person.stage == "sal"
    assert person.owner == salesperson  # the owner keeps the lead
    assert answered.status == HandoffStatus.ACCEPTED
    assert answered.responded_by == salesperson and answered.responded_at is not None
    assert events(h) == ["handoff_accepted"]
    assert "stage_changed" in events(person)
    change = StageChange.objects.filter(person=person).first()
    assert (change.from_stage, change.to_stage, change.actor) == ("mql", "sal", salesperson)


def test_accepting_never_moves_a_person_backwards(salesperson, system):
    from tandem.people import services as people

    person, h = routed_lead(salesperson)
    people.change_stage(person=person, to_stage="opportunity", actor=system)
    handoffs.accept_handoff(actor=Actor.for_user(salesperson), person=person)
    person.refresh_from_db()
    assert person.stage == "opportunity"
    h.refresh_from_db()
    assert h.status == HandoffStatus.ACCEPTED


def test_send_back_returns_the_lead_to_marketing_with_reason_and_note(salesperson, marketer):
    person, h = routed_lead(salesperson)
    answered = handoffs.send_back_handoff(
        actor=Actor.for_user(salesperson),
        person=person,
        reason="not_decision_maker",
        note="The CFO signs; she is the assistant.",
    )
    person.refresh_from_db()
    assert person.stage == "recycled"
    assert person.owner is None  # marketing's again
    assert answered.status == HandoffStatus.SENT_BACK
    assert answered.owner == salesperson  # the hand-off keeps who had it
    assert answered.responded_by == salesperson
    assert (answered.send_back_reason, answered.send_back_note) == (
        "not_decision_maker",
        "The CFO signs; she is the assistant.",
    )
    # The timeline says why, in words.
    titles = {(e.kind, e.title, e.body) for e in person_timeline(person)}
    assert (
        "note",
        "Sent back to marketing: Not the decision maker",
        "The CFO signs; she is the assistant.",
    ) in titles
    assert (
        "stage",
        "Marketing qualified → Recycled",
        "Sent back to marketing: Not the decision maker",
    ) in titles
    # The audit trail: the hand-off's answer, the stage move and the owner cleared.
    assert events(h) == ["handoff_sent_back"]
    sent = AuditEvent.objects.get(event="handoff_sent_back")
    assert sent.actor == salesperson
    assert sent.changes["send_back_reason"] == [None, "not_decision_maker"]
    person_events = events(person)
    assert "stage_changed" in person_events
    owner_change = AuditEvent.objects.get(event="changed", target_id=person.pk)
    assert owner_change.changes["owner"] == [salesperson.pk, None]


def test_send_back_tells_the_campaign_owner_else_every_marketer(
    salesperson, marketer, manager, admin
):
    routed = timezone.now()
    owned = campaign("Guide download", owner=manager)
    person, h = routed_lead(salesperson, routed_at=routed)
    touch(person, owned, routed - dt.timedelta(days=2))
    handoffs.send_back_handoff(actor=Actor.for_user(salesperson), person=person, reason="no_budget")
    told = Notification.objects.get(key=f"send_back:{h.pk}")
    assert told.user == manager and told.kind == "send_back"
    assert told.title == f"{person} sent back: No budget"
    assert told.url == f"/people/{person.pk}/"

    other, h2 = routed_lead(salesperson, last_name="Other")
    handoffs.send_back_handoff(actor=Actor.for_user(salesperson), person=other, reason="spam")
    assert list(
        Notification.objects.filter(key=f"send_back:{h2.pk}").values_list("user", flat=True)
    ) == [marketer.pk]


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Choose why"),
        (None, "Choose why"),
        ("bored", "'bored' is not a send-back reason"),
    ],
)
def test_send_back_needs_a_reason_from_the_list(salesperson, reason, message):
    person, h = routed_lead(salesperson)
    with pytest.raises(ValidationError) as err:
        handoffs.send_back_handoff(actor=Actor.for_user(salesperson), person=person, reason=reason)
    assert list(err.value.message_dict) == ["reason"]
    assert message in err.value.message_dict["reason"][0]
    person.refresh_from_db()
    h.refresh_from_db()
    assert (person.stage, person.owner, h.status) == ("mql", salesperson, "open")
    assert not AuditEvent.objects.filter(event="handoff_sent_back").exists()


def test_a_retired_reason_is_refused_but_old_send_backs_keep_it(salesperson, admin):
    admin_actor = Actor.for_user(admin)
    person, _ = routed_lead(salesperson)
    handoffs.send_back_handoff(actor=Actor.for_user(salesperson), person=person, reason="duplicate")
    reasons.deactivate_reason(actor=admin_actor, reason=SendBackReason.objects.get(key="duplicate"))
    other, _ = routed_lead(salesperson, last_name="Other")
    with pytest.raises(ValidationError) as err:
        handoffs.send_back_handoff(
            actor=Actor.for_user(salesperson), person=other, reason="duplicate"
        )
    assert "reason" in err.value.message_dict
    assert Handoff.objects.get(person=person).send_back_reason == "duplicate"


def test_a_note_longer_than_the_limit_is_refused(salesperson):
    person, _ = routed_lead(salesperson)
    with pytest.raises(ValidationError) as err:
        handoffs.send_back_handoff(
            actor=Actor.for_user(salesperson), person=person, reason="other", note="x" * 2001
        )
    assert list(err.value.message_dict) == ["note"]


def test_no_open_hand_off_is_an_error_naming_the_person(salesperson):
    person = lead(salesperson)  # never routed
    with pytest.raises(ValidationError) as err:
        handoffs.accept_handoff(actor=Actor.for_user(salesperson), person=person)
    assert list(err.value.message_dict) == ["person"]
    answered, h = routed_lead(salesperson, last_name="Answered")
    handoffs.accept_handoff(actor=Actor.for_user(salesperson), person=answered)
    with pytest.raises(ValidationError) as err:
        handoffs.send_back_handoff(
            actor=Actor.for_user(salesperson), person=answered, reason="other"
        )
    assert "no open hand-off" in err.value.message_dict["person"][0]
    h.refresh_from_db()
    assert h.status == HandoffStatus.ACCEPTED


def test_an_earlier_hand_off_is_not_answered(salesperson):
    person = lead(salesperson)
    handoff(person, status=HandoffStatus.REASSIGNED, is_current=False)
    with pytest.raises(ValidationError):
        handoffs.accept_handoff(actor=Actor.for_user(salesperson), person=person)


def test_another_salesperson_may_not_answer_and_nothing_changes(salesperson, other_salesperson):
    person, h = routed_lead(salesperson)
    for answer in (
        lambda: handoffs.accept_handoff(actor=Actor.for_user(other_salesperson), person=person),
        lambda: handoffs.send_back_handoff(
            actor=Actor.for_user(other_salesperson), person=person, reason="spam"
        ),
    ):
        with pytest.raises(PermissionDenied):
            answer()
    person = Person.objects.get(pk=person.pk)
    h.refresh_from_db()
    assert (person.stage, person.owner, h.status) == ("mql", salesperson, "open")
    assert not Activity.objects.filter(person=person).exists()
    assert not Notification.objects.exists()


def test_a_refused_caller_learns_nothing_about_the_reason(other_salesperson, salesperson):
    person, _ = routed_lead(salesperson)
    with pytest.raises(PermissionDenied):
        handoffs.send_back_handoff(
            actor=Actor.for_user(other_salesperson), person=person, reason="bored"
        )
