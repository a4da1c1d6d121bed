from django.urls import path

from tandem.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/new/", views.campaign_create, name="create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("campaigns/<int:pk>/costs/", views.cost_add, name="cost_add"),
    path("campaigns/<int:pk>/costs/<int:cost_id>/edit/", views.cost_edit, name="cost_edit"),
    path("campaigns/<int:pk>/costs/<int:cost_id>/delete/", views.cost_delete, name="cost_delete"),
]
