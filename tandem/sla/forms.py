"""The forms of the SLA settings pages. They turn what people type into what the services
take (a weekday's "09:00-12:00, 13:00-17:00" into intervals, a percentage into a share);
the rules live in the services, whose errors land next to the field they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from tandem.accounts.forms import TandemForm
from tandem.campaigns.models import TouchpointKind
from tandem.sla.models import WEEKDAYS, SlaPolicy, SlaUnit
from tandem.sla.queries import BusinessHours
from tandem.sla.validation import DAY_NAMES, countries, time_zones


class PolicyForm(TandemForm):
    name = forms.CharField(max_length=100, help_text='e.g. "Demo requests".')
    amount = forms.IntegerField(min_value=1, label="Contact within")
    unit = forms.ChoiceField(choices=SlaUnit.choices, label="Unit")
    source = forms.CharField(
        max_length=100, required=False, help_text="A person's source; empty matches any."
    )
    touchpoint_kind = forms.ChoiceField(
        choices=[("", "Any"), *TouchpointKind.choices], required=False, label="Touchpoint kind"
    )
    remind_percent = forms.IntegerField(
        min_value=0,
        max_value=99,
        initial=50,
        label="Remind the owner at (%)",
        help_text="Share of the time gone when the owner is reminded; 0: no reminder.",
    )
    reassign_on_breach = forms.BooleanField(required=False, label="Reassign when breached")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    @classmethod
    def initial_for(cls, policy: SlaPolicy) -> dict[str, Any]:
        return {
            "name": policy.name,
            "amount": policy.amount,
            "unit": policy.unit,
            "source": policy.source,
            "touchpoint_kind": policy.touchpoint_kind,
            "remind_percent": round(policy.remind_at_share * 100),
            "reassign_on_breach": policy.reassign_on_breach,
            "is_active": policy.is_active,
        }

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["remind_at_share"] = data.pop("remind_percent") / 100
        return data

    def add_service_error(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict") and "remind_at_share" in error.error_dict:
            error.error_dict["remind_percent"] = error.error_dict.pop("remind_at_share")
        super().add_service_error(error)


def _parse_intervals(text: str) -> list[list[str]]:
    """ "09:00-12:00, 13:00-17:00" → [["09:00", "12:00"], ["13:00", "17:00"]]; the service
    checks the times themselves."""
    out = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        start, sep, end = part.replace("–", "-").partition("-")
        if not sep:
            raise ValidationError(f"“{part}” is not an interval; write 09:00-17:00.")
        out.append([_clock(start.strip()), _clock(end.strip())])
    return out


def _clock(text: str) -> str:
    """ "9:00" → "09:00", so people need not type the leading zero."""
    hours, sep, minutes = text.partition(":")
    if sep and hours.isdigit() and len(hours) == 1:
        return f"0{hours}:{minutes}"
    return text


class HoursForm(TandemForm):
    time_zone = forms.ChoiceField(label="Time zone")
    country = forms.ChoiceField(
        required=False, label="Public holidays of", help_text="Closed on its public holidays."
    )
    subdivision = forms.CharField(
        max_length=40,
        required=False,
        label="State or region",
        help_text="Its code, for regional holidays: BY (Bavaria), CA (California).",
    )
    closing_days = forms.CharField(
        required=False,
        label="Closing days",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The company's own days off, one a line: 2026-12-24 Christmas Eve.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in time_zones()]  # type: ignore[attr-defined]
        self.fields["country"].choices = [  # type: ignore[attr-defined]
            ("", "None"),
            *((code, f"{name} ({code})") for code, name in countries().items()),
        ]
        for day in WEEKDAYS:
            self.fields[day] = forms.CharField(required=False, label=DAY_NAMES[day])

    @property
    def day_fields(self) -> list[forms.BoundField]:
        return [self[day] for day in WEEKDAYS]

    @classmethod
    def initial_for(cls, hours: BusinessHours) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "time_zone": hours.time_zone,
            "country": hours.country,
            "subdivision": hours.subdivision,
            "closing_days": "\n".join(
                f"{d['date']} {d.get('name', '')}".strip() for d in hours.closing_days
            ),
        }
        for day in WEEKDAYS:
            initial[day] = ", ".join(f"{a}-{b}" for a, b in hours.hours.get(day, []))
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours = {}
        for day in WEEKDAYS:
            try:
                hours[day] = _parse_intervals(data.get(day) or "")
            except ValidationError as exc:
                self.add_error(day, exc)
        data["hours"] = hours
        closing = []
        for line in (data.get("closing_days") or "").splitlines():
            if line.strip():
                date, _, name = line.strip().partition(" ")
                closing.append({"date": date, "name": name.strip()})
        data["closing_list"] = closing
        return data

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "time_zone": data["time_zone"],
            "country": data.get("country") or "",
            "subdivision": data.get("subdivision") or "",
            "hours": data["hours"],
            "closing_days": data["closing_list"],
        }

    def add_service_error(self, error: ValidationError) -> None:
        """ "hours.mon" is the Monday field here."""
        if hasattr(error, "error_dict"):
            for key in list(error.error_dict):
                if key.startswith("hours."):
                    error.error_dict[key.removeprefix("hours.")] = error.error_dict.pop(key)
                elif key == "hours":
                    error.error_dict[NON_FIELD_ERRORS] = error.error_dict.pop(key)
        super().add_service_error(error)
