"""Pages of the hand-off answer: the inbox, Accept / Send back, the send-back report and
the reasons list (included from tandem/urls.py under the `handoffs` namespace (routing rules keep `routing`))."""

from django.urls import path

from tandem.routing import views_inbox, views_reasons, views_reports

app_name = "handoffs"

urlpatterns = [
    path("leads/", views_inbox.my_leads, name="my_leads"),
    path("leads/<int:pk>/consent/", views_inbox.lead_consent, name="lead_consent"),
    path("people/<int:pk>/handoff/accept/", views_inbox.accept, name="accept"),
    path("people/<int:pk>/handoff/send-back/", views_inbox.send_back, name="send_back"),
    path("reports/send-backs/", views_reports.send_back_report, name="send_back_report"),
    path("admin/send-back-reasons/", views_reasons.reason_list, name="reasons"),
    path("admin/send-back-reasons/new/", views_reasons.reason_new, name="reason_new"),
    path("admin/send-back-reasons/<int:pk>/", views_reasons.reason_edit, name="reason_edit"),
]
