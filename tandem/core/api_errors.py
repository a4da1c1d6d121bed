"""How the API answers when a request is refused (STYLE.md, API).

Services raise Django's exceptions; this maps them to statuses and bodies a
client can act on: the field and the problem, never a 500 for bad input.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError

from tandem.core.api_auth import NEEDS_AUTH, SAFE_METHODS


def validation_details(request: HttpRequest, exc: DjangoValidationError) -> list[dict[str, Any]]:
    """Django's field errors in the shape of ninja's own: loc ends with the field.

    Our endpoints name their body parameter `payload`, so a body field is at
    ["body", "payload", field] as in ninja's errors; a query field at ["query", field].
    A dotted key from a service ("custom_fields.budget") becomes its path in loc.
    """
    if request.method in SAFE_METHODS:
        source = ["query"]
    elif request.META.get("CONTENT_LENGTH", "0") not in ("", "0"):
        source = ["body", "payload"]
    else:
        source = []
    details = []
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            loc = list(source)
            if field != NON_FIELD_ERRORS:
                loc += field.split(".")
            details += [{"loc": loc, "msg": m, "type": "value_error"} for m in messages]
    else:
        details = [{"loc": source, "msg": m, "type": "value_error"} for m in exc.messages]
    return details


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DjangoValidationError)
    def invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return api.create_response(
            request, {"detail": validation_details(request, exc)}, status=422
        )

    @api.exception_handler(PermissionDenied)
    def denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        message = str(exc) or "You may not do this."
        return api.create_response(request, {"detail": message}, status=403)

    @api.exception_handler(ObjectDoesNotExist)
    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(request, {"detail": "Not found."}, status=404)

    @api.exception_handler(RequestDataTooBig)
    def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is larger than {limit} bytes."
        return api.create_response(request, {"detail": message}, status=413)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = exc.message if exc.message != "Unauthorized" else NEEDS_AUTH
        response = api.create_response(request, {"detail": message}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="tandem"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        message, status = str(exc), exc.status_code
        if status == 400 and isinstance(exc.__cause__, json.JSONDecodeError):
            cause = exc.__cause__
            message = (
                f"The request body is not valid JSON: {cause.msg} "
                f"at line {cause.lineno}, column {cause.colno}."
            )
        elif status == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            message = "The request body is not valid UTF-8 JSON."
        return api.create_response(request, {"detail": message}, status=status)
