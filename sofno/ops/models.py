"""The ops app's one table: rate-limit counters shared by every web process."""

from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """Hits of one caller (``bucket``) in one fixed window starting at ``window_start``.

    Rows are written by an atomic upsert (see :mod:`sofno.ops.throttle`) and pruned
    once their window is long over.
    """

    bucket = models.CharField(max_length=80)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # The upsert's conflict target: one row per caller and window.
            models.UniqueConstraint(
                fields=["bucket", "window_start"], name="ops_rate_bucket_window"
            ),
        ]
        indexes = [
            # The prune: DELETE ... WHERE window_start < cutoff.
            models.Index(fields=["window_start"], name="ops_rate_window"),
        ]

    def __str__(self) -> str:
        return f"{self.bucket}@{self.window_start}: {self.count}"
