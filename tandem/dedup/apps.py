from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "tandem.dedup"
    label = "dedup"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Check people that capture adds for duplicates, through people's extension points."""
        from tandem.dedup.tasks import enqueue_find_duplicates
        from tandem.people import extensions

        extensions.register_new_people_check(
            extensions.NewPeopleCheck(key="duplicates", check=enqueue_find_duplicates)
        )
