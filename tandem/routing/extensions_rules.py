"""What routing hooks into the apps below it (ADR 0005), registered from `apps.ready`:

- scoring's `ThresholdStep`: a score reaching the MQL threshold moves and routes;
- people's `PeopleTouchedStep`: a "contact me" request on a web form does too;
- people's `PersonSection`: the routing card on the person page, and the person
  API's `routed_by`, `routed_at`, `sla_due_at`, `first_contact_at`;
- the worker's routing loop: the predictive model's crossings.
"""

from __future__ import annotations


def register_routing() -> None:
    from tandem.core.worker_start import register_worker_loop
    from tandem.people import extensions as people_extensions
    from tandem.routing import mql, queries_rules
    from tandem.scoring import extensions as scoring_extensions

    scoring_extensions.register_threshold_crossed(
        scoring_extensions.ThresholdStep(key="routing", crossed=mql.score_crossed)
    )
    people_extensions.register_people_touched(
        people_extensions.PeopleTouchedStep(key="routing", touched=mql.people_touched)
    )
    people_extensions.register_person_section(
        people_extensions.PersonSection(
            key="routing",
            template="routing/_person_routing.html",
            load=queries_rules.person_routing,
        )
    )
    register_worker_loop("routing.model_loop", mql.routing_loop)
