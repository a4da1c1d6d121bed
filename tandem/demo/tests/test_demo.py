"""`tandem demo`: a whole demo company, the same every time, loaded once.

The demo takes seconds to load, so one load (module fixture, rolled back at
the end) serves every test here; each test runs inside its own savepoint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from tandem.accounts.models import ApiToken, Role, Team, User
from tandem.campaigns.models import CampaignCost
from tandem.core.models import AuditEvent
from tandem.deals.models import Deal
from tandem.demo.data import DEMO_LOGINS, DEMO_PASSWORD, MARKER_EVENT, load_demo
from tandem.followups.models import Task
from tandem.notifications.models import Notification
from tandem.people.models import (
    Activity,
    ActivityKind,
    Company,
    Person,
    PersonEmail,
    PersonPhone,
    Stage,
    StageChange,
)
from tandem.people.normalize import clean_phone, name_key, normalize_email
from tandem.people.services import needs_reason
from tandem.routing.models import Handoff, RoutingRule
from tandem.sla.models import BusinessCalendar, SlaPolicy

pytestmark = pytest.mark.django_db

MODELS = (User, Team, Company, Person, PersonEmail, PersonPhone, StageChange, Activity, AuditEvent)


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def anchor() -> dt.datetime:
    marker = AuditEvent.objects.get(event=MARKER_EVENT)
    return dt.datetime.fromisoformat(marker.changes["anchor"][1])


def fingerprint(now: dt.datetime) -> str:
    """The demo's content without database ids, times as offsets from its anchor."""

    def rel(value: dt.datetime | None) -> float | str | None:
        if value is not None and value > now:
            return "today"  # the sales desk answering as the demo loads (real time)
        return None if value is None else (now - value).total_seconds()

    digest = hashlib.sha256()
    for row in Person.objects.order_by("id").values_list(
        "first_name", "last_name", "email", "phone", "title", "company__name", "street",
        "city", "postcode", "region", "country", "owner__username", "stage", "source",
        "created_at", "stage_changed_at",
    ):  # fmt: skip
        digest.update(repr([rel(v) if isinstance(v, dt.datetime) else v for v in row]).encode())
    for row in StageChange.objects.order_by("person_id", "changed_at", "id").values_list(
        "person__email", "from_stage", "to_stage", "changed_at", "actor_label", "reason"
    ):
        digest.update(repr([*row[:3], rel(row[3]), *row[4:]]).encode())
    for row in Activity.objects.order_by("occurred_at", "id").values_list(
        "person__email", "company__name", "kind", "occurred_at", "actor_label", "subject", "outcome"
    ):
        digest.update(repr([*row[:3], rel(row[3]), *row[4:]]).encode())
    from tandem.campaigns.models import Touchpoint
    from tandem.capture.models import ConsentEvent

    for row in Touchpoint.objects.order_by("occurred_at", "id").values_list(
        "person__email", "kind", "occurred_at", "campaign__key", "channel", "utm_term"
    ):
        digest.update(repr([*row[:2], rel(row[2]), *row[3:]]).encode())
    for row in ConsentEvent.objects.order_by("at", "id").values_list(
        "consent__person__email", "action", "at", "method", "ip", "how"
    ):
        digest.update(repr([*row[:2], rel(row[2]), *row[3:]]).encode())
    from tandem.deals.models import Deal, DealContact

    for row in Deal.objects.order_by("created_at", "id").values_list(
        "name", "pipeline__name", "stage__name", "status", "company__name", "owner__username",
        "amount", "currency", "exchange_rate", "amount_base", "close_reason__name", "competitor",
        "created_at", "closed_at",
    ):  # fmt: skip
        digest.update(repr([*row[:12], rel(row[12]), rel(row[13])]).encode())
    for row in DealContact.objects.order_by("deal__created_at", "deal_id", "id").values_list(
        "deal__name", "person__email", "role", "is_primary"
    ):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def test_demo_has_one_login_per_role_with_the_printed_password(demo_output):
    users = {u.username: u for u in User.objects.select_related("team")}
    assert set(users) == {login.username for login in DEMO_LOGINS}
    assert Counter(u.role for u in users.values()) == {
        Role.ADMIN: 1,
        Role.MANAGER: 1,
        Role.MARKETER: 1,
        Role.SALESPERSON: 3,
    }
    assert {u.team.name for u in users.values() if u.team} == {"Sales", "Marketing", "Management"}
    assert all(users[f"sales{n}"].team.name == "Sales" for n in (1, 2, 3))
    for login in DEMO_LOGINS:
        assert authenticate(username=login.username, password=DEMO_PASSWORD) is not None
        assert login.username in demo_output
    assert DEMO_PASSWORD in demo_output


def test_demo_has_300_companies_and_3000_people_in_every_stage(demo_output):
    assert Company.objects.count() == 300
    assert Person.objects.count() == 3000
    per_stage = Counter(Person.objects.values_list("stage", flat=True))
    assert set(per_stage) == set(Stage.values)
    # A funnel: many subscribers and leads, fewer customers.
    assert per_stage[Stage.SUBSCRIBER] + per_stage[Stage.LEAD] > 3 * (
        per_stage[Stage.CUSTOMER] + per_stage[Stage.ADVOCATE]
    )
    assert Company.objects.exclude(domain="").count() == 300
    assert len(set(Company.objects.values_list("name_key", flat=True))) == 300
    assert len(set(Person.objects.values_list("source", flat=True))) >= 5


def test_salespeople_own_many_people_and_some_are_unowned(demo_output):
    owned = Counter(Person.objects.values_list("owner__username", flat=True))
    assert all(owned[f"sales{n}"] > 100 for n in (1, 2, 3))
    assert owned[None] > 500
    # Everyone sales accepted or beyond has an owner.
    assert not Person.objects.filter(
        stage__in=[Stage.SAL, Stage.OPPORTUNITY, Stage.CUSTOMER, Stage.ADVOCATE],
        owner__isnull=True,
    ).exists()


def test_emails_phones_and_name_keys_are_stored_as_the_services_store_them(demo_output):
    people = {p.pk: p for p in Person.objects.all()}
    for person in people.values():
        assert person.first_name_key == name_key(person.first_name)
        assert person.last_name_key == name_key(person.last_name)
        assert person.full_name or person.email
    emails = defaultdict(list)
    for address in PersonEmail.objects.all():
        assert address.email_normalized == normalize_email(address.email)
        emails[address.person_id].append(address)
    for pk, person in people.items():
        primary = [a for a in emails[pk] if a.is_primary]
        assert [a.email_normalized for a in primary] == ([person.email] if person.email else [])
    assert sum(1 for addresses in emails.values() if len(addresses) > 1) > 100
    assert (
        PersonEmail.objects.exclude(email=normalize_email(""))
        .filter(email__regex=r"[A-Z]")
        .exists()
    )  # some typed with capitals, stored normalised

    phones = defaultdict(list)
    for number in PersonPhone.objects.all():
        country = people[number.person_id].country
        assert clean_phone(number.original, country=country)[0] == number.number
        phones[number.person_id].append(number)
    for pk, person in people.items():
        primary = [n.number for n in phones[pk] if n.is_primary]
        assert primary == ([person.phone] if person.phone else [])
    assert len(phones) > 1000
    assert {p.country for p in people.values()} >= {"US", "GB", "DE", "FR"}


def test_stage_history_walks_to_each_persons_current_stage(demo_output):
    history = defaultdict(list)
    for change in StageChange.objects.order_by("changed_at", "id"):
        history[change.person_id].append(change)
    now = anchor()
    backwards = 0
    for person in Person.objects.all():
        changes = history[person.pk]
        assert changes[0].from_stage == ""
        assert changes[0].reason == "Created"
        assert changes[0].changed_at == person.created_at
        for before, after in itertools.pairwise(changes):
            assert after.from_stage == before.to_stage
            assert after.to_stage != after.from_stage
            assert after.changed_at >= before.changed_at
            if needs_reason(after.from_stage, after.to_stage):
                assert after.reason.strip()
                backwards += 1
        assert changes[-1].to_stage == person.stage
        assert changes[-1].changed_at == person.stage_changed_at
        assert now - dt.timedelta(days=549) <= person.created_at <= now
        # History ends at the anchor (midnight); the sales desk answers hand-offs as the
        # demo loads (accepted, sent back: routing's services act now).
        assert person.stage_changed_at <= timezone.now()
    assert backwards > 300  # send-backs, disqualifications and recycling, each with a reason
    audited = Counter(
        AuditEvent.objects.filter(target_type="people.person").values_list("event", flat=True)
    )
    assert audited["created"] == 3000
    assert audited["stage_changed"] == StageChange.objects.exclude(from_stage="").count()


def test_activities_of_every_kind_span_eighteen_months(demo_output):
    times = list(Activity.objects.values_list("occurred_at", flat=True))
    assert len(times) > 3000
    assert max(times) - min(times) >= dt.timedelta(days=17 * 30)
    # The history ends at the anchor; the sales desk's notes and calls of today (send-backs,
    # tasks done as the demo loads) come after it.
    end = anchor()
    assert max(t for t in times if t <= end) >= end - dt.timedelta(days=7)
    assert max(times) <= timezone.now()
    assert set(Activity.objects.values_list("kind", flat=True)) == set(ActivityKind.values)
    assert Activity.objects.exclude(outcome="").count() > 1000
    assert Activity.objects.filter(company__isnull=False, person__isnull=True).exists()
    # Nobody's activity comes before they were created.
    assert not Activity.objects.filter(occurred_at__lt=F("person__created_at")).exists()


def test_running_demo_again_changes_nothing(demo_output):
    before = counts()
    out = StringIO()
    call_command("demo", stdout=out)
    assert "already loaded" in out.getvalue()
    assert "sales1" in out.getvalue()  # the logins are printed again
    assert counts() == before


def wipe() -> None:
    for model in (
        Activity, AuditEvent, ApiToken, Handoff, RoutingRule, SlaPolicy, BusinessCalendar,
        Task, Notification, Deal, CampaignCost, Person, Company, User, Team,
    ):  # fmt: skip
        model.objects.all().delete()


def test_same_seed_gives_the_same_company(demo_output):
    # A smaller company, twice: the same code path as the full one, in a fraction of the time.
    now = anchor()
    prints = []
    for _ in range(2):
        wipe()
        assert load_demo(now=now, people=300, companies=30).loaded
        prints.append(fingerprint(now))
    assert prints[0] == prints[1]
    wipe()
    assert load_demo(now=now, people=300, companies=30, seed=7).loaded
    assert fingerprint(now) != prints[0]


def test_demo_does_not_mix_into_a_database_with_its_own_users(demo_output):
    AuditEvent.objects.filter(event=MARKER_EVENT).delete()
    before = counts()
    result = load_demo()
    assert not result.loaded
    assert "admin" in result.message
    assert counts() == before


def test_demo_does_not_mix_into_a_database_with_its_own_people(demo_output):
    AuditEvent.objects.filter(event=MARKER_EVENT).delete()
    RoutingRule.objects.all().delete()  # a user named in a routing rule cannot be deleted
    User.objects.all().delete()
    before = counts()
    out = StringIO()
    call_command("demo", stdout=out)
    assert "already holds people" in out.getvalue()
    assert counts() == before


def test_the_demo_has_the_gated_guide_form_linked_to_its_campaign(demo_output):
    from tandem.capture.models import WebForm

    form = WebForm.objects.get(key="demo-guide")
    assert form.campaign is not None and form.campaign.key == "buyers-guide-2026"
    assert form.double_opt_in


def test_the_demo_opens_with_its_possible_duplicates_in_the_review_queue(demo_output, client):
    from tandem.dedup.models import CandidateStatus, DuplicateCandidate

    open_pairs = DuplicateCandidate.objects.filter(status=CandidateStatus.OPEN)
    assert open_pairs.exists()
    assert f"{open_pairs.count():,} duplicate pairs" in demo_output
    client.force_login(User.objects.get(username="marketer"))
    page = client.get("/duplicates/").content.decode()
    pair = open_pairs.select_related("person_a").first()
    assert pair is not None and pair.person_a.full_name in page


def test_a_realistic_share_of_the_demo_may_be_emailed_with_proof(demo_output, client):
    from tandem.capture.models import Consent, ConsentEvent, ConsentStatus
    from tandem.capture.queries import may_email_condition

    status = Counter(Consent.objects.values_list("status", flat=True))
    assert 1000 < sum(status.values()) < 2500  # far from everyone
    assert status[ConsentStatus.GRANTED] > 800
    assert status[ConsentStatus.WITHDRAWN] > 50  # some changed their mind later
    assert status[ConsentStatus.PENDING] > 20  # some never clicked the confirmation link
    now = anchor()
    for consent in Consent.objects.prefetch_related("events"):
        steps = sorted(consent.events.all(), key=lambda e: e.id)
        assert [e.at for e in steps] == sorted(e.at for e in steps)
        assert steps[-1].at == consent.updated_at <= now
        assert steps[0].at >= consent.person.created_at
        assert steps[0].method in {"form", "import", "staff"}
        assert all(e.ip or e.how for e in steps)  # proof: where from, or how it was given
        if steps[-1].action == "withdrawn":
            assert consent.status == ConsentStatus.WITHDRAWN
    assert ConsentEvent.objects.filter(action="confirmed", method="email_link").count() > 500
    assert ConsentEvent.objects.filter(method="import").exclude(how="").exists()
    may = Person.objects.filter(may_email_condition("newsletter"))
    assert may.count() == status[ConsentStatus.GRANTED]
    client.force_login(User.objects.get(username="marketer"))
    page = client.get("/people/?may_email=newsletter").content.decode()
    person = may.order_by("last_name_key", "first_name_key", "id").first()
    assert person is not None and person.last_name in page


def test_the_demo_has_campaigns_with_eighteen_months_of_touchpoints(demo_output):
    from tandem.campaigns.models import Campaign, CampaignKind, Touchpoint

    campaigns = {c.key: c for c in Campaign.objects.all()}
    assert len(campaigns) >= 6
    assert {c.kind for c in campaigns.values()} >= {
        CampaignKind.WEBINAR,
        CampaignKind.TRADE_SHOW,
        CampaignKind.CONTENT,
        CampaignKind.PAID,
        CampaignKind.EMAIL,
    }
    per_campaign = Counter(Touchpoint.objects.values_list("campaign__key", flat=True))
    # Every campaign has its people; the programmes above them have none of their own.
    parents = set(Campaign.objects.filter(children__isnull=False).values_list("key", flat=True))
    assert parents
    assert all(per_campaign[key] > 50 for key in campaigns if key not in parents), per_campaign
    assert not any(per_campaign[key] for key in parents)
    times = list(Touchpoint.objects.values_list("occurred_at", flat=True))
    assert len(times) > 6000
    assert max(times) <= anchor() and max(times) - min(times) >= dt.timedelta(days=17 * 30)
    # Everyone came in somehow: a first touchpoint at the moment they were created.
    firsts = dict(
        Touchpoint.objects.values("person_id")
        .annotate(first=Min("occurred_at"))
        .values_list("person_id", "first")
    )
    for pk, created in Person.objects.values_list("pk", "created_at"):
        assert firsts[pk] == created
    assert not Touchpoint.objects.filter(occurred_at__lt=F("person__created_at")).exists()
    # Newsletter opens go to people who had agreed to it.
    from tandem.capture.models import Consent

    opened = set(Touchpoint.objects.filter(kind="email_open").values_list("person_id", flat=True))
    assert opened and opened <= set(Consent.objects.values_list("person_id", flat=True))


def test_the_demo_audit_trail_is_dated_when_things_happened(demo_output):
    now = anchor()
    people = AuditEvent.objects.filter(target_type="people.person")
    created = dict(people.filter(event="created").values_list("target_id", "at"))
    assert created == dict(Person.objects.values_list("pk", "created_at"))
    assert min(people.values_list("at", flat=True)) < now - dt.timedelta(days=365)
    moves = Counter(
        (row.target_id, row.at)
        for row in people.filter(event="stage_changed", at__lte=now).only("target_id", "at")
    )
    changes = StageChange.objects.exclude(from_stage="")
    assert moves == Counter(
        changes.filter(changed_at__lte=now).values_list("person_id", "changed_at")
    )
    # Today's moves (hand-offs accepted or sent back as the demo loads): one event each.
    today = Counter(
        people.filter(event="stage_changed", at__gt=now).values_list("target_id", flat=True)
    )
    assert today == Counter(changes.filter(changed_at__gt=now).values_list("person_id", flat=True))
    companies = dict(
        AuditEvent.objects.filter(target_type="people.company", event="created").values_list(
            "target_id", "at"
        )
    )
    assert companies == dict(Company.objects.values_list("pk", "created_at"))


# --- revenue (issue 21): pipelines, deals, budgets, costs, offline touches -------------


def test_the_demo_has_two_pipelines_with_deals_open_in_every_stage_won_and_lost(demo_output):
    from tandem.deals.models import DealStatus, Pipeline

    now = anchor()
    pipelines = {p.name: p for p in Pipeline.objects.all()}
    assert set(pipelines) == {"New business", "Expansion"}
    assert pipelines["New business"].is_default and not pipelines["Expansion"].is_default
    for pipeline in pipelines.values():
        stages = list(pipeline.stages.filter(is_active=True).order_by("position"))
        probabilities = [s.probability for s in stages]
        assert len(stages) >= 3 and probabilities == sorted(set(probabilities))
        assert probabilities[0] > 0 and probabilities[-1] < 100
        open_in = set(
            Deal.objects.filter(pipeline=pipeline, status=DealStatus.OPEN).values_list(
                "stage_id", flat=True
            )
        )
        assert open_in == {s.pk for s in stages}, pipeline
    statuses = Counter(Deal.objects.values_list("status", flat=True))
    assert 200 <= sum(statuses.values()) <= 700
    assert statuses["open"] >= 50 and statuses["won"] >= 100 and statuses["lost"] >= 30
    sellers = set(User.objects.filter(role=Role.SALESPERSON).values_list("pk", flat=True))
    for deal in Deal.objects.select_related("close_reason"):
        assert deal.owner_id in sellers and deal.company_id is not None
        assert deal.amount > 0 and deal.expected_close_on is not None
        if deal.status == DealStatus.OPEN:
            assert deal.closed_at is None and deal.close_reason is None
        else:
            assert deal.close_reason is not None and deal.close_reason.kind == deal.status
            assert deal.created_at <= deal.closed_at <= now
    lost = Deal.objects.filter(status=DealStatus.LOST)
    assert lost.values("close_reason").distinct().count() >= 4
    assert lost.exclude(competitor="").exists()
    assert Deal.objects.filter(status=DealStatus.WON).exclude(competitor="").exists()


def test_demo_deals_have_base_amounts_at_their_rate_and_contacts_from_their_company(
    demo_output,
):
    from decimal import Decimal

    from tandem.deals.models import DealContact, DealStatus

    foreign = Deal.objects.exclude(currency="EUR")
    assert foreign.filter(currency="USD").exists() and Deal.objects.filter(currency="EUR").exists()
    for deal in Deal.objects.all():
        expected = (deal.amount * deal.exchange_rate).quantize(Decimal("0.01"))
        assert deal.amount_base == expected, deal
        assert (deal.exchange_rate == 1) == (deal.currency == "EUR"), deal
    contacts = defaultdict(list)
    for deal_id, company_id, person_company, stage, primary in DealContact.objects.values_list(
        "deal_id", "deal__company_id", "person__company_id", "person__stage", "is_primary"
    ):
        assert person_company == company_id
        contacts[deal_id].append((stage, primary))
    assert set(contacts) == set(Deal.objects.values_list("pk", flat=True))
    for deal_id, status in Deal.objects.values_list("pk", "status"):
        assert 1 <= len(contacts[deal_id]) <= 3
        assert sum(primary for _, primary in contacts[deal_id]) == 1
        if status == DealStatus.WON:  # winning made them customers (or they are advocates)
            assert {stage for stage, _ in contacts[deal_id]} <= {Stage.CUSTOMER, Stage.ADVOCATE}
    assert any(len(c) > 1 for c in contacts.values())


def test_deals_follow_the_history_and_some_open_today_from_accepted_leads(demo_output):
    from tandem.routing.models import HandoffStatus

    now = anchor()
    # Past deals moved nobody: the only funnel moves of today are the sales desk's and
    # the opening of today's deals, each for a lead the desk accepted.
    today = Deal.objects.filter(created_at__gt=now)
    assert today.count() >= 5
    opened_for = set(today.values_list("contacts__person_id", flat=True))
    accepted = set(
        Handoff.objects.filter(is_current=True, status=HandoffStatus.ACCEPTED).values_list(
            "person_id", flat=True
        )
    )
    assert opened_for <= accepted
    moved = StageChange.objects.filter(changed_at__gt=now, to_stage=Stage.OPPORTUNITY)
    assert set(moved.values_list("person_id", flat=True)) == opened_for
    assert set(moved.values_list("from_stage", flat=True)) == {Stage.SAL}
    assert not StageChange.objects.filter(changed_at__gt=now, to_stage=Stage.CUSTOMER).exists()
    assert not Person.objects.filter(pk__in=opened_for).exclude(stage=Stage.OPPORTUNITY).exists()
    # A won deal was opened when its people became opportunities and won when they
    # became customers.
    for deal in Deal.objects.filter(status="won", pipeline__name="New business")[:50]:
        people = deal.contacts.values_list("person_id", flat=True)
        became = StageChange.objects.filter(person_id__in=people)
        assert deal.created_at == max(
            became.filter(to_stage=Stage.OPPORTUNITY).values_list("changed_at", flat=True)
        )
        assert deal.closed_at == max(
            became.filter(to_stage=Stage.CUSTOMER).values_list("changed_at", flat=True)
        )


def test_the_demo_has_programmes_with_budgets_and_a_year_of_costs(demo_output):
    from tandem.campaigns.models import Campaign

    now = anchor()
    programmes = Campaign.objects.filter(children__isnull=False).distinct()
    assert {p.key for p in programmes} == {"digital-programme", "events-programme"}
    for programme in programmes:
        children = list(programme.children.all())
        assert len(children) >= 4
        assert all(c.planned_budget for c in children)
        assert programme.planned_budget >= sum(c.planned_budget for c in children)
        assert all(c.costs.exists() for c in children), programme
    costs = CampaignCost.objects.all()
    assert costs.count() >= 40
    assert all(c.amount > 0 and c.spent_on <= now.date() for c in costs)
    months = {
        (c.spent_on.year, c.spent_on.month)
        for c in costs.filter(spent_on__gt=(now - dt.timedelta(days=365)).date())
    }
    assert len(months) >= 11
    assert Campaign.objects.get(key="paid-search").costs.count() == 12


def test_the_demo_touches_before_deals_are_online_and_offline(demo_output):
    from tandem.campaigns.models import Touchpoint

    kinds = Counter(Touchpoint.objects.values_list("kind", flat=True))
    for kind in ("call", "meeting", "event_visit", "booth_scan", "sales_sourced", "referral"):
        assert kinds[kind] >= 50, kind
    for kind in ("form_fill", "page_visit", "email_click", "email_open"):
        assert kinds[kind] >= 50, kind
    sellers = set(User.objects.filter(role=Role.SALESPERSON).values_list("pk", flat=True))
    credited = Touchpoint.objects.filter(kind__in=("call", "meeting")).exclude(
        credited_to__isnull=True
    )
    assert credited.count() >= 300
    assert set(credited.values_list("credited_to_id", flat=True)) <= sellers
    days = Touchpoint.objects.filter(campaign__key="customer-days")
    assert days.count() > 50 and not days.filter(location="").exists()
    # Nearly every past deal has touches of its contacts before it was opened, offline too.
    now = anchor()
    past = list(Deal.objects.filter(created_at__lte=now).prefetch_related("contacts"))
    before = offline = 0
    for deal in past:
        touches = Touchpoint.objects.filter(
            person_id__in=[c.person_id for c in deal.contacts.all()],
            occurred_at__lt=deal.created_at,
        )
        before += touches.exists()
        offline += touches.filter(
            kind__in=("call", "meeting", "event_visit", "booth_scan", "sales_sourced")
        ).exists()
    assert before >= 0.95 * len(past) and offline >= 0.8 * len(past)
