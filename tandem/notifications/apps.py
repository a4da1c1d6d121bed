"""Notifications: the bell with its unread count, and the same news by email."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tandem.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Emails that failed or whose task was lost are sent by the worker's sweep."""
        from tandem.core.worker_start import register_worker_loop
        from tandem.notifications import tasks

        register_worker_loop("notifications.email_loop", tasks.email_loop)
