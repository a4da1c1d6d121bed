"""Read a badge scan or a contact card into person fields (quick capture, J4).

Trade-show badges carry a QR code with vCard (3.0 or 4.0, sometimes 2.1) or
MeCard text; phones share contacts as .vcf files. The quick capture page parses
the same text in JavaScript for an instant fill; this parser serves the page
without JavaScript and is the reference the JavaScript follows.

Only fields a person has are returned, trimmed, never longer than the columns:
first_name, last_name, email, phone, company, title, street, city, region,
postcode, country (a two-letter code, else left out) and note.
"""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email

MAX_CARD_CHARS = 64_000
FIELD_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "phone": 50,
    "company": 200,
    "title": 150,
    "street": 255,
    "city": 100,
    "region": 100,
    "postcode": 20,
    "country": 2,
    "note": 2000,
}

# Country names badge systems write instead of codes; anything else is left out
# rather than rejected, so a scan never fails on the country.
COUNTRY_NAMES = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "u.s.a.": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "spain": "ES",
    "españa": "ES",
    "italy": "IT",
    "italia": "IT",
    "netherlands": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "belgium": "BE",
    "austria": "AT",
    "österreich": "AT",
    "switzerland": "CH",
    "schweiz": "CH",
    "suisse": "CH",
    "sweden": "SE",
    "norway": "NO",
    "denmark": "DK",
    "finland": "FI",
    "ireland": "IE",
    "poland": "PL",
    "portugal": "PT",
    "canada": "CA",
    "mexico": "MX",
    "brazil": "BR",
    "australia": "AU",
    "new zealand": "NZ",
    "japan": "JP",
    "china": "CN",
    "india": "IN",
}


@dataclass
class _Property:
    name: str
    params: dict[str, list[str]] = field(default_factory=dict)
    value: str = ""

    def types(self) -> set[str]:
        found = {t.lower() for v in self.params.get("TYPE", []) for t in v.split(",")}
        # vCard 2.1 writes bare parameters: TEL;WORK;PREF:...
        found |= {t.lower() for t in self.params.get("", [])}
        return found

    def preference(self) -> int:
        """Lower is preferred: PREF=1 (4.0), TYPE=pref (3.0), then the order given."""
        pref = self.params.get("PREF")
        if pref and pref[0].isdigit():
            return int(pref[0])
        return 1 if "pref" in self.types() else 101


def parse_card(text: str) -> dict[str, str]:
    """Person fields from vCard or MeCard text (the first card if there are several).

    A bare email address is read as one too, since some badges encode only that.
    Raises ValidationError on `scan_text` when the text is none of these.
    """
    text = (text or "").lstrip("\ufeff").strip()
    if not text:
        raise ValidationError({"scan_text": "Paste or scan a vCard or MeCard."})
    if len(text) > MAX_CARD_CHARS:
        raise ValidationError(
            {"scan_text": f"A card is at most {MAX_CARD_CHARS} characters (got {len(text)})."}
        )
    upper = text[:20].upper()
    if upper.startswith("BEGIN:VCARD"):
        fields = _from_vcard(text)
    elif upper.startswith("MECARD:"):
        fields = _from_mecard(text[len("MECARD:") :])
    elif _is_email(text):
        fields = {"email": text}
    else:
        raise ValidationError(
            {"scan_text": "This is not a vCard (BEGIN:VCARD…) or MeCard (MECARD:…) text."}
        )
    return _tidy(fields)


# --- vCard ---------------------------------------------------------------------------


def _unfold(text: str) -> list[str]:
    """Logical lines: a line break followed by a space or tab continues the line (RFC 6350 3.2).

    vCard 2.1 quoted-printable values continue with a soft break (`=` at the end).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"\n[ \t]", "", text)
    lines: list[str] = []
    for line in text.split("\n"):
        if lines and lines[-1].endswith("=") and "QUOTED-PRINTABLE" in lines[-1].upper():
            lines[-1] = lines[-1][:-1] + line
        else:
            lines.append(line)
    return [line for line in lines if line.strip()]


def _split_unquoted(text: str, sep: str, limit: int = -1) -> list[str]:
    """Split on `sep` outside double quotes."""
    parts, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            current.append(ch)
        elif ch == sep and not quoted and limit != 0:
            parts.append("".join(current))
            current = []
            limit -= 1
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _parse_line(line: str) -> _Property | None:
    head_value = _split_unquoted(line, ":", limit=1)
    if len(head_value) != 2:
        return None
    head, value = head_value
    pieces = _split_unquoted(head, ";")
    name = pieces[0].split(".")[-1].strip().upper()  # drop a group prefix: item1.EMAIL
    prop = _Property(name=name)
    for piece in pieces[1:]:
        key, eq, val = piece.partition("=")
        if not eq:  # vCard 2.1: TEL;WORK:...
            prop.params.setdefault("", []).append(key.strip())
            continue
        for one in _split_unquoted(val, ","):
            prop.params.setdefault(key.strip().upper(), []).append(one.strip().strip('"'))
    encoding = {e.upper() for e in prop.params.get("ENCODING", [])}
    if "QUOTED-PRINTABLE" in encoding or "QUOTED-PRINTABLE" in {
        p.upper() for p in prop.params.get("", [])
    }:
        charset = (prop.params.get("CHARSET") or ["utf-8"])[0]
        raw = quopri.decodestring(value.encode("latin-1", "replace"))
        try:
            value = raw.decode(charset, "replace")
        except LookupError:
            value = raw.decode("utf-8", "replace")
    prop.value = value
    return prop


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split_escaped(value: str, sep: str) -> list[str]:
    """Split on `sep` unless backslash-escaped; the escapes stay for `_unescape`."""
    parts, current, i = [], [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            current.append(value[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _components(value: str, sep: str = ";") -> list[str]:
    """A structured value (N, ADR, ORG) split into its unescaped parts."""
    return [_unescape(p).strip() for p in _split_escaped(value, sep)]


def _best(props: list[_Property], *, prefer: tuple[str, ...] = ()) -> _Property | None:
    if not props:
        return None

    def rank(indexed: tuple[int, _Property]) -> tuple[int, int, int]:
        index, prop = indexed
        types = prop.types()
        kind = next((n for n, t in enumerate(prefer) if t in types), len(prefer))
        return (prop.preference(), kind, index)

    return min(enumerate(props), key=rank)[1]


def _from_vcard(text: str) -> dict[str, str]:
    props: dict[str, list[_Property]] = {}
    for line in _unfold(text):
        prop = _parse_line(line)
        if prop is None:
            continue
        if prop.name == "END" and prop.value.strip().upper() == "VCARD":
            break  # only the first card
        props.setdefault(prop.name, []).append(prop)

    fields: dict[str, str] = {}
    n = _best(props.get("N", []))
    if n is not None:
        parts = _components(n.value) + [""] * 5
        fields["last_name"], fields["first_name"] = parts[0], parts[1]
    if not (fields.get("first_name") or fields.get("last_name")):
        fn = _best(props.get("FN", []))
        if fn is not None:
            fields.update(_split_full_name(_unescape(fn.value)))
    org = _best(props.get("ORG", []))
    if org is not None:
        fields["company"] = _components(org.value)[0]
    title = _best(props.get("TITLE", []))
    if title is not None:
        fields["title"] = _unescape(title.value)
    email = _best(props.get("EMAIL", []), prefer=("work", "internet"))
    if email is not None:
        fields["email"] = _strip_scheme(_unescape(email.value), "mailto:")
    tel = _best(props.get("TEL", []), prefer=("work", "cell", "voice"))
    if tel is not None:
        fields["phone"] = _strip_scheme(_unescape(tel.value), "tel:")
    adr = _best(props.get("ADR", []), prefer=("work",))
    if adr is not None:
        parts = _components(adr.value) + [""] * 7
        box, extended, street, city, region, postcode, country = parts[:7]
        fields["street"] = ", ".join(p for p in (street, extended, box) if p)
        fields.update(city=city, region=region, postcode=postcode, country=country)
    note = _best(props.get("NOTE", []))
    if note is not None:
        fields["note"] = _unescape(note.value)
    return fields


# --- MeCard --------------------------------------------------------------------------


def _from_mecard(body: str) -> dict[str, str]:
    """MECARD:N:Doe,John;TEL:+1...;EMAIL:...;ORG:...;TITLE:...;ADR:...;NOTE:...;;

    `\\`, `;`, `:` and `,` are backslash-escaped in values.
    """
    fields: dict[str, str] = {}
    for item in _split_escaped(body, ";"):
        key, sep, raw = item.partition(":")
        if not sep:
            continue
        key, value = key.strip().upper(), _unescape(raw).strip()
        if key == "N" and not (fields.get("first_name") or fields.get("last_name")):
            parts = _components(raw, ",")
            if len(parts) == 1 and " " in parts[0]:  # "John Doe" without a comma
                fields.update(_split_full_name(parts[0]))
            else:
                fields["last_name"], fields["first_name"] = parts[0], " ".join(parts[1:])
        elif key == "EMAIL" and "email" not in fields:
            fields["email"] = value
        elif key == "TEL" and "phone" not in fields:
            fields["phone"] = value
        elif key == "ORG" and "company" not in fields:
            fields["company"] = value
        elif key == "TITLE" and "title" not in fields:
            fields["title"] = value
        elif key == "NOTE" and "note" not in fields:
            fields["note"] = value
        elif key == "ADR" and "street" not in fields:
            parts = _components(raw, ",")
            if len(parts) >= 7:  # PO box, extended, street, city, region, postcode, country
                box, extended, street, city, region, postcode, country = parts[:7]
                fields["street"] = ", ".join(p for p in (street, extended, box) if p)
                fields.update(city=city, region=region, postcode=postcode, country=country)
            else:
                fields["street"] = value
    return fields


# --- helpers -------------------------------------------------------------------------


def _split_full_name(full: str) -> dict[str, str]:
    words = full.split()
    if not words:
        return {}
    if len(words) == 1:
        return {"last_name": words[0]}
    return {"first_name": " ".join(words[:-1]), "last_name": words[-1]}


def _strip_scheme(value: str, scheme: str) -> str:
    value = value.strip()
    if value.lower().startswith(scheme):
        value = value[len(scheme) :]
    return value.strip()


def _is_email(text: str) -> bool:
    if any(c.isspace() for c in text) or "@" not in text:
        return False
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def country_code(value: str) -> str:
    """A two-letter code from a code or a common country name; "" when unsure."""
    value = (value or "").strip()
    if len(value) == 2 and value.isalpha():
        return value.upper()
    return COUNTRY_NAMES.get(value.lower(), "")


def _tidy(fields: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, limit in FIELD_LIMITS.items():
        value = fields.get(name, "")
        value = value.strip() if name == "note" else " ".join(value.split())
        if name == "country":
            value = country_code(value)
        if value:
            out[name] = value[:limit]
    return out
