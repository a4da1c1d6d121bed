from django.urls import path

from tandem.dedup import views

app_name = "dedup"

urlpatterns = [
    path("duplicates/", views.queue, name="queue"),
    path("duplicates/<int:pk>/", views.review, name="review"),
    path("duplicates/<int:pk>/merge/", views.merge, name="merge"),
    path("duplicates/<int:pk>/dismiss/", views.dismiss, name="dismiss"),
    path("duplicates/merges/", views.merges, name="merges"),
    path("duplicates/merges/<int:pk>/undo/", views.undo, name="undo"),
]
