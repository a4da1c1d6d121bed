from django.urls import path

from tandem.reports import views

app_name = "reports"

urlpatterns = [
    path("funnel/", views.funnel_page, name="funnel"),
]
