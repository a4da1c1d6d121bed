from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "tandem.scoring"
    label = "scoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Scores on people's screens, through people's extension points (ADR 0005)."""
        from tandem.scoring.predictive.extensions import register_predictive

        register_predictive()
