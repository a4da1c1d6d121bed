from django.contrib.auth import views as auth_views
from django.urls import include, path

from tandem.accounts import views

admin_patterns = [
    path("users/", views.user_list, name="users"),
]

urlpatterns = [
    path("login/", views.TandemLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", include((admin_patterns, "accounts"))),
]
