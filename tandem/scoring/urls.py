from django.urls import path

from tandem.scoring import views
from tandem.scoring.predictive import views as model_views

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
    # The predictive model (ADR 0012).
    path("scoring/model/", model_views.model_page, name="model"),
    path("scoring/model/v<int:number>/", model_views.model_page, name="model_version"),
    path("scoring/model/v<int:number>/activate/", model_views.activate, name="model_activate"),
    path("scoring/model/deactivate/", model_views.deactivate, name="model_deactivate"),
    path("scoring/model/restore/", model_views.restore, name="model_restore"),
]
