"""Routing's pages, under the "routing" namespace."""

from tandem.routing.urls_rules import urlpatterns as rules_urlpatterns

app_name = "routing"

urlpatterns = [*rules_urlpatterns]
