"""Reports both teams read: the funnel by cohort with its velocity, campaign results."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "tandem.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """What reports add to other apps' pages through their extension points (ADR 0005)."""
        from tandem.core.worker_start import register_worker_loop
        from tandem.people import extensions
        from tandem.reports import campaign_results, funnel_facts

        campaign_results.register()
        extensions.register_new_people_check(
            extensions.NewPeopleCheck(key="funnel_facts", check=funnel_facts.people_added)
        )
        extensions.register_erasure_step(
            extensions.ErasureStep(key="funnel_facts", erase=funnel_facts.forget_person)
        )
        register_worker_loop("reports.funnel_facts", funnel_facts.refresh_loop)
