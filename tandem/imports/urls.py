from django.urls import include, path

from tandem.imports import views

app_name = "imports"

import_patterns = [
    path("", views.import_list, name="list"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/mapping/", views.import_mapping, name="mapping"),
    path("<int:pk>/dry-run/", views.import_dry_run, name="dry_run"),
    path("<int:pk>/run/", views.import_run, name="run"),
    path("<int:pk>/resume/", views.import_resume, name="resume"),
    path("<int:pk>/undo/", views.import_undo, name="undo"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/report.csv", views.import_errors_csv, name="errors_csv"),
]

urlpatterns = [path("imports/", include(import_patterns))]
