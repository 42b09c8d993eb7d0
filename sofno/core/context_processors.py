from typing import Any

from django.http import HttpRequest


def organization(request: HttpRequest) -> dict[str, Any]:
    """Expose the current actor (and its organization) to every template."""
    actor = getattr(request, "actor", None)
    if actor is None or not actor:
        return {"actor": None, "organization": None}
    return {"actor": actor, "organization": actor.organization}
