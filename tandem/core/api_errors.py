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
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.parser import Parser
from pydantic import ConfigDict, Field

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
NEEDS_AUTH = "Sign in or send Authorization: Bearer <token>."


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


# --- what the OpenAPI document says about refusals ------------------------------------


class ErrorLocation(Schema):
    """One problem with the request, as in ninja's own validation errors."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(description='Where: ["body", "payload", field], ["query", name]…')
    msg: str
    type: str


class ErrorOut(Schema):
    """Every refusal: `detail` says what is wrong, as text or (422) one entry per problem."""

    model_config = ConfigDict(extra="allow")

    detail: str | list[ErrorLocation]
    field: str | None = Field(None, description="409: the field whose value is taken.")
    existing_person_id: int | None = Field(
        None, description="409: the person who has the email address already."
    )


REFUSALS: dict[int, str] = {
    400: "The body is not JSON (or not UTF-8).",
    401: "No credentials, or a token that is unknown, revoked or of a deactivated user.",
    403: "The caller may not do this (a read-only token, a role without the right, a missing "
    "CSRF token on a signed-in session).",
    404: "No such record, or not one the caller can see.",
    409: "The value is taken: `existing_person_id` names who has the email address.",
    413: "The body is larger than the server accepts.",
    422: "A value is refused, each in `detail` with its location and the problem: a value "
    "outside the schema, or a rule a schema cannot state (an owner or company that does "
    "not exist, an address or phone number that cannot be real, a move the funnel does "
    "not allow).",
}


def refusals_for(method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, read from what it takes."""
    statuses = {401}
    params = operation.get("parameters", [])
    if method.upper() not in SAFE_METHODS:
        statuses.add(403)
    if any(p.get("in") == "path" for p in params):
        statuses.add(404)
    if params:
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    return statuses


def document_refusals(schema: dict[str, Any]) -> dict[str, Any]:
    """Add every refusal an operation can answer to its responses, all with `ErrorOut`.

    The statuses follow from the operation (a write can be forbidden, a path id
    not found, a body not JSON); one an endpoint adds itself (409) is declared in
    its `openapi_extra` and gets the same shape here.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorOut"] = error_schema
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            for status in refusals_for(method, operation) | {
                int(k) for k in responses if k.startswith("4")
            }:
                entry = responses.setdefault(str(status), {})
                entry.setdefault("description", REFUSALS.get(status, "Refused."))
                entry.setdefault("content", content)
            operation["responses"] = dict(sorted(responses.items()))
    return schema


class DocumentedAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document lists each operation's refusals."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_refusals(schema)


def conflict(description: str = REFUSALS[409]) -> dict[str, Any]:
    """`openapi_extra` for an operation that can answer 409 (the shape is added above)."""
    return {"responses": {409: {"description": description}}}


class OneValueParser(Parser):
    """A parameter the schema gives one value (every one here) is refused when sent twice.

    ninja would take the last value and ignore the others, so `?q=x&q=y` answered
    as if only y was asked.
    """

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        repeated = [k for k in data if k not in list_fields and len(data.getlist(k)) > 1]
        if repeated:
            raise DjangoValidationError({k: "Give this parameter once." for k in repeated})
        return super().parse_querydict(data, list_fields, request)
