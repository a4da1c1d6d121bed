from django.urls import path

from tandem.scoring import views

app_name = "scoring"

urlpatterns = [
    path("scoring/", views.rule_sets, name="rules"),
    path("scoring/sets/new/", views.rule_set_create, name="set_create"),
    path("scoring/sets/<int:pk>/", views.rule_set_detail, name="set_detail"),
    path("scoring/sets/<int:pk>/activate/", views.rule_set_activate, name="set_activate"),
    path("scoring/sets/<int:pk>/rules/new/", views.rule_create, name="rule_create"),
    path("scoring/rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("scoring/rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("people/<int:pk>/score/override/", views.override, name="override"),
    path("people/<int:pk>/score/override/end/", views.override_end, name="override_end"),
]
