"""One way to say which field broke which rule (the API turns it into a 422)."""

from __future__ import annotations

from sofno.core.modeling import field_error

__all__ = ["field_error"]
