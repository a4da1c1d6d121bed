"""The routing rules pages (included by routing/urls.py under the "routing" namespace)."""

from django.urls import path

from tandem.routing import views_rules as views

urlpatterns = [
    path("routing/", views.rules_page, name="rules"),
    path("routing/rules/new/", views.rule_create, name="rule_create"),
    path("routing/rules/reorder/", views.rules_reorder, name="rules_reorder"),
    path("routing/rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("routing/rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("routing/rules/<int:pk>/move/", views.rule_move, name="rule_move"),
    path("routing/capacity/<int:user_id>/", views.capacity, name="capacity"),
    path("routing/away/", views.away_add, name="away_add"),
    path("routing/away/<int:pk>/delete/", views.away_remove, name="away_remove"),
    path("routing/model-threshold/", views.model_threshold, name="model_threshold"),
]
