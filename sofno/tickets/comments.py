"""A ticket's conversation: internal notes and public answers.

Rules:
- Staff who may write add internal notes or public answers; a customer user adds
  public messages to their own customer's tickets only; read-only roles add nothing.
- A customer user reads only the public messages.
- Each message emits ``ticket.commented`` (the rules engine decides who hears). The
  body of an internal note is not in the event: the event log is readable by more
  people than the note is for.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from sofno.core.access import Actor, PermissionDenied
from sofno.core.usernames import sign_in_name
from sofno.tickets.actions import _emit
from sofno.tickets.models import CommentVisibility, Ticket, TicketComment

MAX_BODY = 10_000


def comments_for(actor: Actor, ticket: Ticket) -> QuerySet[TicketComment]:
    """The messages of ``ticket`` the actor may read, oldest first."""
    comments = TicketComment.objects.filter(organization=actor.organization, ticket=ticket)
    if actor.is_customer_user:
        comments = comments.filter(visibility=CommentVisibility.PUBLIC)
    return comments.select_related("author")


def _clean_body(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise ValidationError({"body": ValidationError(_("write a message"), code="required")})
    if len(text) > MAX_BODY:
        raise ValidationError(
            {
                "body": ValidationError(
                    _("a message has at most %(n)d characters") % {"n": MAX_BODY},
                    code="max_length",
                )
            }
        )
    if "\x00" in text:
        raise ValidationError(
            {"body": ValidationError(_("text may not contain NUL (\\x00) characters"), "nul")}
        )
    return text


@transaction.atomic
def add_comment(*, acting_user: Actor, ticket: Ticket, body: str, public: bool) -> TicketComment:
    """Add a message to ``ticket``; see the module rules for who may write what."""
    if acting_user.is_customer_user:
        if not ticket.customer.users.filter(user=acting_user.user).exists():
            raise PermissionDenied("other_customer")
        public = True
    else:
        acting_user.require_write()
    user = acting_user.user
    comment = TicketComment.objects.create(
        organization=ticket.organization,
        ticket=ticket,
        author=user,
        author_name=(user.get_full_name() or sign_in_name(user)) if user else "",
        by_customer=acting_user.is_customer_user,
        visibility=CommentVisibility.PUBLIC if public else CommentVisibility.INTERNAL,
        body=_clean_body(body),
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=comment.created_at)
    _emit(
        ticket,
        "ticket.commented",
        acting_user,
        comment={
            "id": str(comment.public_id),
            "public": comment.is_public,
            "by_customer": comment.by_customer,
            "author": comment.author_name,
            "body": comment.body if comment.is_public else "",
        },
    )
    acting_user.audit("ticket.commented", ticket, comment=str(comment.public_id))
    return comment
