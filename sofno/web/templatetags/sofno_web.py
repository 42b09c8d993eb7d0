"""Template helpers for the base layout."""

from __future__ import annotations

import datetime as dt

from django import template
from django.http import HttpRequest
from django.utils import timezone

from sofno.core import usernames
from sofno.core.models import Membership
from sofno.tickets.comments import comments_for
from sofno.web.forms import DAY_LABELS
from sofno.web.subjects import describe_subjects

register = template.Library()


@register.filter
def sign_in_name(user) -> str:
    """``{{ user|sign_in_name }}``: the name a person signs in with, never the
    server-wide handle behind it (see :mod:`sofno.core.usernames`)."""
    return usernames.sign_in_name(user) if user else ""


@register.filter
def person_name(user) -> str:
    """``{{ user|person_name }}``: the full name, else the sign-in name."""
    if not user:
        return ""
    return user.get_full_name() or usernames.sign_in_name(user)


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
    days: list[list[str]] = [[] for _ in DAY_LABELS]
    for item in (windows or {}).get("ranges", []):
        days[item["day"]].append(f"{item['start']}-{item['end']}")
    return [(str(DAY_LABELS[i]), ", ".join(sorted(r))) for i, r in enumerate(days) if r]


@register.simple_tag(takes_context=True)
def ticket_conversation(context: template.Context, ticket) -> list:
    """The messages of ``ticket`` the signed-in actor may read (customer users: public)."""
    actor = context.get("actor")
    return list(comments_for(actor, ticket)) if actor else []


@register.simple_tag
def age(moment, now=None, what: str = "") -> str:
    """``<time>`` saying how long ago ``moment`` was ("3 minutes ago"; "just now"
    under a minute, where ``timesince`` would say "0 minutes"), the exact date and
    time on hover. ``what="updated"`` words it for a change ("updated 3 minutes ago")."""
    from django.utils.timesince import timesince
    from django.utils.translation import gettext as _

    now = now or timezone.now()
    recent = (now - moment).total_seconds() < 60
    if what == "updated":
        text = (
            _("updated just now")
            if recent
            else _("updated %(time)s ago") % {"time": timesince(moment, now)}
        )
    else:
        text = _("just now") if recent else _("%(time)s ago") % {"time": timesince(moment, now)}
    return _time_tag(moment, text)


@register.filter
def duration(value: dt.timedelta | float | None) -> str:
    """How long, in words and the reader's language ("2 hours, 5 minutes"; "under a
    minute"): a ``timedelta`` or seconds. Empty for nothing."""
    from django.utils.timesince import timesince
    from django.utils.translation import gettext as _

    if value is None or value == "":
        return ""
    try:
        length = value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=float(value))
    except (TypeError, ValueError, OverflowError):  # a fact an agent sent as text
        return ""
    if length < dt.timedelta(minutes=1):
        return _("under a minute")
    now = timezone.now()
    return timesince(now - length, now, depth=2)


@register.simple_tag
def when(moment) -> str:
    """The one way a page shows a moment: how long ago within the last day ("3 hours
    ago"), the date and time in the reader's language before that; the exact date and
    time on hover either way. Empty for no moment."""
    from django.utils.formats import date_format
    from django.utils.timezone import localtime

    if moment is None:
        return ""
    now = timezone.now()
    if dt.timedelta(0) <= now - moment < dt.timedelta(days=1):
        return age(moment, now)
    return _time_tag(moment, date_format(localtime(moment), "SHORT_DATETIME_FORMAT"))


def _time_tag(moment, text: str) -> str:
    from django.utils.formats import date_format
    from django.utils.html import format_html
    from django.utils.timezone import localtime

    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        date_format(localtime(moment), "DATETIME_FORMAT"),
        text,
    )


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, key: str, label: str, css: str = "") -> str:
    """A list's ``<th>`` whose link sorts by ``key`` (again: the other way round).

    The link keeps the search and filters of the page and goes back to page 1; the
    column sorted on says so to screen readers (``aria-sort``) and shows an arrow.
    """
    from django.utils.html import format_html

    request: HttpRequest = context["request"]
    current = context.get("sort", "")
    query = request.GET.copy()
    query.pop("page", None)
    query["sort"] = f"-{key}" if current == key else key
    if current == key:
        aria, arrow = "ascending", "▲"
    elif current == f"-{key}":
        aria, arrow = "descending", "▼"
    else:
        aria, arrow = "", ""
    return format_html(
        '<th{}{} data-sort="{}"><a class="sort-link" href="?{}">{}{}</a></th>',
        format_html(' class="{}"', css) if css else "",
        format_html(' aria-sort="{}"', aria) if aria else "",
        key,
        query.urlencode(),
        label,
        format_html(' <span aria-hidden="true">{}</span>', arrow) if arrow else "",
    )


@register.simple_tag(takes_context=True)
def keep_params(context: template.Context, *names: str) -> str:
    """Hidden inputs carrying the page's ``names`` parameters (sort, customer) through
    a filter form, so searching does not lose the order or the customer chosen."""
    from django.utils.html import format_html_join

    request: HttpRequest = context["request"]
    return format_html_join(
        "",
        '<input type="hidden" name="{}" value="{}">',
        ((name, request.GET[name]) for name in names if request.GET.get(name)),
    )


@register.simple_tag(takes_context=True)
def query_without(context: template.Context, *names: str) -> str:
    """This page's query string (with its ``?``) less ``names`` and the page number:
    the link that drops one filter and keeps the others."""
    request: HttpRequest = context["request"]
    query = request.GET.copy()
    for name in (*names, "page"):
        query.pop(name, None)
    return f"?{query.urlencode()}" if query else "?"


@register.simple_tag(takes_context=True)
def subject(context: template.Context, value: str) -> str:
    """An event's subject as a link to the object's page with its name.

    Uses ``subject_links`` from the context when the view looked up a whole page at
    once (:func:`sofno.web.subjects.describe_subjects`); looks this one up otherwise.
    """
    from django.utils.html import format_html

    if not value:
        return "—"
    known = context.get("subject_links")
    if known is None:
        actor = context.get("actor")
        known = describe_subjects(actor, [value]) if actor else {}
    found = known.get(value)
    if found is None:
        return format_html('<span class="font-monospace">{}</span>', value)
    if found.url is None:
        return format_html('<span class="text-muted">{}</span>', found.label)
    return format_html('<a href="{}">{}</a>', found.url, found.label)


@register.filter
def reason_text(entry) -> str:
    """One of the notification engine's reasons in the reader's language (a code and
    its parameters described; a sentence written before codes shown as it is)."""
    from sofno.notify import reasons

    return reasons.text(entry)


def event_type_words(context: template.Context, name: str) -> str:
    """An event type's description in the reader's language ("" if none is known).

    Uses ``event_types`` from the context when the view loaded the organization's
    catalog once (a list); the built-in catalog, then the organization's custom
    type of that name, otherwise. ``ticket.*`` reads "Every ticket event".
    """
    from django.utils.translation import gettext as _

    from sofno.events import catalog
    from sofno.events.models import CustomEventType

    if name.endswith(".*"):
        return _("Every %(family)s event") % {"family": name[:-2]}
    types = context.get("event_types")
    if types is not None:
        found = types.get(name)
        return str(found.description) if found else ""
    builtin = catalog.builtin(name)
    if builtin:
        return str(builtin.description)
    actor = context.get("actor")
    if not actor or not actor.organization:
        return ""
    custom = CustomEventType.objects.filter(organization=actor.organization, name=name).first()
    return custom.description if custom else ""


@register.simple_tag(takes_context=True)
def event_type(context: template.Context, name: str, url: str = "", limit: int = 0) -> str:
    """An event type in words, its code small beside it (webhook filters use the code).

    - with ``url`` the words link there;
    - with ``limit`` longer words are cut (lists), the whole text in the tooltip;
    - a type the catalog does not describe shows its code alone.
    """
    from django.utils.html import format_html
    from django.utils.text import Truncator

    words = event_type_words(context, name)
    code = format_html('<code class="small text-muted text-break">{}</code>', name)
    if not words:
        return format_html('<a href="{}">{}</a>', url, code) if url else code
    shown = Truncator(words).chars(limit) if limit else words
    title = format_html(' title="{}"', words) if shown != words else ""
    text = (
        format_html('<a href="{}"{}>{}</a>', url, title, shown)
        if url
        else format_html("<span{}>{}</span>", title, shown)
    )
    return format_html('<span class="event-type">{} {}</span>', text, code)


@register.simple_tag(takes_context=True)
def event_type_text(context: template.Context, name: str) -> str:
    """An event type in words alone (a page title), its code if none are known."""
    return event_type_words(context, name) or name
