"""Reports both teams read: the funnel by cohort with its velocity, campaign results."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "tandem.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """What reports add to other apps' pages through their extension points (ADR 0005)."""
        from tandem.reports import campaign_results

        campaign_results.register()
