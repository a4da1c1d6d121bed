from django.urls import path

from tandem.scoring.predictive import views

app_name = "scoring"

urlpatterns = [
    path("scoring/model/", views.model_page, name="model"),
    path("scoring/model/v<int:number>/", views.model_page, name="model_version"),
    path("scoring/model/v<int:number>/activate/", views.activate, name="model_activate"),
    path("scoring/model/deactivate/", views.deactivate, name="model_deactivate"),
    path("scoring/model/restore/", views.restore, name="model_restore"),
]
