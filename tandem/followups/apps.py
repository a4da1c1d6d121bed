"""Tasks: calls, emails, meetings and to-dos with an owner and a due time ("Tasks" in the UI)."""

from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "tandem.followups"
    label = "followups"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """A Tasks card on the person and company pages, through people's extension
        points (ADR 0005)."""
        from tandem.followups import cards
        from tandem.people import extensions

        extensions.register_person_section(
            extensions.PersonSection(
                key="tasks", template="followups/_tasks_card.html", load=cards.person_card
            )
        )
        extensions.register_company_section(
            extensions.CompanySection(
                key="tasks", template="followups/_tasks_card.html", load=cards.company_card
            )
        )
