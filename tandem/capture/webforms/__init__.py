"""Web forms: how a form is defined (`definition`) and what happens to a post (`submission`).

The names callers use are importable from here (`from tandem.capture import webforms`).
"""

from tandem.capture.webforms.definition import (
    CONSENT_PREFIX,
    CUSTOM_PREFIX,
    HONEYPOT_FIELD,
    TIMESTAMP_FIELD,
    TRACKING_FIELDS,
    FieldSpec,
    FormField,
    catalogue,
    create_form,
    embed_snippet,
    fill_token,
    form_consent_texts,
    form_fields,
    update_form,
)
from tandem.capture.webforms.submission import (
    Submission,
    capture_submission,
    country_code,
    input_name_for_error,
    is_ticked,
    notify_addresses,
    person_summary,
    read_submission,
    spam_reason,
)

__all__ = [
    "CONSENT_PREFIX",
    "CUSTOM_PREFIX",
    "HONEYPOT_FIELD",
    "TIMESTAMP_FIELD",
    "TRACKING_FIELDS",
    "FieldSpec",
    "FormField",
    "Submission",
    "capture_submission",
    "catalogue",
    "country_code",
    "create_form",
    "embed_snippet",
    "fill_token",
    "form_consent_texts",
    "form_fields",
    "input_name_for_error",
    "is_ticked",
    "notify_addresses",
    "person_summary",
    "read_submission",
    "spam_reason",
    "update_form",
]
