"""This app's non-page URLs (machine endpoints such as callbacks and feeds)."""

from django.urls import URLPattern, URLResolver, path  # noqa: F401

urlpatterns: list[URLPattern | URLResolver] = []
