"""The pipeline and reason settings pages, under /settings/pipelines/ ("deals_settings")."""

from django.urls import path

from tandem.deals import views_settings as views

app_name = "deals_settings"

urlpatterns = [
    path("settings/pipelines/", views.pipeline_list, name="pipelines"),
    path("settings/pipelines/new/", views.pipeline_create, name="pipeline_create"),
    path("settings/pipelines/<int:pk>/", views.pipeline_edit, name="pipeline_edit"),
    path("settings/pipelines/<int:pk>/stages/new/", views.stage_create, name="stage_create"),
    path("settings/pipelines/stages/<int:pk>/", views.stage_edit, name="stage_edit"),
    path("settings/pipelines/stages/<int:pk>/move/", views.stage_move, name="stage_move"),
    path("settings/pipelines/reasons/", views.reason_list, name="reasons"),
    path("settings/pipelines/reasons/<int:pk>/", views.reason_edit, name="reason_edit"),
    path("settings/pipelines/reasons/<int:pk>/move/", views.reason_move, name="reason_move"),
]
