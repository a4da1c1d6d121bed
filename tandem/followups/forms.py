"""The task forms of the Tasks page, the task page and the person and company cards."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from tandem.accounts.models import User
from tandem.followups.models import Task, TaskKind
from tandem.followups.services import NOTES_MAX, OUTCOME_MAX
from tandem.people.models import Company, Person

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
ME, NOBODY = "", "none"


def owner_choices() -> list[tuple[str, str]]:
    """Who a task can be for: the one filling the form, nobody, or any active user."""
    users = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    return [(ME, "Me"), (NOBODY, "Nobody (anyone may take it)")] + [
        (str(u.pk), u.get_full_name() or u.username) for u in users
    ]


class TaskForm(forms.Form):
    """Add or edit a task. The person and company come from the page the form is on
    (hidden ids): a task is added about someone from their page."""

    kind = forms.ChoiceField(choices=TaskKind.choices, label="Kind", initial=TaskKind.CALL)
    title = forms.CharField(max_length=200, label="What to do")
    due_at = forms.DateTimeField(
        required=False,
        label="Due",
        help_text="Leave empty for no due time.",
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    owner = forms.ChoiceField(label="For", required=False)
    notes = forms.CharField(
        max_length=NOTES_MAX,
        required=False,
        label="Notes",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    person = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    company = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, task: Task | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "task")
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owner_choices()  # type: ignore[attr-defined]
        self.task = task  # when editing: its person or company stays, even if deleted since

    def clean_person(self) -> Person | None:
        pk = self.cleaned_data.get("person")
        if pk is None:
            return None
        if self.task is not None and pk == self.task.person_id:
            return self.task.person
        person = Person.objects.filter(pk=pk, deleted_at__isnull=True).first()
        if person is None:
            raise ValidationError("There is no such person.")
        return person

    def clean_company(self) -> Company | None:
        pk = self.cleaned_data.get("company")
        if pk is None:
            return None
        if self.task is not None and pk == self.task.company_id:
            return self.task.company
        company = Company.objects.filter(pk=pk, deleted_at__isnull=True).first()
        if company is None:
            raise ValidationError("There is no such company.")
        return company

    def task_data(self, me: User) -> dict[str, Any]:
        """The service's arguments: "Me" is the one filling the form in."""
        data = dict(self.cleaned_data)
        owner = data.pop("owner") or ME
        data["owner"] = (
            me
            if owner == ME
            else None
            if owner == NOBODY
            else User.objects.filter(pk=int(owner)).first()
        )
        return data


class CompleteForm(forms.Form):
    outcome = forms.CharField(
        max_length=OUTCOME_MAX,
        required=False,
        label="Outcome",
        help_text="e.g. left a voicemail, booked a demo.",
    )
    notes = forms.CharField(
        max_length=NOTES_MAX,
        required=False,
        label="What happened",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "done")
        super().__init__(*args, **kwargs)
