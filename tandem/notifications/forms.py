from __future__ import annotations

from django import forms

from tandem.notifications.models import NotificationKind


class EmailPreferencesForm(forms.Form):
    """One checkbox per kind of news: checked, it also comes by email."""

    kinds = forms.MultipleChoiceField(
        label="Email me about",
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Unchecked kinds still show under the bell.",
    )
