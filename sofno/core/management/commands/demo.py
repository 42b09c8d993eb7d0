"""``sofno demo``: web server, worker and sample data on the embedded defaults."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from sofno.core.hooks import DEMO_RUNNERS, DEMO_SEEDERS, run_loops
from sofno.core.management.commands.serve import bind_socket, serve_on, socket_url

if TYPE_CHECKING:  # the models load in ensure_demo_data: --help answers without them
    import socket

    from django.contrib.auth.models import User

    from sofno.core.models import Organization

log = logging.getLogger(__name__)

DEMO_SLUG = "demo"
DEMO_USERNAME = "admin"
CREDENTIALS_FILE = "demo-credentials.json"


class Command(BaseCommand):
    help = (
        "Run SOFNO on the embedded defaults (SQLite database and queue in the data "
        "directory) with sample data: web server and worker in one process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", help="data directory (default ./sofno-data)")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
        parser.add_argument("--no-serve", action="store_true", help="prepare data and exit")
        parser.add_argument(
            "--dropout-every",
            type=float,
            default=600,
            help="seconds between the flaky sample device's silences (0: never)",
        )
        parser.add_argument(
            "--dropout-for", type=float, default=240, help="how long each silence lasts (s)"
        )
        parser.add_argument(
            "--no-agents", action="store_true", help="no simulated agents for the sample devices"
        )

    def handle(self, *args: Any, host: str, port: int, no_serve: bool, **options: Any) -> None:
        self._progress("Preparing the database")
        call_command("migrate", interactive=False, verbosity=0)
        self._progress("Adding the sample data (first run only)")
        credentials = ensure_demo_data()
        # Bind first so the printed URL is the real one (also with --port 0).
        sock = None if no_serve else bind_socket(host, port)
        url = socket_url(sock) if sock else f"http://{host}:{port}/"
        self.stdout.write(
            "\nSOFNO demo is ready.\n"
            f"  web:      {url}\n"
            f"  admin:    {url}admin/\n"
            f"  API docs: {url}api/docs\n"
            f"  login:    {credentials['username']} / {credentials['password']}\n"
            f"  API key:  {credentials['api_key']}\n"
            f"  data:     {settings.DATA_DIR}\n"
        )
        if sock is None:
            return
        stop = threading.Event()
        if not options["no_agents"]:
            start_demo_runners(
                url,
                stop,
                dropout_every=options["dropout_every"],
                dropout_for=options["dropout_for"],
            )
            self.stdout.write(
                "Simulated agents check in for the sample devices; the first one drops out "
                f"for {options['dropout_for']:.0f} s every {options['dropout_every']:.0f} s.\n"
            )
        self.stdout.write("Press Ctrl-C to stop.\n")
        self.stdout.flush()
        serve_with_worker(sock, stop)
        self.stdout.write("SOFNO demo stopped.\n")

    def _progress(self, step: str) -> None:
        self.stdout.write(f"{step}...\n")
        self.stdout.flush()


def ensure_demo_data() -> dict[str, Any]:
    """Create the demo organization, its admin, API key and sample data once.

    - A second run finds the organization and the saved credentials and changes
      nothing.
    - Sample data is added only when the organization is created, so a lost
      credentials file gives a new password and key but no duplicate customers.
    - A failing seeder (another app's sample data) is reported and skipped; the rest
      of the demo still comes up.
    """
    from django.contrib.auth import get_user_model

    from sofno.core.models import ApiKey, Membership, Organization, Role

    path = settings.DATA_DIR / CREDENTIALS_FILE
    org = Organization.objects.filter(slug=DEMO_SLUG).first()
    if org is not None and path.exists():
        try:
            saved: dict[str, Any] = json.loads(path.read_text())
            return saved
        except ValueError:
            log.warning("%s is unreadable; issuing new demo credentials", path)
    password = secrets.token_urlsafe(9)
    with transaction.atomic():
        created = org is None
        if org is None:
            org = Organization.objects.create(
                slug=DEMO_SLUG, name="Demo IT Support", timezone="Europe/Rome"
            )
        owner, _ = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "admin@example.com"}
        )
        owner.is_staff = owner.is_superuser = True
        owner.set_password(password)
        owner.save()
        Membership.objects.get_or_create(
            organization=org, user=owner, defaults={"role": Role.OWNER}
        )
        _, api_key = ApiKey.issue(org, "demo key", created_by=owner)
        if created:
            for seed in DEMO_SEEDERS:
                _run_seeder(seed, org, owner)
    credentials = {"username": DEMO_USERNAME, "password": password, "api_key": api_key}
    # Demo only: the plain key is kept (owner-readable) so a second run can print it.
    path.touch(mode=0o600)
    path.write_text(json.dumps(credentials))
    return credentials


def _run_seeder(seed: Callable[..., None], org: Organization, owner: User) -> None:
    name = f"{seed.__module__}.{seed.__qualname__}"
    try:
        with transaction.atomic():  # a savepoint: a failing seeder leaves nothing behind
            seed(org, owner)
    except Exception as exc:
        log.warning("demo seeder %s failed and was skipped: %s", name, exc)


def start_demo_runners(url: str, stop: threading.Event, **options: Any) -> None:
    """Start what keeps the demo organization alive (each app's demo runners)."""
    from sofno.core.models import Organization

    org = Organization.objects.get(slug=DEMO_SLUG)
    for start in DEMO_RUNNERS:
        try:
            start(org, url, stop, **options)
        except Exception as exc:  # the demo still serves without them
            log.warning("demo runner %s failed to start: %s", start.__qualname__, exc)


def serve_with_worker(sock: socket.socket, stop: threading.Event | None = None) -> None:
    """Run the task consumer and the loops in threads and uvicorn in the foreground.

    On Ctrl-C uvicorn finishes its requests, then the consumer finishes the task in
    hand, the loops stop, and so does whatever else watches ``stop``.
    """
    # The queue loads here, not with the module: --help answers without it.
    from huey.contrib.djhuey import HUEY

    from sofno.core.management.commands.worker import build_consumer

    stop = stop or threading.Event()
    consumer = None
    if not HUEY.immediate:  # an immediate queue (tests) runs tasks inline instead
        consumer = build_consumer(threads=2)
        consumer.start()
    loops = run_loops(stop)
    try:
        serve_on(sock)
    finally:
        stop.set()
        if consumer is not None:
            consumer.stop(graceful=True)
        for thread in loops:
            thread.join(timeout=5)
