from django.urls import include, path
from django.views.generic import RedirectView

from tandem.people import views

people_patterns = [
    path("funnel/", views.overview, name="overview"),
    path("people/", views.person_list, name="list"),
    path("companies/", views.company_list, name="company_list"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="people:overview"), name="home"),
    path("", include((people_patterns, "people"))),
]
