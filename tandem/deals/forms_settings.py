"""The forms of the pipeline and reason settings pages; the services check everything again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from tandem.deals.models import PipelineStage


class ServiceErrors:
    """A service's field errors shown on the form's field of that name (else at the top)."""

    fields: dict[str, Any]

    def add_service_error(self, err: ValidationError) -> None:
        for name, problems in getattr(err, "message_dict", {"": err.messages}).items():
            self.add_error(name if name in self.fields else None, problems)  # type: ignore[attr-defined]


class PipelineForm(ServiceErrors, forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    is_default = forms.BooleanField(label="Default pipeline (new deals go here)", required=False)
    is_active = forms.BooleanField(
        label="Active (archive it when no deal is open in it)", required=False, initial=True
    )

    def __init__(self, *args: Any, creating: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if creating:
            del self.fields["is_active"]


class StageForm(ServiceErrors, forms.Form):
    name = forms.CharField(label="Stage", max_length=100)
    probability = forms.IntegerField(
        label="Probability (%)",
        min_value=0,
        max_value=100,
        initial=10,
        help_text="The chance a deal in this stage is won: the weighted forecast uses it.",
    )


class StageEditForm(StageForm):
    is_active = forms.BooleanField(label="Active", required=False)
    move_open_deals_to = forms.ModelChoiceField(
        label="Archiving it: move its open deals to",
        queryset=PipelineStage.objects.none(),
        required=False,
        help_text="Needed only when you archive a stage that has open deals.",
    )

    def __init__(self, *args: Any, stage: PipelineStage, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["move_open_deals_to"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = PipelineStage.objects.filter(
            pipeline_id=stage.pipeline_id, is_active=True
        ).exclude(pk=stage.pk)


class ReasonForm(ServiceErrors, forms.Form):
    kind = forms.ChoiceField(label="List", choices=[("lost", "Lost"), ("won", "Won")])
    name = forms.CharField(label="Reason", max_length=100)
    is_active = forms.BooleanField(label="Offered when closing", required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["kind"]
