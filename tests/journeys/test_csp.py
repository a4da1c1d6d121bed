"""The Content-Security-Policy in a real browser: the app's pages run their scripts (htmx,
quick capture) with no CSP violation, and the public form still works on other sites:
embed.js posting across origins, and the hosted form in an iframe on the form's sites."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Page, expect

from tandem.accounts.context_processors import MAIN_MENU
from tandem.capture import webforms
from tandem.capture.demo import ensure_demo_guide_form
from tandem.people import services
from tandem.people.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITE_PORT = 8142  # the "company website": another origin than the live server
VIOLATION = re.compile(r"Content Security Policy|Refused to (execute|load|apply|frame)", re.I)


@pytest.fixture
def website(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", SITE_PORT), handler)
    except OSError:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def watch_console(page: Page) -> list[str]:
    seen: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if VIOLATION.search(message.text):
            seen.append(message.text)

    page.on("console", note)
    return seen


@pytest.fixture
def guide(system, settings):
    settings.TANDEM_FORM_MIN_FILL_SECONDS = 0  # the snippet's time is when it was copied
    return ensure_demo_guide_form(system)


# Every page of the main menu (a new app's pages are walked as soon as it adds its link),
# and a few forms besides.
MAIN_PAGES = [
    *(reverse(name) for _label, name, _prefix in MAIN_MENU),
    "/people/new/",
    "/notifications/",
    "/leads/",
    "/tasks/",
]


def test_the_main_pages_carry_the_policy_and_break_none_of_it(
    page: Page, live_server, admin, system, guide
):
    ada = services.create_person(
        actor=system, data={"first_name": "Ada", "last_name": "Lovelace"}, email="ada@example.com"
    )
    services.create_person(
        actor=system, data={"first_name": "Grace", "last_name": "Hopper"}, email="g@example.com"
    )
    violations = watch_console(page)
    page.goto(live_server.url + "/login/")
    page.get_by_label("User name").fill(admin.username)
    page.get_by_label("Password").fill("pw-" + admin.username)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")

    for path in [*MAIN_PAGES, f"/people/{ada.pk}/", f"/forms/{guide.pk}/", f"/f/{guide.key}"]:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy, path
        page.wait_for_load_state("networkidle")
    assert violations == []

    # htmx still runs under the policy: the list narrows as one types.
    page.goto(live_server.url + "/people/")
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Search").fill("hopp")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=hopp"))
    assert violations == []


def test_an_inline_script_is_refused_by_the_policy(page: Page, live_server, guide):
    """The policy is really enforced: a script injected into a page does not run."""
    violations = watch_console(page)
    page.goto(f"{live_server.url}/f/{guide.key}")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.injected = true';
                   document.body.appendChild(s); }"""
    )
    assert page.evaluate("() => window.injected === undefined")
    assert violations


def test_embed_js_on_another_origin_still_submits(page: Page, live_server, website, guide):
    site, root = website
    snippet = webforms.embed_snippet(guide, base_url=live_server.url).replace(
        "<form ", "<form novalidate data-tandem-inline ", 1
    )
    (root / "inline.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Guide</title></head>"
        f"<body>{snippet}</body></html>",
        encoding="utf-8",
    )
    violations = watch_console(page)
    page.goto(f"{site}/inline.html?utm_source=newsletter")
    page.get_by_label("First name").fill("Alan")
    page.get_by_label("Last name").fill("Turing")
    page.get_by_label("Work email").fill("alan@example.com")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Your guide is on its way").wait_for()

    assert page.url.startswith(site)
    assert violations == []
    assert Person.objects.get().email == "alan@example.com"


def framing_page(src: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Guide</title></head>"
        f"<body><iframe title='Get the guide' src='{src}' width='600' height='900'>"
        "</iframe></body></html>"
    )


def test_the_hosted_form_in_an_iframe_on_one_of_its_sites_submits(
    page: Page, live_server, website, guide, system
):
    site, root = website
    host = site.removeprefix("http://")
    webforms.update_form(actor=system, form=guide, data={"sites": [host]})
    (root / "framed.html").write_text(framing_page(f"{live_server.url}/f/{guide.key}"))
    violations = watch_console(page)

    page.goto(f"{site}/framed.html")
    frame = page.frame_locator("iframe")
    frame.get_by_label("First name").fill("Hedy")
    frame.get_by_label("Last name").fill("Lamarr")
    frame.get_by_label("Work email").fill("hedy@example.com")
    frame.get_by_role("button", name="Send").click()
    frame.get_by_text("Your guide is on its way").wait_for()

    assert violations == []
    assert Person.objects.get().email == "hedy@example.com"


def test_the_hosted_form_refuses_to_be_framed_by_a_site_it_does_not_list(
    page: Page, live_server, website, guide, system
):
    site, root = website
    webforms.update_form(actor=system, form=guide, data={"sites": ["www.example.com"]})
    (root / "framed.html").write_text(framing_page(f"{live_server.url}/f/{guide.key}"))
    violations = watch_console(page)

    page.goto(f"{site}/framed.html")
    page.wait_for_load_state("networkidle")

    assert page.frame_locator("iframe").get_by_label("Work email").count() == 0
    assert any("frame-ancestors" in v for v in violations)
