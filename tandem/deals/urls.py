from django.urls import path

from tandem.deals import views

app_name = "deals"

urlpatterns = [
    path("deals/", views.board, name="board"),
    path("deals/list/", views.deal_list, name="list"),
    path("deals/new/", views.deal_create, name="create"),
    path("deals/<int:pk>/", views.deal_page, name="detail"),
    path("deals/<int:pk>/edit/", views.deal_edit, name="edit"),
    path("deals/<int:pk>/delete/", views.deal_delete, name="delete"),
    path("deals/<int:pk>/move/", views.move, name="move"),
    path("deals/<int:pk>/close/", views.deal_close, name="close"),
    path("deals/<int:pk>/reopen/", views.deal_reopen, name="reopen"),
    path("deals/<int:pk>/contacts/", views.contact_add, name="contact_add"),
    path("deals/<int:pk>/contacts/remove/", views.contact_remove, name="contact_remove"),
    path("deals/<int:pk>/activities/", views.log_activity, name="log_activity"),
]
