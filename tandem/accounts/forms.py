"""Forms for login, password reset and the admin pages.

Forms check the shape of the input; the rules live in the services
(accounts/services.py, people/custom_fields.py), whose ValidationErrors land
next to the field they name through `add_service_error`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from tandem.accounts.models import Role, Team, TokenScope, User


class TandemForm(forms.Form):
    """No colon after labels; service errors go next to the field they name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            target = name if name in self.fields else None
            if target is None and name != NON_FIELD_ERRORS:
                errors = [ValidationError(f"{name}: {m}") for e in errors for m in e.messages]
            self.add_error(target, errors)


class LoginForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label_suffix = ""
        self.fields["username"].label = "User name"


class TandemPasswordResetForm(PasswordResetForm):
    """Django's reset form, also for people an admin added without a password.

    Django skips users with an unusable password because they may sign in
    elsewhere (LDAP and the like). Tandem has no other sign-in, and an invited
    user whose first link expired must be able to ask for a new one.
    """

    def get_users(self, email: str) -> Iterator[Any]:
        for user in User.objects.filter(email__iexact=email.strip(), is_active=True):
            if user.email:
                yield user


def _team_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="No team"
    )


class UserCreateForm(TandemForm):
    username = forms.CharField(
        label="User name",
        max_length=150,
        help_text="What they log in with: letters, digits and @ . + - _",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.EmailField(label="Email", required=False)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.SALESPERSON)
    team = _team_field()
    password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        help_text="Leave empty to let them choose one from a password-reset email.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Password again",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    send_reset = forms.BooleanField(
        label="Send a password-reset email so they choose their own password",
        required=False,
        initial=True,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password, again = data.get("password") or "", data.get("password_again") or ""
        if password != again:
            self.add_error("password_again", "The two passwords differ.")
        if data.get("send_reset") and not data.get("email") and "email" not in self.errors:
            self.add_error("email", "Add an email address to send the reset email to.")
        return data


class UserEditForm(TandemForm):
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.EmailField(label="Email", required=False)
    role = forms.ChoiceField(label="Role", choices=Role.choices)
    team = _team_field()
    is_active = forms.BooleanField(label="Active (may log in and use API tokens)", required=False)


class TeamForm(TandemForm):
    name = forms.CharField(label="Team name", max_length=100)
    description = forms.CharField(label="Description", max_length=300, required=False)


class RoleChangeForm(TandemForm):
    user = forms.ModelChoiceField(queryset=User.objects.all(), widget=forms.HiddenInput)
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class TokenForm(TandemForm):
    user = forms.ModelChoiceField(
        label="User",
        queryset=User.objects.filter(is_active=True),
        help_text="The token acts with this user's permissions.",
    )
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What it is for, e.g. “Website form” or “Nightly export”.",
    )
    scope = forms.ChoiceField(label="Scope", choices=TokenScope.choices, initial=TokenScope.READ)
