"""Reports both teams read: the funnel by cohort with its velocity, campaign results."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "tandem.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"
