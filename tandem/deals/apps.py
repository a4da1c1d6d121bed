"""Deals and pipelines: the revenue end of the funnel (issue 21)."""

from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "tandem.deals"
    label = "deals"
    default_auto_field = "django.db.models.BigAutoField"
