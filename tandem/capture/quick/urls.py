"""Quick capture on the phone: the page, its offline sync, service worker and manifest."""

from django.urls import path

from tandem.capture.quick import views as quick_views

app_name = "quick"

urlpatterns = [
    path("capture", quick_views.page, name="page"),
    path("capture/sync", quick_views.sync, name="sync"),
    path("capture/sw.js", quick_views.service_worker, name="service_worker"),
    path("capture/manifest.webmanifest", quick_views.manifest, name="manifest"),
]
