"""ASGI entry point: Django, with the check-in hot path routed around it.

``sofno.monitoring.fastpath`` (when present) answers check-ins without the Django
request cycle; everything else goes to Django.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")

from django.core.asgi import get_asgi_application

django_application = get_asgi_application()


def _build():
    try:
        from sofno.monitoring.fastpath import wrap
    except ImportError:
        return django_application
    return wrap(django_application)


application = _build()
