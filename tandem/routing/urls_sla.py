from django.urls import path

from tandem.routing import views_sla

app_name = "sla_pages"

urlpatterns = [
    path("leads/untouched/", views_sla.untouched_leads, name="untouched"),
    path("reports/sla/", views_sla.sla_report_page, name="sla_report"),
    path("reports/sla/export.csv", views_sla.sla_report_csv, name="sla_report_csv"),
]
