"""A file waiting between its preview and the person's confirmation."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sofno.core.modeling import CreatedAt, OrganizationOwned

# A preview not confirmed within this time is forgotten.
PENDING_LIFETIME = dt.timedelta(hours=1)


class PendingImport(OrganizationOwned, CreatedAt):
    """An uploaded file checked by a dry run, kept until it is confirmed.

    It is kept in the database (not on one server's disk) so the confirmation may reach
    any ``sofno serve`` process.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20)
    filename = models.CharField(_("file name"), max_length=200)
    data = models.BinaryField()

    class Meta:
        verbose_name = _("pending import")
        indexes = [
            # forget_stale(): delete previews older than PENDING_LIFETIME.
            models.Index(fields=["created_at"], name="pending_import_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.filename}"

    @classmethod
    def forget_stale(cls, now: dt.datetime | None = None) -> int:
        """Delete previews nobody confirmed in time; returns how many."""
        cutoff = (now or timezone.now()) - PENDING_LIFETIME
        return cls.objects.filter(created_at__lt=cutoff).delete()[0]
