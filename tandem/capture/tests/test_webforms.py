"""The form builder: who may use it, building and editing forms, consent versions, the snippet."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tandem.accounts.actor import Actor
from tandem.campaigns.services import create_campaign
from tandem.capture import webforms
from tandem.capture.demo import ensure_demo_guide_form
from tandem.capture.models import ConsentPurpose, ConsentText, WebForm
from tandem.people.custom_fields import create_custom_field
from tandem.people.models import CustomField, Person


@pytest.fixture
def guide(system) -> WebForm:
    return ensure_demo_guide_form(system)


def builder_post(**overrides) -> dict:
    """A builder submission: settings, ticked fields, one consent row."""
    data = {
        "name": "Webinar sign-up",
        "key": "",
        "campaign": "",
        "source": "Website",
        "thank_you_message": "See you there!",
        "redirect_url": "",
        "double_opt_in": "on",
        "is_active": "on",
        "fld-first_name-on": "on",
        "fld-first_name-order": "1",
        "fld-email-on": "on",
        "fld-email-order": "2",
        "fld-email-label": "Work email",
        "fld-company-on": "on",
        "fld-company-required": "on",
        "fld-company-order": "3",
        "consent-TOTAL_FORMS": "1",
        "consent-INITIAL_FORMS": "0",
        "consent-MIN_NUM_FORMS": "0",
        "consent-MAX_NUM_FORMS": "10",
        "consent-0-purpose": "webinars",
        "consent-0-name": "Webinar invitations",
        "consent-0-text": "Invite me to future webinars.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


PAGES = ["capture:form_list", "capture:form_create", "capture:form_detail", "capture:form_edit"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("manager", 200), ("marketer", 200), ("salesperson", 403)],
)
def test_only_marketing_roles_use_the_form_builder(
    client, users_by_role, guide, page, role, status
):
    client.force_login(users_by_role[role])
    args = [guide.pk] if page in ("capture:form_detail", "capture:form_edit") else []
    assert client.get(reverse(page, args=args)).status_code == status


def test_anonymous_visitors_are_sent_to_log_in(client, guide):
    response = client.get(reverse("capture:form_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_salesperson_cannot_create_a_form_by_posting_either(client, salesperson):
    client.force_login(salesperson)
    assert client.post(reverse("capture:form_create"), builder_post()).status_code == 403
    assert WebForm.objects.count() == 0


def test_a_marketer_builds_a_form_with_fields_consent_and_notifications(client, marketer, system):
    marketer.email = "mia@example.com"
    marketer.save()
    campaign = create_campaign(actor=system, name="Spring webinar", kind="webinar")
    client.force_login(marketer)
    response = client.post(
        reverse("capture:form_create"),
        builder_post(campaign=str(campaign.pk), notify=str(marketer.pk)),
    )
    form = WebForm.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("capture:form_detail", args=[form.pk])
    assert form.key == "webinar-sign-up"  # made from the name
    assert form.campaign == campaign and form.created_by == marketer
    assert form.fields == [
        {"name": "first_name", "label": "", "required": False},
        {"name": "email", "label": "Work email", "required": True},
        {"name": "company", "label": "", "required": True},
    ]
    text = form.consent_texts.get()
    assert (text.purpose.key, text.purpose.name, text.version) == (
        "webinars",
        "Webinar invitations",
        1,
    )
    assert list(form.notify.all()) == [marketer]
    assert form.double_opt_in and form.source == "Website"


def test_the_form_page_shows_a_copy_paste_snippet_that_posts_to_the_public_address(
    client, marketer, guide
):
    client.force_login(marketer)
    html = client.get(reverse("capture:form_detail", args=[guide.pk])).text
    assert (
        "&lt;form action=&quot;http://testserver/f/demo-guide&quot; method=&quot;post&quot;" in html
    )
    assert f"name=&quot;{webforms.HONEYPOT_FIELD}&quot;" in html
    assert f"name=&quot;{webforms.TIMESTAMP_FIELD}&quot;" in html
    assert "name=&quot;utm_source&quot;" in html and "name=&quot;page_url&quot;" in html
    assert "http://testserver/static/capture/embed.js" in html
    assert "name=&quot;consent_newsletter&quot;" in html


def test_the_snippet_itself_is_a_form_that_captures(client, guide):
    snippet = webforms.embed_snippet(guide, base_url="https://crm.example.com")
    assert snippet.startswith('<form action="https://crm.example.com/f/demo-guide" method="post"')
    for name in ("first_name", "last_name", "email", "company", "title"):
        assert f'name="{name}"' in snippet
    assert (
        '<script src="https://crm.example.com/static/capture/embed.js" defer></script>' in snippet
    )


def test_editing_a_consent_text_makes_a_new_version_and_keeps_the_old(client, marketer, guide):
    client.force_login(marketer)
    old = guide.consent_texts.get()
    edit = builder_post(
        name=guide.name,
        key=guide.key,
        **{
            "consent-INITIAL_FORMS": "1",
            "consent-0-purpose": "newsletter",
            "consent-0-name": "Newsletter",
            "consent-0-text": "Send me the newsletter (new words).",
        },
    )
    assert client.post(reverse("capture:form_edit", args=[guide.pk]), edit).status_code == 302
    new = guide.consent_texts.get()
    assert (new.purpose_id, new.version, new.text) == (
        old.purpose_id,
        2,
        "Send me the newsletter (new words).",
    )
    assert ConsentText.objects.get(pk=old.pk).text == old.text


def test_saving_without_changing_the_text_makes_no_new_version(client, marketer, guide):
    client.force_login(marketer)
    old = guide.consent_texts.get()
    edit = builder_post(
        name=guide.name,
        key=guide.key,
        **{
            "consent-INITIAL_FORMS": "1",
            "consent-0-purpose": "newsletter",
            "consent-0-name": "Newsletter",
            "consent-0-text": old.text,
        },
    )
    client.post(reverse("capture:form_edit", args=[guide.pk]), edit)
    assert ConsentText.objects.count() == 1


def test_clearing_a_consent_text_removes_it_from_the_form_but_keeps_the_proof(
    client, marketer, guide
):
    client.force_login(marketer)
    edit = builder_post(
        name=guide.name,
        key=guide.key,
        **{
            "consent-INITIAL_FORMS": "1",
            "consent-0-purpose": "",
            "consent-0-name": "",
            "consent-0-text": "",
        },
    )
    client.post(reverse("capture:form_edit", args=[guide.pk]), edit)
    assert guide.consent_texts.count() == 0
    assert ConsentPurpose.objects.filter(key="newsletter").exists()


def test_a_form_without_the_email_field_is_refused_with_a_reason(client, marketer):
    client.force_login(marketer)
    response = client.post(reverse("capture:form_create"), builder_post(**{"fld-email-on": None}))
    assert response.status_code == 400
    assert 'id="fields-error"' in response.text and "needs the email field" in response.text
    assert WebForm.objects.count() == 0


def test_a_taken_key_is_named_next_to_the_key(client, marketer, guide):
    client.force_login(marketer)
    response = client.post(reverse("capture:form_create"), builder_post(key="demo-guide"))
    assert response.status_code == 400
    assert "taken by another form" in response.text
    assert 'value="Webinar sign-up"' in response.text  # what was typed stays


def test_a_redirect_that_is_not_http_is_refused(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse("capture:form_create"), builder_post(redirect_url="javascript:alert(1)")
    )
    assert response.status_code == 400
    assert "http:// or https://" in response.text


def test_custom_fields_can_be_asked_for_and_land_on_the_person(client, marketer, admin, system):
    create_custom_field(
        actor=Actor.for_user(admin),
        entity="person",
        label="Team size",
        key="team_size",
        field_type="number",
    )
    client.force_login(marketer)
    post = builder_post(
        **{"fld-custom-team_size-on": "on", "fld-custom-team_size-label": "How many are you?"}
    )
    assert client.post(reverse("capture:form_create"), post).status_code == 302
    form = WebForm.objects.get()
    public = client.__class__()
    page = public.get(f"/f/{form.key}")
    assert 'name="custom_team_size"' in page.text and "How many are you?" in page.text
    bad = public.post(
        f"/f/{form.key}", {"email": "t@example.com", "company": "T", "custom_team_size": "lots"}
    )
    assert bad.status_code == 422 and "must be a number" in bad.text
    good = public.post(
        f"/f/{form.key}", {"email": "t@example.com", "company": "T", "custom_team_size": "12"}
    )
    assert good.status_code == 303
    assert Person.objects.get().custom_fields == {"team_size": 12}


def test_a_custom_field_every_person_needs_must_be_on_the_form(admin, system):
    create_custom_field(
        actor=Actor.for_user(admin), entity="person", label="Region code", field_type="text"
    )
    CustomField.objects.update(required=True)
    with pytest.raises(ValidationError, match="Region code"):
        webforms.create_form(actor=system, data={"name": "No region"})


def test_changes_to_a_form_are_audited(client, marketer, guide):
    client.force_login(marketer)
    client.post(
        reverse("capture:form_edit", args=[guide.pk]),
        builder_post(name="Guide 2026", key=guide.key),
    )
    html = client.get(reverse("capture:form_detail", args=[guide.pk])).text
    assert "Changed" in html and "Mia Marketer" in html


def test_the_demo_guide_form_is_made_once(system):
    first = ensure_demo_guide_form(system)
    again = ensure_demo_guide_form(system)
    assert first.pk == again.pk and WebForm.objects.count() == 1
    assert first.campaign.key == "buyers-guide-2026" and first.campaign.kind == "content"
    assert first.double_opt_in
    assert [f["name"] for f in first.fields] == [
        "first_name",
        "last_name",
        "email",
        "company",
        "title",
    ]
    assert first.consent_texts.get().purpose.key == "newsletter"


def test_the_builder_saves_the_sites_a_return_address_may_lead_to(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse("capture:form_create"),
        builder_post(sites="https://www.example.com/\n*.Shop.example.net, www.example.com"),
    )
    assert response.status_code == 302, response.content
    assert WebForm.objects.get().sites == ["www.example.com", "*.shop.example.net"]


def test_a_site_that_is_not_a_host_is_named_next_to_the_sites(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse("capture:form_create"), builder_post(sites="www.example.com/landing")
    )
    assert response.status_code == 400
    assert "is not a host name" in response.text
    assert WebForm.objects.count() == 0
