"""J1, the capture half: a visitor on the company's website (another origin) fills the
embedded form, lands on the thank-you page, and Tandem holds the person and the touchpoint
with the UTM tags of the page they came from."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tandem.campaigns.models import Touchpoint
from tandem.capture import webforms
from tandem.capture.demo import ensure_demo_guide_form
from tandem.capture.models import Consent
from tandem.people.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITE_PORT = 8115  # the "company website": another origin than the live server


@pytest.fixture
def chromium(browser: object) -> object:
    """pytest-playwright's shared browser (launched with Debian's chromium by the conftest)."""
    return browser


@pytest.fixture
def website(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static site on its own port, serving whatever pages the test writes."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", SITE_PORT), handler)
    except OSError:  # the port is taken: any free one is another origin too
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def landing_page(snippet: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Buyer's guide 2026</title></head>
<body>
<h1>Get the buyer's guide</h1>
{snippet}
</body></html>"""


@pytest.fixture
def guide(system, settings):
    # The snippet's signed time is when it was copied; this visitor is a fast typist.
    settings.TANDEM_FORM_MIN_FILL_SECONDS = 0
    return ensure_demo_guide_form(system)


def test_a_visitor_on_another_site_fills_the_embedded_form_and_lands_on_thanks(
    chromium, live_server, website, guide
):
    site, root = website
    snippet = webforms.embed_snippet(guide, base_url=live_server.url)
    (root / "guide.html").write_text(landing_page(snippet), encoding="utf-8")
    query = "utm_source=linkedin&utm_medium=social&utm_campaign=spring-push&utm_content=carousel"

    context = chromium.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{site}/guide.html?{query}")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Work email").fill("Grace.Hopper@Example.com")
    page.get_by_label("Company").fill("Navy Labs")
    page.get_by_label("Job title").fill("Rear Admiral")
    page.get_by_label("monthly newsletter", exact=False).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()

    assert page.url == f"{live_server.url}/f/demo-guide/thanks"
    assert page.get_by_text("Your guide is on its way").is_visible()
    context.close()

    person = Person.objects.get()
    assert (person.first_name, person.last_name, person.email) == (
        "Grace",
        "Hopper",
        "grace.hopper@example.com",
    )
    assert person.company.name == "Navy Labs" and person.title == "Rear Admiral"
    touchpoint = Touchpoint.objects.get(person=person)
    assert touchpoint.kind == "form_fill" and touchpoint.form == guide
    assert touchpoint.campaign == guide.campaign
    assert (
        touchpoint.utm_source,
        touchpoint.utm_medium,
        touchpoint.utm_campaign,
        touchpoint.utm_content,
    ) == ("linkedin", "social", "spring-push", "carousel")
    assert touchpoint.page_url == f"{site}/guide.html?{query}"
    assert Consent.objects.get(person=person).status == "pending"  # double opt-in


def test_the_inline_embed_sends_json_across_origins_and_thanks_in_place(
    chromium, live_server, website, guide
):
    site, root = website
    snippet = webforms.embed_snippet(guide, base_url=live_server.url).replace(
        # novalidate: let the server's errors show, not the browser's own checks
        "<form ",
        "<form novalidate data-tandem-inline ",
        1,
    )
    (root / "inline.html").write_text(landing_page(snippet), encoding="utf-8")

    context = chromium.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{site}/inline.html?utm_source=newsletter")
    page.get_by_label("First name").fill("Alan")
    page.get_by_label("Work email").fill("not-an-email")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Last name is required.").wait_for()
    assert page.get_by_text("not a valid email address", exact=False).is_visible()
    assert page.url.startswith(site)  # still on the company's page

    page.get_by_label("Last name").fill("Turing")
    page.get_by_label("Work email").fill("alan@example.com")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Your guide is on its way").wait_for()
    assert page.url.startswith(site)
    context.close()

    touchpoint = Touchpoint.objects.select_related("person").get()
    assert touchpoint.person.email == "alan@example.com"
    assert touchpoint.utm_source == "newsletter"


def test_a_marketer_builds_a_form_in_the_browser_and_a_visitor_fills_the_hosted_page(
    chromium, live_server, marketer, settings
):
    settings.TANDEM_FORM_MIN_FILL_SECONDS = 0
    context = chromium.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill("mia")
    page.get_by_label("Password").fill("pw-mia")
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/forms/new/")
    page.get_by_label("Name", exact=True).fill("Webinar sign-up")
    page.get_by_label("Ask for Company").check()
    page.get_by_label("Company required").check()
    page.get_by_label("Purpose key").fill("webinars")
    page.get_by_label("Text the visitor ticks").fill("Invite me to the next webinars.")
    page.get_by_label("Thank-you message").fill("See you at the webinar!")
    page.get_by_role("button", name="Make the form").click()

    page.get_by_role("heading", name="Webinar sign-up").wait_for()
    snippet = page.get_by_label("Embed snippet").input_value()
    assert f'<form action="{live_server.url}/f/webinar-sign-up" method="post"' in snippet
    assert 'name="consent_webinars"' in snippet

    page.goto(f"{live_server.url}/f/webinar-sign-up?utm_source=newsletter")
    page.get_by_label("Email").fill("lin@example.com")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Company is required.").wait_for()  # errors by the field, typing kept
    assert page.get_by_label("Email").input_value() == "lin@example.com"
    page.get_by_label("Company").fill("Lin & Co")
    page.get_by_label("Invite me to the next webinars.").check()
    page.get_by_role("button", name="Send").click()
    page.get_by_text("See you at the webinar!").wait_for()
    context.close()

    touchpoint = Touchpoint.objects.select_related("person", "form").get()
    assert touchpoint.person.email == "lin@example.com"
    assert touchpoint.form.key == "webinar-sign-up" and touchpoint.utm_source == "newsletter"
    assert Consent.objects.get().purpose.key == "webinars"
