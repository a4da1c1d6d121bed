"""People for duplicate tests, made through the real services."""

from __future__ import annotations

from typing import Any

from tandem.accounts.actor import Actor
from tandem.people import services as people
from tandem.people.models import Company, Person

SYSTEM = Actor.system("test")


def company(name: str) -> Company:
    return people.find_or_create_company(actor=SYSTEM, name_or_id=name)


def person(
    first: str = "",
    last: str = "",
    *,
    email: str = "",
    phone: str = "",
    company_name: str = "",
    **fields: Any,
) -> Person:
    data: dict[str, Any] = {"first_name": first, "last_name": last, **fields}
    if company_name:
        data["company"] = company(company_name)
    return people.create_person(actor=SYSTEM, data=data, email=email, phone=phone)
