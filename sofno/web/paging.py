"""One page of a long list, with the list's filters kept in the links."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PER_PAGE = 50


def page_of(request: HttpRequest, queryset: QuerySet, per_page: int = PER_PAGE) -> Page:
    """The page ``?page=N`` asks for (out-of-range or junk: the nearest real page).

    The page carries ``query``: the request's other parameters (search, filters), so
    the pager's links keep them.
    """
    paginator = Paginator(queryset, per_page)
    page = paginator.get_page(request.GET.get("page"))
    others = request.GET.copy()
    others.pop("page", None)
    page.query = others.urlencode()
    return page
