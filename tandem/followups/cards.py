"""The Tasks cards on a person's and a company's page (people's extension points, ADR 0005):
the open tasks about them, the latest done, and a form to add one about them."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tandem.followups.forms import TaskForm
from tandem.followups.queries import company_tasks, person_tasks
from tandem.people.models import Company, Person


def person_card(person: Person) -> dict[str, Any]:
    card = person_tasks(person)
    return {
        "open": card.open,
        "done": card.done,
        "subject": person,
        "form": TaskForm(initial={"person": person.pk}),
        "list_url": reverse("tasks:list") + f"?person={person.pk}",
    }


def company_card(company: Company) -> dict[str, Any]:
    card = company_tasks(company)
    return {
        "open": card.open,
        "done": card.done,
        "subject": company,
        "form": TaskForm(initial={"company": company.pk}),
        "list_url": reverse("tasks:list") + f"?company={company.pk}",
    }
