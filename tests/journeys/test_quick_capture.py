"""J4 at the booth, in a real browser: the phone loses the network, two leads are captured
anyway, the page even reloads offline, and when the network returns the entries sync once.
A replayed sync (the phone never heard the answer) creates nothing new."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tandem.campaigns.models import Touchpoint
from tandem.campaigns.services import create_campaign
from tandem.capture.tests.test_vcard import VCARD_3
from tandem.capture.vcard import parse_card
from tandem.people.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Mark every entry on the phone as not yet sent, as if the answers had been lost.
REQUEUE_ALL = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("tandem-quick-capture", 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const tx = open.result.transaction("entries", "readwrite");
    const store = tx.objectStore("entries");
    const all = store.getAll();
    all.onsuccess = () => all.result.forEach((e) => store.put({...e, state: "queued", result: null}));
    tx.oncomplete = () => resolve(all.result.length);
    tx.onerror = () => reject(tx.error);
  };
})"""


def test_capture_offline_then_sync_once(page: Page, live_server, salesperson, system):
    show = create_campaign(actor=system, name="Hannover Messe", key="messe", kind="trade_show")
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(live_server.url + "/capture")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("User name").fill(salesperson.username)
    page.get_by_label("Password").fill("pw-" + salesperson.username)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Quick capture")).to_be_visible()
    expect(page.locator("#quick-form")).to_have_attribute("data-ready", "true")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # the page is kept offline

    page.get_by_label("Event or store").select_option(label="Hannover Messe (Trade show)")
    page.get_by_label("Or where (free text)").fill("Hall 4, B12")

    page.context.set_offline(True)
    expect(page.locator("#net-status")).to_contain_text("Offline")

    # A scanned badge (MeCard), interest high.
    page.get_by_label("Badge or card text").fill(
        "MECARD:N:Curie,Marie;ORG:Radium Institute;EMAIL:marie@radium.example;;"
    )
    expect(page.get_by_label("Email")).to_have_value("marie@radium.example")
    expect(page.get_by_label("First name")).to_have_value("Marie")
    page.get_by_text("High", exact=True).click()
    page.get_by_role("button", name="Save", exact=True).click()

    # A typed one, from the salesperson's own network.
    page.get_by_label("First name").fill("Pierre")
    page.get_by_label("Last name").fill("Curie")
    page.get_by_label("Email").fill("pierre@radium.example")
    page.get_by_label("From my own network").check()
    page.get_by_role("button", name="Save", exact=True).click()

    queue = page.locator("#queue li")
    expect(queue).to_have_count(2)
    expect(page.locator('#queue li[data-state="queued"]')).to_have_count(2)
    expect(queue.first).to_contain_text("queued")
    assert Person.objects.count() == 0

    # Still offline, the page reloads from the phone and the queue is still there.
    page.reload()
    expect(page.get_by_role("heading", name="Quick capture")).to_be_visible()
    expect(page.locator('#queue li[data-state="queued"]')).to_have_count(2)
    expect(page.get_by_label("Or where (free text)")).to_have_value("Hall 4, B12")

    # Back online: the entries sync (the online event, and the Sync button to be sure).
    page.context.set_offline(False)
    page.get_by_role("button", name="Sync", exact=True).click()
    expect(page.locator('#queue li[data-state="synced"]')).to_have_count(2)
    expect(queue.first).to_contain_text("synced")

    assert Person.objects.count() == 2 and Touchpoint.objects.count() == 2
    marie = Touchpoint.objects.get(person__email="marie@radium.example")
    assert (marie.kind, marie.campaign, marie.location) == ("booth_scan", show, "Hall 4, B12")
    assert marie.detail["interest"] == "high"
    pierre = Touchpoint.objects.get(person__email="pierre@radium.example")
    assert pierre.kind == "sales_sourced" and pierre.credited_to == salesperson

    # The answers were lost: the phone sends both again. Nothing new is made.
    assert page.evaluate(REQUEUE_ALL) == 2
    page.reload()
    expect(page.locator('#queue li[data-state="synced"]')).to_have_count(2)
    expect(page.get_by_role("link", name="open (saved before)")).to_have_count(2)
    assert Person.objects.count() == 2 and Touchpoint.objects.count() == 2


CARDS = [
    VCARD_3,
    "BEGIN:VCARD\nVERSION:4.0\nFN:Grace Hopper\nN:Hopper;Grace;;;\n"
    'TEL;VALUE=uri;TYPE="voice,cell";PREF=2:tel:+1-202-555-0101\n'
    'TEL;VALUE=uri;TYPE="work,voice";PREF=1:tel:+1-202-555-0199\n'
    "EMAIL;PREF=1:grace@navy.example\nADR;TYPE=work:;;1 Navy Way;Arlington;VA;22202;US\nEND:VCARD",
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Berners-Lee;Tim;;;\r\n"
    "TITLE:Director of the World Wide Web Con\r\n sortium\r\nEMAIL:tim@w3.examp\r\n le\r\nEND:VCARD",
    "BEGIN:VCARD\nVERSION:3.0\nFN:Jean Claude Van Damme\nEND:VCARD",
    "BEGIN:VCARD\nVERSION:3.0\nN:O\\;Brien;Pat;;;\nitem1.EMAIL;type=INTERNET:pat@example.org\n"
    "ORG:Smith\\, Jones & Partners\nEND:VCARD",
    "BEGIN:VCARD\r\nVERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n"
    "TEL;HOME:+49 30 1234567\r\nTEL;WORK;PREF:+49 30 7654321\r\n"
    "ADR;WORK;ENCODING=QUOTED-PRINTABLE:;;Hauptstra=C3=9Fe 1;Berlin;;10115;=\r\n"
    "Deutschland\r\nEND:VCARD\r\n",
    "MECARD:N:Curie,Marie;ORG:Institut du Radium;TITLE:Director;TEL:+33 1 23 45 67 89;"
    "EMAIL:marie@radium.example;NOTE:Two Nobel prizes\\; ask about isotopes;"
    "ADR:,,1 Rue Pierre et Marie Curie,Paris,,75005,FR;;",
    "MECARD:N:Alan Turing;EMAIL:alan@bletchley.example;NOTE:at 10\\:30;;",
    "  kim@example.com\n",
    "\ufeffbegin:vcard\nN:Doe;Jo;;;\nend:vcard",
]

PARSE_IN_PAGE = """(text) => {
  try { return window.tandemQuickCapture.parseCard(text); } catch (e) { return {error: e.message}; }
}"""


def test_the_page_reads_cards_as_the_server_does(page: Page, live_server, salesperson):
    """The phone fills the fields instantly in JavaScript; a post without JavaScript is
    read by capture/vcard.py. Both must read every card the same way."""
    page.goto(live_server.url + "/capture")
    page.get_by_label("User name").fill(salesperson.username)
    page.get_by_label("Password").fill("pw-" + salesperson.username)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#quick-form")).to_have_attribute("data-ready", "true")
    for text in CARDS:
        assert page.evaluate(PARSE_IN_PAGE, text) == parse_card(text), text
    for text in ["", "hello there", "https://example.com/badge/123"]:
        assert "error" in page.evaluate(PARSE_IN_PAGE, text)
