"""This app's non-page URLs: Twilio's callbacks, the service worker."""

from django.urls import path

from sofno.notify.channels.twilio import views
from sofno.notify.channels.webpush import views as webpush_views

app_name = "notify"

urlpatterns = [
    path("notify/twilio/voice/<str:token>/keypress", views.keypress, name="twilio-keypress"),
    path(
        "notify/twilio/patch/<str:token>/connect",
        views.patch_connect,
        name="twilio-patch-connect",
    ),
    path(
        "notify/twilio/patch/<str:token>/outcome",
        views.patch_outcome,
        name="twilio-patch-outcome",
    ),
    path("notify/twilio/status/<uuid:delivery_id>", views.status, name="twilio-status"),
    path("notify/twilio/sms", views.sms_reply, name="twilio-sms"),
    path("sw.js", webpush_views.service_worker, name="service-worker"),
]
