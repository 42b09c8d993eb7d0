"""``limit``/``offset`` pagination with bounds, so no number reaches the database
too big for it (a 422 naming the parameter instead of a 500)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000


class Pages(LimitOffsetPagination):
    """``?limit=`` (1-500, default 100) and ``?offset=`` (0-10^9); answers ``items``
    and the total ``count``."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)
