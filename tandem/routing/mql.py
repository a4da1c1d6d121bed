"""Who becomes marketing qualified, and why (issue 20, point 1).

Three triggers move a person to `mql` with the reason on their stage history, and
route them (`engine.route_people`):

- the rule score reaching the active rule set's MQL threshold (scoring's
  `ThresholdStep`, after the rescore's commit);
- a "contact me" request on a web form (capture marks the touchpoint
  `detail["contact_request"]`; people's `PeopleTouchedStep` tells us the person was
  touched, and we look after the commit);
- the admin-approved predictive model's likelihood reaching the threshold set on the
  routing page (`RoutingSettings.model_mql_likelihood`), checked by the worker's
  routing loop: scoring stores predictions in bulk and announces nothing, so we look.

Only subscribers, leads and recycled people move: a disqualified person, a customer
or an opportunity is never pulled back. Someone at `mql` already with a current
hand-off is not routed again (a repeated crossing routes once); someone at `mql`
with no hand-off (moved by hand) is routed, so no lead waits unrouted.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field

from django.db import close_old_connections, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.campaigns.models import Touchpoint
from tandem.people.bulk import change_stage_bulk
from tandem.people.models import Person, Stage
from tandem.routing import met_in_person
from tandem.routing.engine import Routed, route_people
from tandem.routing.models import Handoff, RoutingSettings
from tandem.scoring.extensions import Crossing
from tandem.scoring.models import PersonPrediction
from tandem.scoring.predictive.queries import model_feeds_mql

log = logging.getLogger(__name__)

ELIGIBLE = (Stage.SUBSCRIBER.value, Stage.LEAD.value, Stage.RECYCLED.value)
CHUNK = 5000


def routing_actor() -> Actor:
    return Actor.system("routing")


@dataclass
class Qualified:
    moved: dict[int, str] = field(default_factory=dict)  # person id -> the stage they left
    routed: Routed = field(default_factory=Routed)


def qualify(
    *, reasons: dict[int, str], actor: Actor | None = None, now: dt.datetime | None = None
) -> Qualified:
    """Move these people to MQL (each with their reason) and route them, in one transaction.

    Set-based: one stage change and one routing for the whole set, whatever its size.
    """
    actor = actor or routing_actor()
    now = now or timezone.now()
    ids = sorted(reasons)
    if not ids:
        return Qualified()
    with transaction.atomic():
        moved = change_stage_bulk(
            actor=actor,
            person_ids=ids,
            to_stage=Stage.MQL,
            reasons=reasons,
            from_stages=ELIGIBLE,
            now=now,
        )
        rest = [pk for pk in ids if pk not in moved]
        waiting: list[int] = []
        current = Handoff.objects.filter(person_id=OuterRef("pk"), is_current=True)
        for start in range(0, len(rest), CHUNK):
            waiting += list(
                Person.objects.filter(
                    pk__in=rest[start : start + CHUNK], stage=Stage.MQL, deleted_at__isnull=True
                )
                .exclude(Exists(current))
                .values_list("pk", flat=True)
            )
        routed = route_people(actor=actor, person_ids=[*moved, *waiting], reasons=reasons, now=now)
    return Qualified(moved=moved, routed=routed)


def _safely(what: str, reasons: dict[int, str]) -> Qualified | None:
    """Run `qualify` after another app's commit: a failure is logged, never raised into
    the write that triggered it (the next trigger, or the loop, tries again)."""
    try:
        return qualify(reasons=reasons)
    except Exception:
        log.exception("moving %s people to MQL (%s) failed", len(reasons), what)
        return None


# --- trigger: the rule score ---------------------------------------------------------------


def score_crossed(crossing: Crossing) -> None:
    """scoring's ThresholdStep: people whose score reached the MQL threshold."""
    reasons = {
        pk: f"Score {score} reached the MQL threshold {crossing.threshold} "
        f"(rule set v{crossing.rule_set_version})"
        for pk, score in crossing.scores.items()
    }
    _safely("score", reasons)


# --- trigger: "contact me" on a web form ---------------------------------------------------


_pending = threading.local()


def people_touched(person_ids: list[int], why: str) -> None:
    """people's PeopleTouchedStep: after the commit, look for "contact me" requests among
    these people (one query per transaction, however many were touched)."""
    pending = getattr(_pending, "ids", None)
    if pending is None:
        pending = _pending.ids = set()
    pending.update(int(i) for i in person_ids)
    transaction.on_commit(_after_commit)


def _after_commit() -> None:
    ids = sorted(getattr(_pending, "ids", set()))
    _pending.ids = set()
    if not ids:
        return
    # Most touched people (a web form's batch of newsletter sign-ups) asked for nothing and
    # were met nowhere: one query finds the few worth the two checks' three queries, which
    # were a sixth of the capture drain's time when run for every batch.
    worth = _worth_a_look(ids)
    if worth:
        contact_requests(worth)
        met_in_person.safely(worth)  # J4: met at a booth or in a store, not routed: a task


def _worth_a_look(person_ids: list[int]) -> list[int]:
    """Those of these people with a "contact me" or a met-in-person touchpoint (each
    check then applies its own conditions)."""
    found: set[int] = set()
    for start in range(0, len(person_ids), CHUNK):
        found.update(
            Touchpoint.objects.filter(person_id__in=person_ids[start : start + CHUNK])
            .filter(Q(detail__contact_request=True) | Q(kind__in=met_in_person.MET_IN_PERSON))
            .values_list("person_id", flat=True)
        )
    return sorted(found)


def contact_requests(person_ids: list[int]) -> Qualified | None:
    """Move to MQL and route those of these people who asked to be contacted since their
    stage last changed (so a request already answered, then sent back, is not replayed)."""
    reasons: dict[int, str] = {}
    for start in range(0, len(person_ids), CHUNK):
        rows = (
            Touchpoint.objects.filter(
                person_id__in=person_ids[start : start + CHUNK],
                detail__contact_request=True,
                person__stage__in=(*ELIGIBLE, Stage.MQL),
                person__deleted_at__isnull=True,
            )
            .filter(
                Q(person__stage_changed_at__isnull=True)
                | Q(created_at__gte=F("person__stage_changed_at"))
            )
            .order_by("person_id", "-occurred_at")
            .values_list("person_id", "detail__form", "occurred_at")
        )
        for pk, form_key, occurred_at in rows:
            if pk not in reasons:
                where = f" on web form {form_key}" if form_key else ""
                reasons[pk] = f"Asked to be contacted{where} ({occurred_at:%Y-%m-%d %H:%M})"
    return _safely("contact request", reasons) if reasons else None


# --- trigger: the admin-approved predictive model --------------------------------------------


def model_crossings(*, now: dt.datetime | None = None) -> Qualified | None:
    """Move to MQL and route the subscribers, leads and recycled people whose likelihood
    under the active (admin-approved) model is at least the routing threshold.

    Nothing happens while no version is active or no threshold is set. A recycled
    person is taken again only when predicted after they were recycled.
    """
    threshold = RoutingSettings.current().model_mql_likelihood
    if threshold is None or not model_feeds_mql():
        return None
    rows = (
        PersonPrediction.objects.filter(
            version__is_active=True,
            likelihood__gte=threshold,
            person__stage__in=ELIGIBLE,
            person__deleted_at__isnull=True,
        )
        .exclude(person__stage=Stage.RECYCLED, scored_at__lt=F("person__stage_changed_at"))
        .order_by("person_id")
        .values_list("person_id", "likelihood")
    )
    reasons = {
        pk: f"Predicted likelihood {p:.0%} reached the model's MQL threshold {threshold:.0%}"
        for pk, p in rows
    }
    return qualify(reasons=reasons, now=now) if reasons else None


def routing_loop(stop: threading.Event, *, poll_seconds: float = 300.0) -> None:
    """The worker's routing beat (core.worker_start): the model's crossings."""
    while not stop.is_set():
        try:
            model_crossings()
        except Exception:
            log.exception("routing's model check failed")
        finally:
            close_old_connections()
        stop.wait(poll_seconds)
