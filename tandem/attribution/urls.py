from django.urls import path

from tandem.attribution import views

app_name = "attribution"

urlpatterns = [
    path("attribution/", views.report_page, name="report"),
    path("attribution/export.csv", views.report_csv, name="export"),
]
