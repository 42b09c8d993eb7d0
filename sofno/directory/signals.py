"""Every user gets a staff profile; every organization its default contact types."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from sofno.core.models import Organization
from sofno.directory.actions import ensure_default_contact_types
from sofno.directory.models import StaffProfile


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def create_staff_profile(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        StaffProfile.objects.get_or_create(user=instance)


@receiver(post_save, sender=Organization)
def create_contact_types(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        ensure_default_contact_types(instance)
