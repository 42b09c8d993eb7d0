"""Pages for this area (see sofno/web/urls.py)."""

from django.urls import path  # noqa: F401

patterns: list = []
