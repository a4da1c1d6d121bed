"""Background scoring with a model version, enqueued on commit when one is switched in."""

from __future__ import annotations

from django_tasks import task

from tandem.scoring.models import ModelVersion
from tandem.scoring.predictive.services import score_people


@task()
def score_people_with(version_id: int) -> int:
    """Store the version's predictions for everyone not yet decided; safe to run twice."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    return score_people(version) if version is not None else 0
