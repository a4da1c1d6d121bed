"""Server-rendered pages for people and companies (the funnel page is reports').

Every view checks permissions on the server with `require`/`can` (core/
permissions.py) before it shows a form or writes; templates only hide buttons
the viewer could not use anyway. Every write goes through people/services.py,
whose ValidationError is put next to the matching input.

HTMX requests (header `HX-Request`) get the fragment they target; the same
forms post and redirect without JavaScript.
"""

from tandem.people.views.companies import (
    company_create,
    company_delete,
    company_edit,
    company_list,
    company_log_activity,
    company_page,
    company_restore,
    company_suggest,
)
from tandem.people.views.people import (
    person_add_email,
    person_add_phone,
    person_change_stage,
    person_create,
    person_delete,
    person_edit,
    person_export,
    person_list,
    person_log_activity,
    person_make_primary_email,
    person_page,
    person_remove_email,
    person_remove_phone,
    person_restore,
)

__all__ = [
    "company_create",
    "company_delete",
    "company_edit",
    "company_list",
    "company_log_activity",
    "company_page",
    "company_restore",
    "company_suggest",
    "person_add_email",
    "person_add_phone",
    "person_change_stage",
    "person_create",
    "person_delete",
    "person_edit",
    "person_export",
    "person_list",
    "person_log_activity",
    "person_make_primary_email",
    "person_page",
    "person_remove_email",
    "person_remove_phone",
    "person_restore",
]
