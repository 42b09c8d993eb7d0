"""This app's non-page URLs: the private calendar feeds."""

from django.urls import path

from sofno.oncall.feeds import feed

urlpatterns: list = [
    path("oncall/feeds/<str:token>.ics", feed, name="oncall-feed"),
]
