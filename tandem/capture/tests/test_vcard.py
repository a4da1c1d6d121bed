"""Badge scans and shared contact cards fill the quick capture fields."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tandem.capture.vcard import parse_card

VCARD_3 = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:Lovelace;Ada;Augusta;Countess;\r\n"
    "FN:Ada Lovelace\r\n"
    "ORG:Analytical Engines Ltd;Research\r\n"
    "TITLE:Head of Algorithms\r\n"
    "EMAIL;TYPE=INTERNET,HOME:ada@home.example\r\n"
    "EMAIL;TYPE=INTERNET,WORK,PREF:ada@engines.example\r\n"
    "TEL;TYPE=CELL:+44 7700 900123\r\n"
    "TEL;TYPE=WORK,VOICE:+44 20 7946 0018\r\n"
    "ADR;TYPE=WORK:;Floor 2;12 St James's Square;London;;SW1Y 4LB;United Kingdom\r\n"
    "NOTE:Met at the booth\\, wants a demo\\nnext week\r\n"
    "END:VCARD\r\n"
)


def test_vcard_3_fills_name_company_title_email_phone_and_address():
    assert parse_card(VCARD_3) == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@engines.example",
        "phone": "+44 20 7946 0018",
        "company": "Analytical Engines Ltd",
        "title": "Head of Algorithms",
        "street": "12 St James's Square, Floor 2",
        "city": "London",
        "postcode": "SW1Y 4LB",
        "country": "GB",
        "note": "Met at the booth, wants a demo\nnext week",
    }


def test_vcard_4_with_uri_values_and_pref_parameter():
    card = "\n".join(
        [
            "BEGIN:VCARD",
            "VERSION:4.0",
            "FN:Grace Hopper",
            "N:Hopper;Grace;;;",
            'TEL;VALUE=uri;TYPE="voice,cell";PREF=2:tel:+1-202-555-0101',
            'TEL;VALUE=uri;TYPE="work,voice";PREF=1:tel:+1-202-555-0199',
            "EMAIL;PREF=1:grace@navy.example",
            "ORG:US Navy",
            "ADR;TYPE=work:;;1 Navy Way;Arlington;VA;22202;US",
            "END:VCARD",
        ]
    )
    fields = parse_card(card)
    assert fields["phone"] == "+1-202-555-0199"
    assert fields["email"] == "grace@navy.example"
    assert (fields["first_name"], fields["last_name"]) == ("Grace", "Hopper")
    assert (fields["city"], fields["region"], fields["postcode"], fields["country"]) == (
        "Arlington",
        "VA",
        "22202",
        "US",
    )


def test_folded_lines_are_joined():
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Berners-Lee;Tim;;;\r\n"
        "TITLE:Director of the World Wide Web Con\r\n sortium and inventor of the\r\n\t web\r\n"
        "EMAIL:tim@w3.examp\r\n le\r\nEND:VCARD"
    )
    fields = parse_card(card)
    assert fields["title"] == "Director of the World Wide Web Consortium and inventor of the web"
    assert fields["email"] == "tim@w3.example"


def test_only_fn_is_split_into_first_and_last_name():
    card = "BEGIN:VCARD\nVERSION:3.0\nFN:Jean Claude Van Damme\nEND:VCARD"
    assert parse_card(card) == {"first_name": "Jean Claude Van", "last_name": "Damme"}


def test_grouped_properties_and_escaped_semicolons():
    card = (
        "BEGIN:VCARD\nVERSION:3.0\nN:O\\;Brien;Pat;;;\n"
        "item1.EMAIL;type=INTERNET:pat@example.org\nitem1.X-ABLabel:work\n"
        "ORG:Smith\\, Jones & Partners\nEND:VCARD"
    )
    fields = parse_card(card)
    assert fields["last_name"] == "O;Brien"
    assert fields["email"] == "pat@example.org"
    assert fields["company"] == "Smith, Jones & Partners"


def test_vcard_2_1_quoted_printable_and_bare_type_parameters():
    card = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n"
        "TEL;HOME:+49 30 1234567\r\nTEL;WORK;PREF:+49 30 7654321\r\n"
        "ADR;WORK;ENCODING=QUOTED-PRINTABLE:;;Hauptstra=C3=9Fe 1;Berlin;;10115;=\r\n"
        "Deutschland\r\nEND:VCARD\r\n"
    )
    fields = parse_card(card)
    assert (fields["first_name"], fields["last_name"]) == ("Jürgen", "Müller")
    assert fields["phone"] == "+49 30 7654321"
    assert fields["street"] == "Hauptstraße 1"
    assert fields["country"] == "DE"


def test_only_the_first_of_several_cards_is_read():
    two = VCARD_3 + "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Other;Someone;;;\r\nEND:VCARD\r\n"
    assert parse_card(two)["last_name"] == "Lovelace"


def test_an_unknown_country_name_is_left_out_not_rejected():
    card = "BEGIN:VCARD\nVERSION:3.0\nN:Doe;Jo;;;\nADR:;;1 Road;Town;;;Atlantis\nEND:VCARD"
    fields = parse_card(card)
    assert "country" not in fields and fields["city"] == "Town"


def test_mecard_fills_the_fields():
    text = (
        "MECARD:N:Curie,Marie;ORG:Institut du Radium;TITLE:Director;"
        "TEL:+33 1 23 45 67 89;EMAIL:marie@radium.example;"
        "NOTE:Two Nobel prizes\\; ask about isotopes;"
        "ADR:,,1 Rue Pierre et Marie Curie,Paris,,75005,FR;;"
    )
    assert parse_card(text) == {
        "first_name": "Marie",
        "last_name": "Curie",
        "email": "marie@radium.example",
        "phone": "+33 1 23 45 67 89",
        "company": "Institut du Radium",
        "title": "Director",
        "street": "1 Rue Pierre et Marie Curie",
        "city": "Paris",
        "postcode": "75005",
        "country": "FR",
        "note": "Two Nobel prizes; ask about isotopes",
    }


def test_mecard_name_without_a_comma_and_escaped_colon():
    fields = parse_card("MECARD:N:Alan Turing;EMAIL:alan@bletchley.example;NOTE:at 10\\:30;;")
    assert (fields["first_name"], fields["last_name"]) == ("Alan", "Turing")
    assert fields["note"] == "at 10:30"


def test_a_bare_email_is_read_as_the_email():
    assert parse_card("  kim@example.com\n") == {"email": "kim@example.com"}


def test_a_byte_order_mark_and_lower_case_begin_are_accepted():
    assert parse_card("\ufeffbegin:vcard\nN:Doe;Jo;;;\nend:vcard")["first_name"] == "Jo"


@pytest.mark.parametrize("text", ["", "   ", "hello there", "https://example.com/badge/123"])
def test_other_text_is_refused_on_the_scan_field(text):
    with pytest.raises(ValidationError) as err:
        parse_card(text)
    assert "scan_text" in err.value.message_dict


def test_values_are_cut_to_the_column_lengths():
    card = f"BEGIN:VCARD\nN:{'x' * 300};Jo;;;\nEND:VCARD"
    assert len(parse_card(card)["last_name"]) == 100
