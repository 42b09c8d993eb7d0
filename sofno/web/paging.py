"""One page of a long list, with the list's filters and sort order kept in the links."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from django.core.paginator import Page, Paginator
from django.db.models import Expression, F, QuerySet
from django.http import HttpRequest

from sofno.directory.selectors import customers_for

PER_PAGE = 50

# A sortable column: the fields (or expressions) it orders by, most significant first.
Columns = Mapping[str, Sequence[str | Expression]]


def page_of(request: HttpRequest, queryset: QuerySet, per_page: int = PER_PAGE) -> Page:
    """The page ``?page=N`` asks for (out-of-range or junk: the nearest real page).

    The page carries ``query``: the request's other parameters (search, filters, sort),
    so the pager's links keep them.
    """
    paginator = Paginator(queryset, per_page)
    page = paginator.get_page(request.GET.get("page"))
    others = request.GET.copy()
    others.pop("page", None)
    page.query = others.urlencode()
    return page


def sorted_by(
    request: HttpRequest, queryset: QuerySet, columns: Columns, default: str
) -> tuple[QuerySet, str]:
    """``queryset`` ordered as ``?sort=key`` or ``?sort=-key`` asks, and the sort in force.

    - Only the keys of ``columns`` are accepted; anything else (junk, a field name that
      is not a column) falls back to ``default`` quietly, never an error.
    - Empty values sort last both ways, on SQLite and PostgreSQL alike (their own
      defaults differ).
    - The primary key breaks ties, so a page boundary never shows a row twice.
    """
    asked = request.GET.get("sort", "")
    if asked.removeprefix("-") not in columns:
        asked = default
    descending = asked.startswith("-")
    order = []
    for term in columns[asked.removeprefix("-")]:
        expression = F(term) if isinstance(term, str) else term
        order.append(
            expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        )
    order.append(F("pk").desc() if descending else F("pk").asc())
    return queryset.order_by(*order), asked


def public_id(value: str | None) -> uuid.UUID | None:
    """``value`` as a UUID, or None when it is not one (a hand-edited URL)."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def chosen_customer(request: HttpRequest, actor):
    """The customer ``?customer=<public id>`` names among those ``actor`` may see, or
    None (absent, junk, or another organization's: the filter is then simply off)."""
    wanted = public_id(request.GET.get("customer"))
    if wanted is None:
        return None
    return customers_for(actor).filter(public_id=wanted).first()
