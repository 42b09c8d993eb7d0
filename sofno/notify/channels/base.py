"""The channel interface: ``send(delivery) -> Result``.

Every channel (webhook now; email, SMS, voice, push later) is a class with a
``kind`` and ``send``; channels that can batch (webhooks send concurrently) also
implement ``send_many``. The delivery machinery (claim, retry, ordering, attempts,
dead letters) is the same for all of them and lives in ``sofno.notify.delivery.machinery``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sofno.notify.models import Delivery


@dataclass
class Result:
    """What one try of a delivery came to.

    - ``ok``: delivered; ``permanent``: failed and retrying cannot help;
    - ``retry_after``: seconds the other side asked us to wait (``Retry-After``);
    - ``min_delay``: the least wait before the next try (60 s after a timeout or 429);
    - ``disable_target``: the target said it is gone (HTTP 410).
    """

    ok: bool
    permanent: bool = False
    provider_ref: str = ""
    detail: str = ""
    retry_after: float | None = None
    status_code: int | None = None
    response: str = ""
    duration_ms: int = 0
    min_delay: float = 0
    disable_target: bool = False


class BaseChannel:
    """A channel adapter. Subclasses set ``kind`` and implement :meth:`send`."""

    kind: str = ""

    def send(self, delivery: Delivery) -> Result:
        raise NotImplementedError

    def send_many(self, deliveries: list[Delivery]) -> list[Result]:
        """Send several deliveries; the default sends them one after another."""
        results = []
        for delivery in deliveries:
            try:
                results.append(self.send(delivery))
            except Exception as exc:  # an adapter bug must not lose the others' results
                results.append(Result(ok=False, detail=f"{type(exc).__name__}: {exc}"[:500]))
        return results
