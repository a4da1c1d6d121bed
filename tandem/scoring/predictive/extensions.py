"""What predictive scoring adds to people's screens (ADR 0005): the likelihood card."""

from __future__ import annotations

from tandem.people import extensions
from tandem.scoring.predictive.queries import person_prediction


def register_predictive() -> None:
    extensions.register_person_section(
        extensions.PersonSection(
            key="prediction", template="scoring/_person_prediction.html", load=person_prediction
        )
    )
