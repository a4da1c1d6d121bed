from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "tandem.routing"
    label = "routing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """The hand-off answer's card on the person page and the people list's
        `sent_back_reason` filter, through people's extension points (ADR 0005)."""
        from tandem.routing.extensions_handoffs import register as register_handoff_answer

        register_handoff_answer()
