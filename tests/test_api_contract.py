"""The API keeps its published contract: Schemathesis over /api/v1/openapi.json.

Every operation is called by a live server (pytest-django's `live_server`, a real
socket) with an admin's bearer token: schema-valid and schema-invalid requests
from the examples, coverage and fuzzing phases (100 examples per operation,
derandomised), then the stateful phase, which chains operations through the
ids one returns and the next takes. Every built-in check runs; a failure names
the request as a curl command.

The test database is flushed after each test (transaction=True), so nothing the
generated requests create leaks into another test.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, User
from tandem.accounts.services import create_token
from tandem.api import api

EXAMPLES = 100
# Stateful: scenarios of up to this many linked calls each.
STATEFUL_SCENARIOS = 100
STATEFUL_STEPS = 10
PREFIX = "/api/v1"

# Rules no schema can state, by the field a 422 names. The API documents them in
# its 422 description; a schema-valid request may be refused only for one of these.
UNSTATED = {
    "owner": "names an active user (id or user name)",
    "company": "an existing company's id (a name makes one)",
    "email": "an address email-validator accepts (the schema says format: email)",
    "phone": "a real number for the person's country",
    "domain": "a domain name",
    "custom_fields": "the defined custom fields, each of its type",
    "cursor": "a cursor from this list and sort, not with an offset",
    "to": "a move the funnel allows from the current stage",
    "reason": "required going backwards or out of the funnel; a send-back: an active reason's key",
    "person": "a person not deleted; to accept or send back, one with an open hand-off",
    "body": "an activity says what happened, in `subject` or `body`",
    "campaign": "an existing campaign id or key",
    "occurred_at": "not in the future",
    "referrer": "an http(s) URL",
    "page_url": "an http(s) URL",
    "ends_on": "not before the campaign starts",
    "parent": "an existing campaign, not the campaign itself nor one under it",
    "planned_budget": "at most two decimals (cents) and twelve digits before them",
    "utm_mappings": "tags no other campaign maps (nor its key), each mapping once, "
    "a utm_campaign with a letter or digit",
    "may_email": "the key of a consent purpose that exists",
    "key": "a key made from the name when none is given (a name of only symbols makes none); "
    "a send-back reason's key not taken yet",
    "purpose": "an existing consent purpose with a text",
    "text_version": "a version of that purpose's text",
    "Idempotency-Key": "the same key is not reused with another body",
    # scoring
    "copy_from": "an existing rule set's id",
    "rule_set": "only a draft changes; a set is activated with at least one rule",
    "field": "a field a fit rule can test (standard, or custom.<key> of a defined field)",
    "operator": "is_free_mail tests only the email",
    "value": "what the operator takes: text, a list for `in`, two numbers for `between`",
    "score": "given for an override of kind `score`",
    "grade": "given for an override of kind `grade`",
    "expires_at": "in the future",
    # sla
    "amount": "at most a year in its unit (525,600 minutes, 8,760 hours, 365 days); "
    "a campaign cost: at most two decimals (cents) and twelve digits before them",
    "subdivision": "a subdivision of the country given",
    "hours": "intervals in order, not overlapping, at least one in the week",
    "closing_days": "each date once",
    # routing: the hand-off answer (issue 20)
    "sent_back_reason": "a send-back reason's key, or a link from the send-back report",
    "from": "not after `to` (the send-back report's period)",
    # routing
    "ids": "every routing rule's id once",
    "user": "an active user (id or user name)",
    "team": "an existing team (id or name); a territory, segment or fallback rule names "
    "a team or a user, a round-robin rule a team",
    "countries": "two-letter ISO codes; a territory rule names countries, regions or "
    "postcode ranges",
    "postcode_ranges": "pairs of postcodes, the first not after the last",
    "industries": "a segment rule names industries, sizes or a custom field",
    "company_sizes": "company sizes Tandem knows",
    "custom_field": "the key of a defined custom field",
    "custom_values": "given with a custom field",
}
# And where a rule depends on the record as it is.
UNSTATED_IN = {
    "PATCH /api/v1/people/{person_id}": {
        "last_name": "a person keeps a name or an email address",
    },
    "DELETE /api/v1/people/{person_id}/emails/{email_id}": {
        "email": "a person without a name keeps an email address",
    },
    # The schema's `\S` is ECMA's: a control character such as U+001F passes it, while the
    # server trims it away as Python's str.strip() does, leaving a blank name.
    "POST /api/v1/sla-policies": {"name": "more than spaces and control characters"},
    "PATCH /api/v1/sla-policies/{policy_id}": {"name": "more than spaces and control characters"},
}

CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "enabled": True,
            # 422 too, but only for an UNSTATED rule: see refused_only_by_unstated_rules.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
            },
        },
        "generation": {"max-examples": EXAMPLES, "deterministic": True},
        # No replay of failures saved by an earlier run: each run is the same run.
        "cache": {"enabled": False},
    }
)
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# The document /api/v1/openapi.json serves (test_the_served_document_is_the_one_tested).
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix=PREFIX), config=CONFIG)


def bearer_for(user: User) -> dict[str, str]:
    _, raw = create_token(actor=Actor.system("test"), user=user, name="schemathesis")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def bearer(admin) -> dict[str, str]:
    return bearer_for(admin)


@pytest.mark.django_db(transaction=True)
def test_the_served_document_is_the_one_tested(live_server):
    with urllib.request.urlopen(live_server.url + PREFIX + "/openapi.json") as response:  # noqa: S310
        assert json.loads(response.read()) == json.loads(json.dumps(schema.raw_schema))


def field_path(loc: list) -> list:
    """["body", "payload", "custom_fields", "budget"] -> ["custom_fields", "budget"]."""
    if loc[:2] == ["body", "payload"]:
        return loc[2:]
    return loc[1:] if loc[:1] in (["query"], ["path"], ["header"]) else loc


@schemathesis.check
def refused_only_by_unstated_rules(ctx, response, case):
    """A schema-valid request answered 422 names only fields with a rule the schema cannot state."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code != 422:
        return None
    detail = response.json()["detail"]
    unstated = UNSTATED.keys() | UNSTATED_IN.get(case.operation.label, {}).keys()
    stated = [e for e in detail if not unstated & set(field_path(e["loc"]))]
    if stated:
        raise AssertionError(f"A schema-valid request was refused for a stated rule: {stated}")
    return None


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(600)
@schema.parametrize()
@HYPOTHESIS
def test_every_operation_keeps_its_contract(case, live_server, bearer):
    headers = bearer
    if (
        case.meta is not None
        and not case.meta.generation.mode.is_positive
        and "Authorization" in (case.headers or {})
    ):
        # A negative case whose credentials are among what it made invalid: send them as
        # made. Replacing them with a good token would leave a request Schemathesis
        # believes invalid but whose one other change may serialize to a valid value
        # (q=[false] is sent as q=false, a fine search word).
        headers = {}
    case.call_and_validate(base_url=live_server.url, headers=headers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(600)
def test_linked_operations_keep_their_contract(live_server):
    """The stateful phase: sequences that feed one response's ids into the next request
    (create a person, add an email, make it primary, delete it, ...), with every check.

    Each scenario starts from an empty database with one admin, so a scenario
    Hypothesis replays meets the server as it first did."""

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        headers: dict[str, str] = {}

        def setup(self):
            call_command("flush", interactive=False, verbosity=0)
            admin = User.objects.create_user(username="ada", password="pw-ada", role=Role.ADMIN)
            self.headers = bearer_for(admin)

        def get_call_kwargs(self, case):
            return {"base_url": live_server.url, "headers": self.headers}

    Workflow.run(
        settings=settings(
            HYPOTHESIS, max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS
        )
    )
