from __future__ import annotations

import json
import secrets
import threading

import uvicorn
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from sofno.core.hooks import DEMO_SEEDERS, run_loops
from sofno.core.management.commands.worker import build_consumer
from sofno.core.models import ApiKey, Membership, Organization, Role

DEMO_SLUG = "demo"
CREDENTIALS_FILE = "demo-credentials.json"


class Command(BaseCommand):
    help = (
        "Run SOFNO on the embedded defaults (SQLite database and queue in the data "
        "directory) with sample data: web server and worker in one process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", help="data directory (default ./sofno-data)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="prepare data and exit")

    def handle(self, *args, host: str, port: int, no_serve: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        credentials = ensure_demo_data()
        url = f"http://{host}:{port}/"
        self.stdout.write(
            "\nSOFNO demo is ready.\n"
            f"  web:      {url}\n"
            f"  admin:    {url}admin/\n"
            f"  API docs: {url}api/docs\n"
            f"  login:    {credentials['username']} / {credentials['password']}\n"
            f"  API key:  {credentials['api_key']}\n"
            f"  data:     {settings.DATA_DIR}\n"
            "Press Ctrl-C to stop.\n"
        )
        if no_serve:
            return
        serve_with_worker(host, port)


def ensure_demo_data() -> dict:
    """Create the demo organization, its admin, API key and sample data once."""
    path = settings.DATA_DIR / CREDENTIALS_FILE
    if path.exists() and Organization.objects.filter(slug=DEMO_SLUG).exists():
        return json.loads(path.read_text())
    with transaction.atomic():
        org, _ = Organization.objects.get_or_create(
            slug=DEMO_SLUG, defaults={"name": "Demo IT Support", "timezone": "Europe/Rome"}
        )
        password = secrets.token_urlsafe(9)
        user_model = get_user_model()
        owner, _ = user_model.objects.get_or_create(
            username="admin", defaults={"email": "admin@example.com", "is_staff": True}
        )
        owner.is_staff = owner.is_superuser = True
        owner.set_password(password)
        owner.save()
        Membership.objects.get_or_create(
            organization=org, user=owner, defaults={"role": Role.OWNER}
        )
        _, api_key = ApiKey.issue(org, "demo key", created_by=owner)
        for seed in DEMO_SEEDERS:
            seed(org, owner)
    credentials = {"username": "admin", "password": password, "api_key": api_key}
    # Demo only: the plain key is kept so a second run can print it again.
    path.touch(mode=0o600)
    path.write_text(json.dumps(credentials))
    return credentials


def serve_with_worker(host: str, port: int) -> None:
    """Run the task consumer and loops in threads and uvicorn in the foreground."""
    stop = threading.Event()
    consumer = build_consumer(threads=2)
    consumer.start()
    run_loops(stop)
    try:
        uvicorn.run(
            "sofno.asgi:application", host=host, port=port, lifespan="off", log_level="warning"
        )
    finally:
        stop.set()
        consumer.stop(graceful=True)
