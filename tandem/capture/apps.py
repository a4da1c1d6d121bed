from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "tandem.capture"
    label = "capture"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Show consent on people's screens, and erase what capture keeps of a person,
        through people's extension points (ADR 0005)."""
        from tandem.capture import inbox, queries
        from tandem.core.worker_start import register_worker_loop, register_worker_start
        from tandem.people import extensions

        extensions.register_person_section(
            extensions.PersonSection(
                key="consents",
                template="capture/_person_consents.html",
                load=queries.person_consents,
            )
        )
        extensions.register_list_condition(
            extensions.ListCondition(
                param="may_email",
                label="May be emailed for",
                any_label="Any consent",
                choices=queries.purpose_choices,
                condition=queries.may_email_condition,
            )
        )
        extensions.register_export_columns(
            extensions.ExportColumns(key="consents", columns=queries.consent_export_columns)
        )
        extensions.register_erasure_step(
            extensions.ErasureStep(key="inbox", erase=lambda person, emails: inbox.forget(emails))
        )
        # Web-form posts accepted while no worker ran (or whose drain was lost in a
        # crash) wait in the capture inbox: a starting worker begins with them.
        register_worker_start("capture.drain_inbox", _drain_waiting)
        # Confirmation emails queued by a drain loop killed before it enqueued their sending
        # (it holds them for seconds under a burst) are sent by the next worker.
        register_worker_start("capture.send_left_emails", _send_left_emails)
        # So were the duplicate checks of the people it made: they are checked now.
        register_worker_start("capture.check_left_people", _check_left_people)
        # And captures posts as they arrive in its own loop (inbox.drain_continuously).
        register_worker_loop("capture.drain_loop", inbox.drain_continuously)


def _drain_waiting() -> None:
    from tandem.capture import inbox
    from tandem.capture.tasks import drain_capture_inbox

    if inbox.waiting_count():
        drain_capture_inbox.enqueue()


def _send_left_emails() -> None:
    from tandem.capture import email

    email.send_left_queued()


def _check_left_people() -> None:
    from tandem.capture import inbox

    inbox.check_people_a_killed_loop_held()
