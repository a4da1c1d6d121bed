"""`tandem worker` runs what the database queue holds (the default production backend)."""

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from tandem.dedup.tasks import find_duplicates
from tandem.people import services


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_queued_tasks_from_the_database(settings, system):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    person = services.create_person(
        actor=system, data={"first_name": "Ada"}, email="ada@example.com"
    )
    result = find_duplicates.enqueue(person_ids=[person.pk], found_by="test")
    assert DBTaskResult.objects.get(id=result.id).status == "READY"

    call_command("worker", burst=True)

    assert DBTaskResult.objects.get(id=result.id).status == "SUCCESSFUL"
