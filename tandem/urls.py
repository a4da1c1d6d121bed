from django.urls import include, path

from tandem.api import api, docs
from tandem.core import health
from tandem.core.views import favicon

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("favicon.ico", favicon, name="favicon"),
    # Early: public form posts are the busiest path, and Django tries patterns in order.
    path("", include("tandem.capture.urls")),
    path("api/v1/", api.urls),
    path("api/docs", docs, name="api_docs"),
    path("", include("tandem.accounts.urls")),
    path("", include("tandem.people.urls")),
    path("", include("tandem.campaigns.urls")),
    path("", include("tandem.scoring.urls")),
    path("", include("tandem.routing.urls_handoffs")),
    path("", include("tandem.routing.urls")),
    path("", include("tandem.capture.quick.urls")),
    path("", include("tandem.imports.urls")),
    path("", include("tandem.dedup.urls")),
    path("", include("tandem.notifications.urls")),
    path("", include("tandem.sla.urls")),
    path("", include("tandem.followups.urls")),
    path("", include("tandem.deals.urls")),
    path("", include("tandem.routing.urls_sla")),
    path("", include("tandem.attribution.urls")),
    path("", include("tandem.deals.urls_settings")),  # /settings/pipelines/ (deals_settings)
    path("", include("tandem.reports.urls")),
]
