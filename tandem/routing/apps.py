"""Every lead gets a human: MQL, routing rules, hand-offs accepted or sent back with a reason."""

from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "tandem.routing"
    label = "routing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # --- escalate (issue 20, points 3-5): first contact and SLA escalation ---------
        # A call, email or meeting a person logs stops the lead's SLA clock (people's
        # extension point, ADR 0005); the worker reminds owners and announces breaches.
        from tandem.core.worker_start import register_worker_loop
        from tandem.people import extensions
        from tandem.routing import escalation, first_contact

        extensions.register_people_touched(
            extensions.PeopleTouchedStep(
                key="routing.first_contact", touched=first_contact.people_touched
            )
        )
        register_worker_loop("routing.escalation", escalation.escalation_loop)
        # --- end escalate -------------------------------------------------------------
        # MQL triggers, the person page's routing card and API fields (extensions_rules.py).
        from tandem.routing.extensions_rules import register_routing

        register_routing()
