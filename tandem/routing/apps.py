"""Every lead gets a human: MQL, routing rules, hand-offs accepted or sent back with a reason."""

from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "tandem.routing"
    label = "routing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """What routing adds through other apps' extension points (ADR 0005)."""
        # First contact and SLA escalation: a call, email or meeting a person logs stops
        # the lead's SLA clock; the worker reminds owners and announces breaches.
        from tandem.core.worker_start import register_worker_loop
        from tandem.people import extensions
        from tandem.routing import escalation, first_contact
        from tandem.routing.extensions_handoffs import register as register_handoff_answer

        extensions.register_people_touched(
            extensions.PeopleTouchedStep(
                key="routing.first_contact", touched=first_contact.people_touched
            )
        )
        register_worker_loop("routing.escalation", escalation.escalation_loop)
        from tandem.routing.engine import reassign_breached

        escalation.register_breach_reassign("routing.engine", reassign_breached)
        # The hand-off card (accept / send back) on the person page and the people list's
        # `sent_back_reason` filter.
        register_handoff_answer()
        # MQL triggers, the person page's routing card and API fields (extensions_rules.py).
        from tandem.routing.extensions_rules import register_routing

        register_routing()
