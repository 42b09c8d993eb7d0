"""Remote commands: issued from the allowlisted catalog, signed, delivered on
check-in, and their results recorded.

Rules:
- only a catalog entry of the device's organization can be issued;
- owners and admins (and full API keys) may issue any entry; other roles only
  the entries that list them in ``allowed_roles``; read-only roles never;
- each command is signed with the server's Ed25519 key over its canonical JSON,
  which names the device, so a command cannot be replayed on another device;
- every issue and every result is audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sofno.core.access import Actor, PermissionDenied
from sofno.core.modeling import save_audited
from sofno.core.models import ADMIN_ROLES, AuditEntry
from sofno.core.usernames import sign_in_name
from sofno.monitoring import signing
from sofno.monitoring.errors import field_error
from sofno.monitoring.models import (
    Command,
    CommandStatus,
    CommandTemplate,
    Device,
)

MAX_OUTPUT = 64 * 1024
COMMAND_TTL = dt.timedelta(hours=1)
RESULT_STATUSES = {
    CommandStatus.SUCCEEDED,
    CommandStatus.FAILED,
    CommandStatus.TIMED_OUT,
    CommandStatus.REFUSED,
}


def _label(actor: Actor) -> str:
    return sign_in_name(actor.user) if actor.user else f"API key {actor.api_key}"


def may_issue(actor: Actor, template: CommandTemplate) -> bool:
    """Whether ``actor`` may run ``template`` (see the module's rules)."""
    if not actor.can_write:
        return False
    if actor.api_key is not None or actor.role in ADMIN_ROLES:
        return True
    return actor.role in (template.allowed_roles or [])


@transaction.atomic
def create_template(*, acting_user: Actor, fields: dict[str, Any]) -> CommandTemplate:
    """Add an entry to the organization's command catalog (admins only)."""
    acting_user.require_admin()
    template = CommandTemplate(organization=acting_user.organization, **fields)
    save_audited(acting_user, template, "command_template.created", name=template.name)
    return template


@transaction.atomic
def remove_template(*, acting_user: Actor, template: CommandTemplate) -> None:
    """Take an entry out of the catalog (admins only). Commands already issued keep
    their own copy of kind and argument (and their audit), so history stays whole."""
    acting_user.require_admin()
    acting_user.audit("command_template.removed", template, name=template.name)
    template.delete()


@transaction.atomic
def issue_command(*, acting_user: Actor, device: Device, template: CommandTemplate) -> Command:
    """Queue a signed command for the device's next check-in."""
    if device.organization_id != acting_user.organization.pk or (
        template.organization_id != acting_user.organization.pk
    ):
        raise field_error("template", "unknown command", "unknown")
    if not may_issue(acting_user, template):
        raise PermissionDenied("command_role", "Your role may not run this command.")
    now = timezone.now()
    command = Command(
        organization=acting_user.organization,
        device=device,
        template=template,
        kind=template.kind,
        argument=template.argument,
        timeout=template.timeout,
        issued_by=acting_user.user,
        issued_by_label=_label(acting_user),
        issued_at=now,
        expires_at=now + COMMAND_TTL,
    )
    command.payload = signing.canonical(
        {
            "id": str(command.public_id),
            "device": str(device.public_id),
            "kind": command.kind,
            "argument": command.argument,
            "timeout": command.timeout,
            "issued_at": now.isoformat(),
            "expires_at": command.expires_at.isoformat(),
            "nonce": secrets.token_hex(8),
        }
    )
    command.signature = signing.sign(command.payload)
    command.save()
    Device.objects.filter(pk=device.pk).update(pending_commands=F("pending_commands") + 1)
    acting_user.audit(
        "command.issued",
        command,
        device=str(device.public_id),
        kind=command.kind,
        argument=command.argument,
    )
    return command


def deliver_pending(device: Device, at: dt.datetime) -> list[dict]:
    """Claim the device's pending commands (compare-and-set) for a check-in answer."""
    out = []
    pending = list(
        Command.objects.filter(device=device, status=CommandStatus.PENDING).order_by("issued_at")
    )
    for command in pending:
        if command.expires_at <= at:
            claimed = Command.objects.filter(pk=command.pk, status=CommandStatus.PENDING).update(
                status=CommandStatus.EXPIRED, finished_at=at
            )
        else:
            claimed = Command.objects.filter(pk=command.pk, status=CommandStatus.PENDING).update(
                status=CommandStatus.SENT, sent_at=at
            )
            if claimed:
                out.append({"payload": command.payload, "signature": command.signature})
        if claimed:
            Device.objects.filter(pk=device.pk, pending_commands__gt=0).update(
                pending_commands=F("pending_commands") - 1
            )
    return out


@transaction.atomic
def record_result(
    *, device: Device, command_id: str, status: str, exit_code: int | None, output: str
) -> Command:
    """Store what the agent reports for a command it was sent (audited)."""
    if status not in RESULT_STATUSES:
        raise field_error("status", f"must be one of {sorted(RESULT_STATUSES)}", "choice")
    command = Command.objects.filter(device=device, public_id=command_id).first()
    if command is None:
        raise field_error("command", "unknown command", "unknown")
    truncated = len(output) > MAX_OUTPUT
    changed = Command.objects.filter(pk=command.pk, status=CommandStatus.SENT).update(
        status=status,
        exit_code=exit_code,
        output=output[:MAX_OUTPUT],
        output_truncated=truncated,
        finished_at=timezone.now(),
    )
    if not changed:
        raise field_error("command", "this command is not waiting for a result", "state")
    command.refresh_from_db()
    AuditEntry.objects.create(
        organization_id=device.organization_id,
        action="command.finished",
        object_type=command._meta.label_lower,
        object_id=str(command.public_id),
        detail={"device": str(device.public_id), "status": status, "exit_code": exit_code},
    )
    return command


def expire_stale(now: dt.datetime | None = None) -> int:
    """Commands sent but never answered past their expiry are marked expired."""
    now = now or timezone.now()
    return Command.objects.filter(
        status=CommandStatus.SENT, expires_at__lte=now - dt.timedelta(minutes=15)
    ).update(status=CommandStatus.EXPIRED, finished_at=now)
