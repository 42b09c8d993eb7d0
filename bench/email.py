"""Benchmark: emails per second to a loopback SMTP server (aiosmtpd), connection reuse.

Runs against the database in SOFNO_DATABASE_URL (migrating it first). It creates a
throw-away organization whose default SMTP profile points at a real aiosmtpd server
on 127.0.0.1 (ephemeral port, in its own process, as a real mail server would be),
routes one ``device.offline`` event per email through a notification rule (default
template rendered in the sandbox: HTML + text, to the recipient, cc a desk address),
then lets the delivery machinery claim, send and record them: the email channel
keeps one SMTP session open per batch. Prints the figures, then one line of JSON:
{"emails_per_s": ..., "emails": ..., "seconds": ..., "sessions": ...}.

    python bench/email.py [--count N]
"""

from __future__ import annotations

import os
import sys

# This file is called email.py: drop its folder from the path, or it would hide the
# standard library's ``email`` package from everything imported below.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from django.contrib.auth import get_user_model

    from sofno.core.models import Membership, Organization, Role
    from sofno.events.emit import NewEvent, emit_many
    from sofno.notify.delivery import machinery as delivery
    from sofno.notify.models import Delivery, NotificationRule, SmtpProfile, Template
    from sofno.notify.routing import dispatcher

    server = subprocess.Popen(
        [sys.executable, "-m", "sofno.notify.testing.smtp_server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    tag = uuid.uuid4().hex[:8]
    org = Organization.objects.create(slug=f"bench-email-{tag}", name="Bench email")
    try:
        port = int(server.stdout.readline())
        user = get_user_model().objects.create_user(f"bench-{tag}", f"agent-{tag}@x.test")
        Membership.objects.create(organization=org, user=user, role=Role.AGENT)
        SmtpProfile.objects.create(
            organization=org,
            name="Loopback",
            host="127.0.0.1",
            port=port,
            from_name="SOFNO",
            from_address="alerts@x.test",
            is_default=True,
        )
        Template.objects.create(
            organization=org,
            name="Offline",
            event_type="device.offline",
            channel="email",
            subject="[SOFNO] {{ device_name }} ({{ customer_name }}) is offline",
            html_body="<p><b>{{ device_name }}</b> at {{ customer_name }} stopped checking in.</p>",
            text_body="{{ device_name }} at {{ customer_name }} stopped checking in.",
            cc=["desk@x.test"],
        )
        NotificationRule.objects.create(
            organization=org,
            name="Offline",
            event_types=["device.offline"],
            recipients=[{"kind": "user", "value": user.username}],
            channels=["email"],
        )
        emit_many(
            org,
            [
                NewEvent(
                    "device.offline",
                    f"device:{n}",
                    {"device_name": f"Till {n}", "customer_name": "Pizzeria Roma"},
                )
                for n in range(args.count)
            ],
        )
        started = time.perf_counter()
        while dispatcher.dispatch_organization(org.pk):
            pass
        routed = time.perf_counter() - started
        # Only email is measured: the bell items of the same rule are sent first.
        emails = Delivery.objects.filter(organization=org, channel="email")
        Delivery.objects.filter(organization=org).exclude(channel="email").delete()
        start = time.perf_counter()
        while emails.filter(status="pending").exists():
            delivery.deliver_due(limit=500)
        seconds = time.perf_counter() - start
        sent = emails.filter(status="succeeded").count()
        tail, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
        org.delete()
    _, received, _, sessions = tail.split()
    rate = sent / seconds
    print(f"routed {args.count} events through the rule in {routed:.2f} s")
    print(f"sent {sent} emails in {seconds:.2f} s over {sessions} SMTP session(s)")
    print(f"the server received {received}")
    print(f"{rate:.0f} emails/s (claim, render already done, send, record attempts)")
    print(
        json.dumps(
            {
                "emails_per_s": round(rate, 1),
                "emails": sent,
                "seconds": round(seconds, 3),
                "sessions": int(sessions),
            }
        )
    )


if __name__ == "__main__":
    main()
