from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from tandem.accounts import views

admin_patterns = [
    path("", RedirectView.as_view(pattern_name="accounts:users"), name="index"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_new, name="user_new"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/send-reset/", views.user_send_reset, name="user_send_reset"),
    path("teams/", views.team_list, name="teams"),
    path("teams/<int:pk>/", views.team_edit, name="team_edit"),
    path("roles/", views.role_list, name="roles"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/new/", views.token_new, name="token_new"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]

urlpatterns = [
    path("login/", views.TandemLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.TandemPasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        views.TandemPasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.TandemPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views.TandemPasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", include((admin_patterns, "accounts"))),
]
