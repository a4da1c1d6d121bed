from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "tandem.scoring"
    label = "scoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Scores on people's screens, list filters by score, and rescoring when people are
        touched or added, through people's extension points (ADR 0005)."""
        from tandem.core.worker_start import register_worker_loop
        from tandem.people import extensions
        from tandem.scoring import queries, tasks

        extensions.register_person_section(
            extensions.PersonSection(
                key="score", template="scoring/_person_score.html", load=queries.person_score
            )
        )
        for param, label, condition in (
            ("min_score", "Score at least", queries.min_score_condition),
            ("min_fit_score", "Fit score at least", queries.min_fit_condition),
            ("min_engagement_score", "Engagement at least", queries.min_engagement_condition),
        ):
            extensions.register_list_condition(
                extensions.ListCondition(
                    param=param,
                    label=label,
                    any_label="Any score",
                    choices=queries.score_choices,
                    condition=condition,
                )
            )
        for sort in queries.score_sorts():
            extensions.register_list_sort(sort)
        extensions.register_export_columns(
            extensions.ExportColumns(key="score", columns=queries.score_export_columns)
        )
        extensions.register_people_touched(
            extensions.PeopleTouchedStep(key="scoring", touched=tasks.people_touched)
        )
        extensions.register_new_people_check(
            extensions.NewPeopleCheck(key="scoring", check=tasks.people_added)
        )
        # Decay is reapplied by a scheduled full rescore; expired overrides lapse each minute.
        register_worker_loop("scoring.loop", tasks.scoring_loop)
        # The predicted likelihood card and its people section (ADR 0012).
        from tandem.scoring.predictive.extensions import register_predictive

        register_predictive()
