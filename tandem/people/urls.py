from django.urls import include, path
from django.views.generic import RedirectView

from tandem.people import views
from tandem.people.views import custom_fields

people_patterns = [
    path("people/", views.person_list, name="list"),
    path("people/new/", views.person_create, name="create"),
    path("people/export.csv", views.person_export, name="export"),
    path("people/<int:pk>/", views.person_page, name="detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="edit"),
    path("people/<int:pk>/delete/", views.person_delete, name="delete"),
    path("people/<int:pk>/restore/", views.person_restore, name="restore"),
    path("people/<int:pk>/stage/", views.person_change_stage, name="change_stage"),
    path("people/<int:pk>/activities/", views.person_log_activity, name="log_activity"),
    path("people/<int:pk>/emails/", views.person_add_email, name="add_email"),
    path(
        "people/<int:pk>/emails/<int:email_id>/remove/",
        views.person_remove_email,
        name="remove_email",
    ),
    path(
        "people/<int:pk>/emails/<int:email_id>/primary/",
        views.person_make_primary_email,
        name="make_primary_email",
    ),
    path("people/<int:pk>/phones/", views.person_add_phone, name="add_phone"),
    path(
        "people/<int:pk>/phones/<int:phone_id>/remove/",
        views.person_remove_phone,
        name="remove_phone",
    ),
    path("companies/", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/suggest/", views.company_suggest, name="company_suggest"),
    path("companies/<int:pk>/", views.company_page, name="company_detail"),
    path("companies/<int:pk>/edit/", views.company_edit, name="company_edit"),
    path("companies/<int:pk>/delete/", views.company_delete, name="company_delete"),
    path("companies/<int:pk>/restore/", views.company_restore, name="company_restore"),
    path(
        "companies/<int:pk>/activities/",
        views.company_log_activity,
        name="company_log_activity",
    ),
]

# The custom-field settings pages, beside users and teams under /admin/.
people_patterns += [
    path("admin/custom-fields/", custom_fields.custom_field_list, name="custom_fields"),
    path("admin/custom-fields/new/", custom_fields.custom_field_new, name="custom_field_new"),
    path(
        "admin/custom-fields/<int:pk>/", custom_fields.custom_field_edit, name="custom_field_edit"
    ),
    path(
        "admin/custom-fields/<int:pk>/delete/",
        custom_fields.custom_field_delete,
        name="custom_field_delete",
    ),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="reports:funnel"), name="home"),
    path("", include((people_patterns, "people"))),
]
