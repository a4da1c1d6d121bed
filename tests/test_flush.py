"""The flush that ends every `transaction=True` test leaves nothing behind, on both
databases (PostgreSQL's is a DELETE per table, conftest.py): the next test meets an
empty database, and a flush that resets sequences gives ids from 1 again."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command

from tandem.accounts.actor import Actor
from tandem.people import services
from tandem.reports.models import FunnelPersonChange


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_every_table_and_starts_ids_again_from_one():
    actor = Actor.system("test")
    person = services.create_person(actor=actor, data={"first_name": "Ida"}, email="ida@x.example")
    services.delete_person(actor=actor, person=person)  # soft: the row stays
    assert FunnelPersonChange.objects.exists()  # the funnel's trigger noted the change
    # The flush's DELETE of people fires that trigger again, whichever order the tables
    # come in (Django's is a set's: it changes with the hash seed).

    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)

    left = {m._meta.label: m.objects.count() for m in apps.get_models() if m.objects.exists()}
    assert left == {}
    again = services.create_person(actor=actor, data={"first_name": "Ida"}, email="ida@x.example")
    assert again.pk == 1
