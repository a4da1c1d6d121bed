"""Attribution: won revenue credited to campaigns, channels and sources by model (issue 21)."""

from django.apps import AppConfig


class AttributionConfig(AppConfig):
    name = "tandem.attribution"
    label = "attribution"
    default_auto_field = "django.db.models.BigAutoField"
