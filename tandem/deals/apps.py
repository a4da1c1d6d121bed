"""Deals and pipelines: the revenue end of the funnel (issue 21)."""

from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "tandem.deals"
    label = "deals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """A Deals card on the person and company pages, through people's extension points
        (ADR 0005)."""
        from tandem.deals import extensions

        extensions.register()
