from django.urls import path

from tandem.sla import views

app_name = "sla"

urlpatterns = [
    path("settings/sla/", views.policy_list, name="policies"),
    path("settings/sla/policies/new/", views.policy_create, name="policy_create"),
    path("settings/sla/policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("settings/sla/policies/<int:pk>/move/", views.policy_move, name="policy_move"),
    path("settings/sla/policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("settings/sla/hours/", views.hours_list, name="hours"),
    path("settings/sla/hours/default/", views.hours_edit, name="hours_default"),
    path("settings/sla/hours/<int:team_id>/", views.hours_edit, name="hours_team"),
    path("settings/sla/hours/<int:team_id>/reset/", views.hours_reset, name="hours_reset"),
]
