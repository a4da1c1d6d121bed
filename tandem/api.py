"""The one NinjaAPI (/api/v1/); each app adds its router.

Every endpoint needs a caller (accounts/api_auth.py) and answers refusals the same
way (core/api_errors.py). The docs page is also served at /api/docs.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja.openapi.docs import Swagger
from ninja.openapi.views import openapi_view

from tandem.accounts.api import router as accounts_router
from tandem.accounts.api_auth import api_auth
from tandem.campaigns.api import router as campaigns_router
from tandem.core.api_errors import DocumentedAPI, OneValueParser, install_error_handlers
from tandem.people.api import companies as companies_router
from tandem.people.api import router as people_router
from tandem.people.services import DuplicateEmailError


class TandemSwagger(Swagger):
    """Swagger UI under Tandem's bar, with a way back into the app."""

    template = "core/api_docs.html"


api = DocumentedAPI(
    title="Tandem API",
    version="1",
    description=(
        "One shared database of people and companies. Authenticate with "
        "`Authorization: Bearer <token>` (make one with `tandem token create --user NAME`), "
        "or sign in to the web app and use this page."
    ),
    urls_namespace="api",
    docs=TandemSwagger(),
    docs_url="/docs",
    auth=api_auth,
    parser=OneValueParser(),
)
install_error_handlers(api)


@api.exception_handler(DuplicateEmailError)
def duplicate_email(request: HttpRequest, exc: DuplicateEmailError) -> HttpResponse:
    """409 naming the person who has the address, so a client can update them instead."""
    body = {"detail": str(exc), "field": "email", "existing_person_id": exc.person_id}
    return api.create_response(request, body, status=409)


api.add_router("", people_router)
api.add_router("", companies_router)
api.add_router("", accounts_router)
api.add_router("", campaigns_router)
api.add_router("/capture", "tandem.capture.api.router")
api.add_router("/scoring", "tandem.scoring.api.router")
api.add_router("", "tandem.scoring.predictive.api.router")
api.add_router("", "tandem.notifications.api.router")
api.add_router("", "tandem.sla.api.router")
api.add_router("", "tandem.followups.api.router")
api.add_router("", "tandem.routing.api_sla.router")  # untouched leads, the SLA report
api.add_router("", "tandem.routing.api_handoffs.router")
api.add_router("", "tandem.routing.api_rules.router")
api.add_router("", "tandem.attribution.api.router")
api.add_router("", "tandem.deals.api.router")
api.add_router("", "tandem.deals.api.setup")  # pipelines and the won/lost reason lists
api.add_router("", "tandem.reports.api.router")  # the funnel


def docs(request: HttpRequest) -> HttpResponse:
    """/api/docs: the same interactive docs as /api/v1/docs."""
    return openapi_view(request, api=api)
