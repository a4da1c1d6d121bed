"""Public endpoints: the hosted form, POST /f/<key> from any site, its JSON twin with CORS,
the double opt-in link and one-click unsubscribe.

No login and no CSRF token here: posts come from other origins (a plain HTML
form needs no JavaScript) and mail clients (RFC 8058). What protects them:
a 64 KB body limit checked before parsing, rate limits per IP and per form
(429 with Retry-After), a honeypot and a minimum fill time (bots are told
"thanks" and nothing is stored), and escaping of everything shown.

A submission is checked here and captured from the inbox (capture/inbox.py):
a post costs one statement on PostgreSQL (the rate counters and the inbox
row), one short transaction on SQLite, so a burst of visitors is answered at
once (issue 4, point 17).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from tandem.capture import consent as consents
from tandem.capture import inbox, webforms
from tandem.capture.models import ConsentPurpose, ConsentText, WebForm
from tandem.core import csp
from tandem.core.http import client_ip
from tandem.people.models import CustomField
from tandem.people.schemas import storable

MAX_BODY_BYTES = 64 * 1024
RATE_WINDOW_SECONDS = 60
_URLENCODED = {
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=UTF-8",
}
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


def _form_or_none(key: str) -> WebForm | None:
    return WebForm.objects.filter(key=key, is_active=True).select_related("campaign").first()


# --- the form as a post reads it, kept per process ------------------------------------------

# A definition is read again after this many seconds (custom fields edited in
# another process show then). A form edited or closed in any process is
# noticed at once: the inbox row is inserted only while the form's
# updated_at is still the one read here (see inbox.accept).
CATALOGUE_SECONDS = 10.0


@dataclass(frozen=True)
class _Definition:
    form: WebForm
    fields: list[webforms.FormField]
    consent_texts: list[ConsentText]
    thanks_url: str
    loaded_at: float


_definitions: dict[str, _Definition] = {}
_definitions_lock = threading.Lock()


def _submittable(key: str) -> _Definition | None:
    """The active form `key` with its fields, consent texts and thank-you address,
    read from the database at most every CATALOGUE_SECONDS: no query per post."""
    cached = _definitions.get(key)
    now = time.monotonic()
    if cached is not None and now - cached.loaded_at < CATALOGUE_SECONDS:
        return cached
    form = _form_or_none(key)
    if form is None:
        _forget(key)
        return None
    loaded = _Definition(
        form=form,
        fields=webforms.form_fields(form),
        consent_texts=webforms.form_consent_texts(form),
        thanks_url=_thanks_url(form, None),
        loaded_at=now,
    )
    with _definitions_lock:
        _definitions[key] = loaded
    return loaded


def _forget(key: str) -> None:
    with _definitions_lock:
        _definitions.pop(key, None)


def _forget_definitions(**kwargs: Any) -> None:
    """A form, consent text or custom field changed in this process: read them again."""
    with _definitions_lock:
        _definitions.clear()


for _model in (WebForm, ConsentText, ConsentPurpose, CustomField):
    post_save.connect(_forget_definitions, sender=_model, dispatch_uid=f"capture-defs-{_model}")
    post_delete.connect(_forget_definitions, sender=_model, dispatch_uid=f"capture-defd-{_model}")
m2m_changed.connect(
    _forget_definitions, sender=WebForm.consent_texts.through, dispatch_uid="capture-defs-m2m"
)


def _base_url(request: HttpRequest) -> str:
    """request.build_absolute_uri("/") without its slash: the host is a validated one
    (letters, digits, dots, dashes, a port, an IPv6 address), so nothing needs quoting."""
    return f"{request.scheme}://{request.get_host()}"


def _body_too_large(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES
    except ValueError:
        return True


def _limits(request: HttpRequest, form: WebForm) -> list[tuple[str, int]]:
    """The rate limits a post counts against: per IP and per form, per minute."""
    per_ip = int(getattr(settings, "TANDEM_FORM_RATE_PER_IP", 20))
    per_form = int(getattr(settings, "TANDEM_FORM_RATE_PER_FORM", 600))
    return [(f"form:ip:{client_ip(request)}", per_ip), (f"form:key:{form.key}", per_form)]


def _proof(request: HttpRequest, form: WebForm | None, method: str) -> consents.Proof:
    ip = client_ip(request)
    return consents.Proof(
        method=method,
        form=form,
        ip=ip if ip != "unknown" else None,
        user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:300],
    )


def _thanks_url(form: WebForm, sub: webforms.Submission | None, default: str | None = None) -> str:
    if form.redirect_url:
        return form.redirect_url
    if sub is not None and sub.return_url:
        return sub.return_url
    return default or reverse("capture:form_thanks", args=[form.key])


# --- the hosted form page ----------------------------------------------------------------------


def _field_rows(
    form: WebForm, values: Mapping[str, str], errors: Mapping[str, str]
) -> list[dict[str, Any]]:
    rows = []
    for ff in webforms.form_fields(form):
        spec = ff.spec
        rows.append(
            {
                "name": ff.input_name,
                "id": f"f-{ff.input_name}",
                "label": ff.label,
                "type": spec.input_type,
                "autocomplete": spec.autocomplete,
                "max_length": spec.max_length,
                "choices": spec.choices,
                "help": spec.help,
                "required": ff.required,
                "value": values.get(ff.input_name, ""),
                "checked": webforms.is_ticked(values.get(ff.input_name, "")),
                "error": errors.get(ff.input_name, ""),
            }
        )
    return rows


def _form_page(
    request: HttpRequest,
    form: WebForm,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    ticked: set[str] | None = None,
    hidden: Mapping[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    errors = errors or {}
    rows = _field_rows(form, values or {}, errors)
    shown = {row["name"] for row in rows}
    context = {
        "form": form,
        "rows": rows,
        "consent_rows": [
            {
                "name": webforms.CONSENT_PREFIX + t.purpose.key,
                "id": f"c-{t.purpose.key}",
                "text": t.text,
                "checked": t.purpose.key in (ticked or set()),
            }
            for t in webforms.form_consent_texts(form)
        ],
        "errors": errors,
        "form_error": errors.get("__all__", ""),
        "other_errors": [m for k, m in errors.items() if k != "__all__" and k not in shown],
        "hidden": dict(hidden or {}),
        "honeypot": webforms.HONEYPOT_FIELD,
        "action": reverse("capture:form", args=[form.key]),
    }
    return render(request, "capture/public/form_page.html", context, status=status)


def _kept_hidden(data: Mapping[str, Any], sub: webforms.Submission) -> dict[str, str]:
    """What a re-rendered form must post again: tracking, the return address, the shown time."""
    kept = dict(sub.tracking)
    for name in ("retURL", "lead_source", webforms.TIMESTAMP_FIELD):
        value = str(data.get(name) or "")[:2000]
        if value:
            kept[name] = value
    return kept


def _framed_by_form_sites(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """The form's pages may be shown in an iframe on the sites the form lists (on any
    site when it lists none): X-Frame-Options off, CSP frame-ancestors set per form."""

    @wraps(view)
    def wrapped(request: HttpRequest, key: str) -> HttpResponseBase:
        response = view(request, key)
        if csp.HEADER not in response and str(response.get("Content-Type", "")).startswith(
            "text/html"
        ):
            cached = _definitions.get(key)
            sites = (
                cached.form.sites
                if cached is not None
                else WebForm.objects.filter(key=key).values_list("sites", flat=True).first()
            )
            response[csp.HEADER] = csp.frameable_policy(sites or [])
        return response

    return xframe_options_exempt(wrapped)


@csrf_exempt
@_framed_by_form_sites
def form(request: HttpRequest, key: str) -> HttpResponseBase:
    """GET: the hosted form (standalone, embeddable in an iframe). POST: a submission."""
    if request.method == "POST":
        return _submit(request, key, as_json=False)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    web_form = _form_or_none(key)
    if web_form is None:
        return render(request, "capture/public/not_found.html", status=404)
    hidden = {webforms.TIMESTAMP_FIELD: webforms.fill_token(web_form.key)}
    for name in webforms.TRACKING_FIELDS:  # a link to the hosted form may carry UTM tags
        value = request.GET.get(name, "")[:2000]
        if value:
            hidden[name] = value
    return _form_page(request, web_form, hidden=hidden)


@_framed_by_form_sites
def form_thanks(request: HttpRequest, key: str) -> HttpResponse:
    web_form = WebForm.objects.filter(key=key).first()
    if web_form is None:
        return render(request, "capture/public/not_found.html", status=404)
    confirm = web_form.double_opt_in and web_form.consent_texts.exists()
    return render(
        request, "capture/public/thanks.html", {"form": web_form, "mentions_confirmation": confirm}
    )


@csrf_exempt
def form_json(request: HttpRequest, key: str) -> HttpResponseBase:
    """The JSON twin for JavaScript embeds, open to every origin (CORS *)."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    if request.method == "POST":
        return _submit(request, key, as_json=True)
    if request.method not in ("GET", "HEAD"):
        return _cors(JsonResponse({"ok": False, "errors": {"__all__": "Use POST."}}, status=405))
    web_form = _form_or_none(key)
    if web_form is None:
        return _cors(
            JsonResponse({"ok": False, "errors": {"__all__": "No such form."}}, status=404)
        )
    body = {
        "key": web_form.key,
        "name": web_form.name,
        "fields": [
            {"name": ff.input_name, "label": ff.label, "required": ff.required}
            for ff in webforms.form_fields(web_form)
        ],
        "consents": [
            {"name": webforms.CONSENT_PREFIX + t.purpose.key, "text": t.text}
            for t in webforms.form_consent_texts(web_form)
        ],
        webforms.TIMESTAMP_FIELD: webforms.fill_token(web_form.key),
    }
    return _cors(JsonResponse(body))


def _cors(response: HttpResponse) -> HttpResponse:
    for name, value in CORS_HEADERS.items():
        response[name] = value
    return response


def _refuse(as_json: bool, status: int, message: str, request: HttpRequest) -> HttpResponse:
    if as_json:
        return _cors(JsonResponse({"ok": False, "errors": {"__all__": message}}, status=status))
    return render(request, "capture/public/refused.html", {"message": message}, status=status)


def _read_data(request: HttpRequest, as_json: bool) -> Mapping[str, Any] | None:
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type in _URLENCODED:
        # What request.POST would hold (the last value of a repeated name wins in
        # both), read straight into a dict: the common post, parsed at half the cost.
        body = request.body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("iso-8859-1")
        try:
            return dict(
                parse_qsl(
                    text,
                    keep_blank_values=True,
                    max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
                )
            )
        except ValueError:  # more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
            return None
    if content_type.startswith("application/json"):
        if not as_json:
            return None  # the form's JSON address is another (`form_json`)
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested deep
            return None
        if not isinstance(data, dict):
            return None
        return {
            str(k): "" if v is None else str(v)
            for k, v in data.items()
            if not isinstance(v, dict | list)
        }
    return request.POST


def _storable_text(value: Any) -> str:
    return str(value).encode("utf-8", "replace").decode("utf-8")


def _storable_data(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, str]]:
    """The post without NUL characters (dropped, as they always were: the lead is
    kept), and errors by input name for lone surrogates, which no database stores:
    such a post is refused whole rather than told "thanks" and then failing in the
    inbox (issue 17, point 5). One check of the whole post in the common case."""
    blob = "".join([*data.keys(), *(str(v) for v in data.values())])
    if "\x00" in blob:
        data = {str(k).replace("\x00", ""): str(v).replace("\x00", "") for k, v in data.items()}
    try:
        blob.encode("utf-8")
        return data, {}
    except UnicodeEncodeError:
        pass
    errors: dict[str, str] = {}
    for name, value in data.items():
        try:
            storable(name)
            storable(str(value))
        except ValueError as exc:
            errors[_storable_text(name)[:100]] = f"{exc} Type the value again."
    return data, errors


def _submit(
    request: HttpRequest, key: str, *, as_json: bool, counted: bool = False
) -> HttpResponse:
    """Check a post, then count it against the rate limits and store it, together.

    The checks need no database, so the rate counters and the inbox row are
    written together (see inbox.accept). Every post is counted, a bot's and an
    invalid one's too.
    """
    if _body_too_large(request):
        return _refuse(as_json, 413, "The form sent too much data (64 KB at most).", request)
    definition = _submittable(key)
    if definition is None:
        return _refuse(as_json, 404, "This form does not exist or is closed.", request)
    web_form = definition.form
    data = _read_data(request, as_json)
    sub: webforms.Submission | None = None
    is_bot = False
    if data is not None:
        data, unstorable = _storable_data(data)
        if unstorable:  # shown again without the bad characters, nothing stored
            data = {_storable_text(k): _storable_text(v) for k, v in data.items()}
        if data.get(webforms.HONEYPOT_FIELD):  # a bot: told "thanks", nothing stored
            is_bot = True
        else:
            sub = webforms.read_submission(
                web_form, data, fields=definition.fields, consent_texts=definition.consent_texts
            )
            sub.errors.update(unstorable)
            # A person who sends too early gets the errors to fix; a complete post sent
            # faster than anyone types is a bot: told "thanks", nothing stored.
            is_bot = not sub.errors and bool(webforms.spam_reason(web_form, data))

    limits = [] if counted else _limits(request, web_form)
    form_changed = False
    if sub is not None and not sub.errors and not is_bot:
        try:
            acceptance = inbox.accept(
                form=web_form,
                sub=sub,
                proof=_proof(request, web_form, "form"),
                base_url=_base_url(request),
                limits=limits,
                window_seconds=RATE_WINDOW_SECONDS,
            )
            wait, form_changed = acceptance.retry_after, acceptance.form_changed
        except ValidationError as exc:  # found by a capture in the request (inline tasks)
            wait = 0
            _add_errors(sub, exc)
    elif limits:
        wait = inbox.count_hits(limits, window_seconds=RATE_WINDOW_SECONDS)
    else:
        wait = 0
    if wait:
        response = _refuse(
            as_json, 429, "Too many submissions from here. Wait a minute and try again.", request
        )
        response["Retry-After"] = str(wait)
        return response
    if data is None:
        if not as_json and request.META.get("CONTENT_TYPE", "").startswith("application/json"):
            # Read as a form post it had no fields: "First name is required" misled.
            json_url = reverse("capture:form_json", args=[key])
            message = f"This address takes form posts; send JSON to {json_url}."
            return _refuse(as_json, 415, message, request)
        return _refuse(as_json, 400, "Send a JSON object or a form post.", request)
    if sub is None or is_bot:
        return _success(request, definition, None, as_json)
    if form_changed:  # the form changed or closed since we read it: read it again
        _forget(key)
        return _submit(request, key, as_json=as_json, counted=True)
    if sub.errors:
        if as_json:
            return _cors(JsonResponse({"ok": False, "errors": sub.errors}, status=422))
        return _form_page(
            request,
            web_form,
            values=sub.values,
            errors=sub.errors,
            ticked=sub.ticked,
            hidden=_kept_hidden(data, sub),
            status=422,
        )
    return _success(request, definition, sub, as_json)


def _add_errors(sub: webforms.Submission, exc: ValidationError) -> None:
    for name, messages in exc.message_dict.items():
        target = webforms.input_name_for_error(name)
        text = " ".join(messages)
        if target == "__all__" and name != "__all__":
            text = f"{name}: {text}"
        sub.errors[target] = (sub.errors.get(target, "") + " " + text).strip()


def _success(
    request: HttpRequest, definition: _Definition, sub: webforms.Submission | None, as_json: bool
) -> HttpResponse:
    form = definition.form
    url = _thanks_url(form, sub, definition.thanks_url)
    if as_json:
        return _cors(
            JsonResponse(
                {
                    "ok": True,
                    "errors": {},
                    "redirect": url if (form.redirect_url or (sub and sub.return_url)) else None,
                    "message": form.thank_you_message or "Thank you!",
                }
            )
        )
    return HttpResponse(status=303, headers={"Location": url})


# --- double opt-in and unsubscribe ----------------------------------------------------------------


@csrf_exempt
def consent_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the double opt-in email. GET shows a page with a button; only its POST
    confirms, so mail scanners that fetch every link confirm no one.

    No CSRF token (these paths skip the session and CSRF middleware): the
    signed token in the address is the secret a forged post would need.
    """
    try:
        consents.read_confirmation_token(token)
    except consents.ConsentLinkError as exc:
        return render(request, "capture/public/link_error.html", {"message": str(exc)}, status=400)
    if request.method in ("GET", "HEAD"):
        return render(request, "capture/public/confirm.html")
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    try:
        confirmed = consents.confirm_consents(
            token=token, proof=_proof(request, None, "email_link")
        )
    except consents.ConsentLinkError as exc:
        return render(request, "capture/public/link_error.html", {"message": str(exc)}, status=400)
    return render(request, "capture/public/confirmed.html", {"consents": confirmed})


@csrf_exempt
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (link scanners must not unsubscribe anyone); POST unsubscribes.

    The POST needs no login and no CSRF token: RFC 8058 one-click unsubscribe
    is a POST of `List-Unsubscribe=One-Click` from the mail provider.
    """
    try:
        _, email = consents.read_unsubscribe_token(token)
    except consents.ConsentLinkError as exc:
        return render(request, "capture/public/link_error.html", {"message": str(exc)}, status=400)
    if request.method == "POST":
        consents.unsubscribe(token=token, proof=_proof(request, None, "unsubscribe"))
        return render(request, "capture/public/unsubscribed.html", {"email": email})
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    return render(request, "capture/public/unsubscribe.html", {"email": email})
