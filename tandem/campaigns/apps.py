from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "tandem.campaigns"
    label = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Touchpoints on people's timeline, and the people list's campaign filter, through
        people's extension points (ADR 0005)."""
        from tandem.campaigns import queries
        from tandem.people import extensions

        extensions.register_timeline_source(
            extensions.TimelineSource(key="touchpoints", entries=queries.person_touchpoint_entries)
        )
        extensions.register_list_condition(
            extensions.ListCondition(
                param="campaign",
                label="Touched by campaign",
                any_label="Any campaign",
                choices=queries.campaign_choices,
                condition=queries.touched_by_condition,
            )
        )
