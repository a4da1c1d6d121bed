from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "tandem.capture"
    label = "capture"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Show consent on people's screens, and erase what capture keeps of a person,
        through people's extension points (ADR 0005)."""
        from tandem.capture import inbox, queries
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
