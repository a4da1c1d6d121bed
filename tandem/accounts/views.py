from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tandem.accounts.models import User


class TandemLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/users.html", {"users": User.objects.all()})
