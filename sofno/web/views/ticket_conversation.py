"""A ticket's conversation on its page: read the messages, add one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sofno.core.access import PermissionDenied as ActionDenied
from sofno.core.access import get_scoped_or_404
from sofno.core.scoping import customer_access
from sofno.tickets.comments import add_comment
from sofno.tickets.selectors import tickets_for
from sofno.web.access import require_actor


@login_required
@require_POST
@customer_access
def ticket_comment(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_actor(request)
    ticket = get_scoped_or_404(tickets_for(actor), actor, public_id=public_id)
    try:
        add_comment(
            acting_user=actor,
            ticket=ticket,
            body=request.POST.get("body", ""),
            public=request.POST.get("public") == "on",
        )
    except ActionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Message added."))
    return redirect(reverse("web:ticket-detail", args=[ticket.public_id]) + "#conversation")


patterns = [path("<uuid:public_id>/comments/", ticket_comment, name="ticket-comment")]
