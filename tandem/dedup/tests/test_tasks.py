"""The background duplicate check that capture and imports enqueue on commit."""

from __future__ import annotations

from django.db import transaction

from tandem.dedup.models import DuplicateCandidate
from tandem.dedup.tasks import enqueue_find_duplicates, find_duplicates
from tandem.dedup.tests.factories import person


def test_enqueued_check_runs_after_commit_and_stores_the_pair(
    db, django_capture_on_commit_callbacks
):
    first = person("Jon", "Miller", company_name="Acme")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        second = person("John", "Miller", company_name="Acme")
        enqueue_find_duplicates([second.pk], "import")
        assert not DuplicateCandidate.objects.exists()  # nothing before the commit
    # One duplicate check (scoring also rescores the new person after the commit).
    assert len([c for c in callbacks if "find_duplicates" in repr(c)]) == 1
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.person_a_id, candidate.person_b_id, candidate.found_by) == (
        first.pk,
        second.pk,
        "import",
    )


def test_a_rolled_back_write_enqueues_nothing(db, django_capture_on_commit_callbacks):
    person("Jon", "Miller", company_name="Acme")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                second = person("John", "Miller", company_name="Acme")
                enqueue_find_duplicates([second.pk], "capture")
                raise RuntimeError("the capture failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not DuplicateCandidate.objects.exists()


def test_the_task_is_safe_to_run_twice(db):
    person("Jon", "Miller", company_name="Acme")
    second = person("John", "Miller", company_name="Acme")
    assert find_duplicates.call(person_ids=[second.pk], found_by="capture") == 1
    assert find_duplicates.call(person_ids=[second.pk], found_by="capture") == 0
    assert DuplicateCandidate.objects.count() == 1


def test_a_big_batch_enqueues_one_whole_database_scan(
    db, django_capture_on_commit_callbacks, settings
):
    settings.TANDEM_DUPLICATE_SCAN_ABOVE = 1
    person("Jon", "Miller", company_name="Acme")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        b = person("John", "Miller", company_name="Acme")
        c = person("Anna", "Berg", postcode="10115")
        enqueue_find_duplicates([b.pk, c.pk], "import")
    candidate = DuplicateCandidate.objects.get()
    assert candidate.found_by == "scan"
