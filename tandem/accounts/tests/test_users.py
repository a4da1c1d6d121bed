"""Admins add and change users, teams and roles; every change lands in the audit trail."""

from __future__ import annotations

import re

from django.urls import reverse

from tandem.accounts.models import Role, Team, User
from tandem.accounts.permissions import ACTION_LABELS, ACTIONS
from tandem.core.audit import audit_for


def test_admin_adds_a_user_with_a_password_who_can_log_in(client, admin):
    client.force_login(admin)
    team = Team.objects.create(name="North")
    response = client.post(
        reverse("accounts:user_new"),
        {
            "username": "nora",
            "first_name": "Nora",
            "last_name": "North",
            "email": "nora@example.com",
            "role": "marketer",
            "team": team.pk,
            "password": "long-enough-pass-1",
            "password_again": "long-enough-pass-1",
        },
    )
    nora = User.objects.get(username="nora")
    assert response["Location"] == reverse("accounts:user_edit", args=[nora.pk])
    assert (nora.role, nora.team, nora.email) == (Role.MARKETER, team, "nora@example.com")
    assert audit_for(nora)[0].event == "created"

    client.logout()
    client.post(reverse("login"), {"username": "nora", "password": "long-enough-pass-1"})
    assert client.get(reverse("reports:funnel")).status_code == 200


def test_admin_adds_a_user_without_password_who_gets_a_link_to_choose_one(
    client, admin, mailoutbox
):
    client.force_login(admin)
    client.post(
        reverse("accounts:user_new"),
        {
            "username": "olli",
            "email": "olli@example.com",
            "role": "salesperson",
            "send_reset": "on",
        },
    )
    olli = User.objects.get(username="olli")
    assert not olli.has_usable_password()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["olli@example.com"]
    assert "choose a password" in mailoutbox[0].subject

    client.logout()
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", mailoutbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    client.post(form_url, {"new_password1": "my-own-choice-9", "new_password2": "my-own-choice-9"})
    client.post(reverse("login"), {"username": "olli", "password": "my-own-choice-9"})
    assert client.get(reverse("reports:funnel")).status_code == 200


def test_invited_user_can_ask_for_a_new_link_on_the_public_form(client, admin, mailoutbox):
    client.force_login(admin)
    client.post(
        reverse("accounts:user_new"),
        {"username": "pia", "email": "pia@example.com", "role": "manager"},
    )
    assert mailoutbox == []
    client.logout()
    client.post(reverse("password_reset"), {"email": "pia@example.com"})
    assert len(mailoutbox) == 1


def test_user_form_errors_show_next_to_their_fields_and_keep_the_values(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("accounts:user_new"),
        {
            "username": "ada",  # taken, by the admin herself
            "first_name": "Second",
            "email": "",
            "role": "marketer",
            "password": "abc",
            "password_again": "abd",
            "send_reset": "on",
        },
    )
    assert response.status_code == 400
    text = response.text
    assert 'id="id_password_again_error"' in text and "The two passwords differ." in text
    assert 'id="id_email_error"' in text and "Add an email address" in text
    assert 'value="Second"' in text
    assert User.objects.filter(username__iexact="ada").count() == 1


def test_taken_user_name_error_is_next_to_the_user_name(client, admin):
    client.force_login(admin)
    response = client.post(reverse("accounts:user_new"), {"username": "ADA", "role": "marketer"})
    assert response.status_code == 400
    assert 'id="id_username_error"' in response.text
    assert "is taken" in response.text


def test_a_weak_password_is_refused_next_to_the_password_field(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("accounts:user_new"),
        {"username": "weak", "role": "marketer", "password": "123", "password_again": "123"},
    )
    assert response.status_code == 400
    assert 'id="id_password_error"' in response.text
    assert not User.objects.filter(username="weak").exists()


def test_admin_edits_a_user_and_the_page_shows_the_audit_trail(client, admin, salesperson):
    client.force_login(admin)
    team = Team.objects.create(name="South")
    url = reverse("accounts:user_edit", args=[salesperson.pk])
    client.post(
        url,
        {
            "first_name": "Samuel",
            "last_name": "Sales",
            "email": "samuel@example.com",
            "role": "salesperson",
            "team": team.pk,
            "is_active": "",
        },
    )
    salesperson.refresh_from_db()
    assert (salesperson.first_name, salesperson.team, salesperson.is_active) == (
        "Samuel",
        team,
        False,
    )
    page = client.get(url).text
    assert "First name: Sam → Samuel" in page
    assert "Team: — → South" in page
    assert "Ada Admin" in page  # who did it, by the name colleagues know


def test_two_users_cannot_share_an_email(client, admin, salesperson, marketer):
    marketer.email = "shared@example.com"
    marketer.save()
    client.force_login(admin)
    response = client.post(
        reverse("accounts:user_edit", args=[salesperson.pk]),
        {"email": "Shared@example.com", "role": "salesperson", "is_active": "on"},
    )
    assert response.status_code == 400
    assert 'id="id_email_error"' in response.text


def test_role_change_on_the_roles_page_is_audited(client, admin, salesperson):
    client.force_login(admin)
    response = client.post(reverse("accounts:roles"), {"user": salesperson.pk, "role": "manager"})
    assert response["Location"] == reverse("accounts:roles")
    salesperson.refresh_from_db()
    assert salesperson.role == Role.MANAGER
    event = audit_for(salesperson)[0]
    assert event.event == "changed"
    assert event.changes == {"role": ["salesperson", "manager"]}
    assert event.actor == admin


def test_admin_cannot_remove_their_own_admin_role(client, admin):
    client.force_login(admin)
    response = client.post(reverse("accounts:roles"), {"user": admin.pk, "role": "marketer"})
    assert response.status_code == 400
    assert f'id="role-{admin.pk}_error"' in response.text
    assert "cannot remove your own admin rights" in response.text
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_roles_page_shows_what_each_role_may_do_from_the_rules(client, admin, salesperson):
    client.force_login(admin)
    text = client.get(reverse("accounts:roles")).text
    assert "Own or unowned" in text
    assert "Edit people" in text
    assert "Manage custom fields" in text
    assert f'id="user-{salesperson.pk}"' in text


def test_roles_page_names_every_action_in_words_not_permission_codes(client, admin):
    client.force_login(admin)
    text = client.get(reverse("accounts:roles")).text
    for action in ACTIONS:
        assert action not in text, f"the roles page shows the code {action!r}"
    assert "Merge duplicate people" in text and "Import people and companies" in text
    assert "Export people to CSV" in text


def test_every_permission_has_its_words():
    assert set(ACTION_LABELS) == set(ACTIONS)


def test_admin_adds_and_renames_a_team_and_sees_member_counts(client, admin, salesperson):
    client.force_login(admin)
    client.post(reverse("accounts:teams"), {"name": "North", "description": "Oslo office"})
    team = Team.objects.get(name="North")
    salesperson.team = team
    salesperson.save()
    assert ">1<" in client.get(reverse("accounts:teams")).text.replace(" ", "")

    client.post(reverse("accounts:team_edit", args=[team.pk]), {"name": "Nord"})
    team.refresh_from_db()
    assert team.name == "Nord"
    assert audit_for(team)[0].changes["name"] == ["North", "Nord"]


def test_duplicate_team_name_is_refused_next_to_the_name(client, admin):
    client.force_login(admin)
    client.post(reverse("accounts:teams"), {"name": "North"})
    response = client.post(reverse("accounts:teams"), {"name": "north"})
    assert response.status_code == 400
    assert 'id="id_name_error"' in response.text
    assert Team.objects.count() == 1


def test_user_list_shows_role_team_and_last_login(client, admin, salesperson):
    client.force_login(admin)
    text = client.get(reverse("accounts:users")).text
    assert "sam" in text and "Salesperson" in text and "Never" in text
