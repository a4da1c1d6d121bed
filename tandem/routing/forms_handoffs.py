"""Forms of the hand-off answer and of the send-back reasons list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from tandem.routing import handoffs
from tandem.routing.handoffs import NOTE_MAX_LENGTH


class SendBackForm(forms.Form):
    reason = forms.ChoiceField(label="Why does it go back?", choices=())
    note = forms.CharField(
        label="Note for marketing",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you learned: who decides, when to try again.",
    )

    def __init__(
        self, *args: Any, reasons: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        """`reasons`: the (key, label) choices when the caller read them already (a page
        with one form per lead reads them once)."""
        super().__init__(*args, **kwargs)
        if reasons is None:
            reasons = [(r.key, r.label) for r in handoffs.active_reasons()]
        field = self.fields["reason"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Choose a reason"), *reasons]

    def add_service_error(self, err: ValidationError) -> None:
        for name, problems in getattr(err, "message_dict", {"": err.messages}).items():
            self.add_error(name if name in self.fields else None, problems)


class ReasonForm(forms.Form):
    key = forms.SlugField(
        label="Key",
        max_length=50,
        help_text="What the API takes and reports file under; it cannot change later.",
    )
    label = forms.CharField(label="Reason", max_length=100)
    position = forms.IntegerField(
        label="Position",
        min_value=0,
        max_value=1_000_000,
        required=False,
        help_text="Lower comes first in the list.",
    )
    is_active = forms.BooleanField(label="Offered to salespeople", required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["key"]

    def add_service_error(self, err: ValidationError) -> None:
        for name, problems in getattr(err, "message_dict", {"": err.messages}).items():
            self.add_error(name if name in self.fields else None, problems)
