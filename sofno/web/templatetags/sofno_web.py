"""Template helpers for the base layout."""

from __future__ import annotations

from django import template
from django.http import HttpRequest

from sofno.core.models import Membership

register = template.Library()


@register.simple_tag(takes_context=True)
def user_memberships(context: template.Context) -> list[Membership]:
    """The signed-in user's memberships, for the organization switcher."""
    request: HttpRequest | None = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(user.memberships.select_related("organization").order_by("organization__name"))


@register.simple_tag
def weekly_rows(windows: dict | None) -> list[tuple[str, str]]:
    """``[(day name, "09:00-13:00, 14:00-18:00"), ...]`` for the days with ranges."""
    from sofno.web.forms import DAY_LABELS

    days: list[list[str]] = [[] for _ in DAY_LABELS]
    for item in (windows or {}).get("ranges", []):
        days[item["day"]].append(f"{item['start']}-{item['end']}")
    return [(str(DAY_LABELS[i]), ", ".join(sorted(r))) for i, r in enumerate(days) if r]


@register.simple_tag(takes_context=True)
def ticket_conversation(context: template.Context, ticket) -> list:
    """The messages of ``ticket`` the signed-in actor may read (customer users: public)."""
    from sofno.tickets.comments import comments_for

    actor = context.get("actor")
    return list(comments_for(actor, ticket)) if actor else []


@register.simple_tag
def age(moment, now, what: str = "") -> str:
    """``<time>`` saying how long ago ``moment`` was ("3 minutes ago"; "just now"
    under a minute, where ``timesince`` would say "0 minutes"), the exact date and
    time on hover. ``what="updated"`` words it for a change ("updated 3 minutes ago")."""
    from django.utils.formats import date_format
    from django.utils.html import format_html
    from django.utils.timesince import timesince
    from django.utils.timezone import localtime
    from django.utils.translation import gettext as _

    recent = (now - moment).total_seconds() < 60
    if what == "updated":
        text = (
            _("updated just now")
            if recent
            else _("updated %(time)s ago") % {"time": timesince(moment, now)}
        )
    else:
        text = _("just now") if recent else _("%(time)s ago") % {"time": timesince(moment, now)}
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        date_format(localtime(moment), "DATETIME_FORMAT"),
        text,
    )
