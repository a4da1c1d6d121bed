from django.urls import include, path

from tandem.api import api
from tandem.core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("", include("tandem.accounts.urls")),
    path("", include("tandem.people.urls")),
]
