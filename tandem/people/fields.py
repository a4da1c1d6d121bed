"""A person's own plain fields, named once.

Forms, the API, capture, imports and dedup each need "the person's values"
(to check, fill, import or merge them); they all derive their lists from these,
so a new field is added here and in the model, and nowhere else.
"""

from __future__ import annotations

# The person's own plain values, in the order screens and audit records list them:
# free text plus the country code. Email and phone have their own tables, company
# and owner are links, custom fields are per install.
PERSON_VALUE_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "street",
    "city",
    "postcode",
    "region",
    "country",
    "source",
)
# The free-text ones (checked for length and a single line); country is a code.
PERSON_TEXT_FIELDS = tuple(name for name in PERSON_VALUE_FIELDS if name != "country")
