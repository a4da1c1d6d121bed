from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "tandem.dedup"
    label = "dedup"
    default_auto_field = "django.db.models.BigAutoField"
