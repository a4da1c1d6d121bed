from django.urls import path

from tandem.capture import public, views

app_name = "capture"

urlpatterns = [
    # Marketing's form builder (login, capture.manage_forms).
    path("forms/", views.form_list, name="form_list"),
    path("forms/new/", views.form_create, name="form_create"),
    path("forms/<int:pk>/", views.form_detail, name="form_detail"),
    path("forms/<int:pk>/edit/", views.form_edit, name="form_edit"),
    path("forms/<int:pk>/inbox/retry/", views.form_inbox_retry, name="form_inbox_retry"),
    # Public: no login, posts from any origin.
    path("f/<slug:key>.json", public.form_json, name="form_json"),
    path("f/<slug:key>", public.form, name="form"),
    path("f/<slug:key>/thanks", public.form_thanks, name="form_thanks"),
    path("consent/confirm/<str:token>", public.consent_confirm, name="consent_confirm"),
    path("u/<str:token>", public.unsubscribe, name="unsubscribe"),
]
