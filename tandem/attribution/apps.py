"""Attribution: won revenue credited to campaigns, channels and sources by model (issue 21)."""

from django.apps import AppConfig


class AttributionConfig(AppConfig):
    name = "tandem.attribution"
    label = "attribution"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """The stored credit stays fresh (store.py): an erased or touched person's deals
        are worked out again on the next read, and the worker keeps every deal warm."""
        from tandem.attribution import store, tasks
        from tandem.core.worker_start import register_worker_loop
        from tandem.people import extensions

        extensions.register_erasure_step(
            extensions.ErasureStep(
                key="attribution", erase=lambda person, emails: store.forget_people([person.pk])
            )
        )
        extensions.register_people_touched(
            extensions.PeopleTouchedStep(key="attribution", touched=store.people_touched)
        )
        register_worker_loop("attribution.refresh", tasks.refresh_loop)
