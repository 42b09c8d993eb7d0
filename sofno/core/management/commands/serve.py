from __future__ import annotations

import uvicorn
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the SOFNO web server (ASGI, uvicorn): pages, the API and check-ins."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
        parser.add_argument("--data", help="data directory (embedded database and queue)")

    def handle(self, *args, host: str, port: int, workers: int, **options):
        uvicorn.run(
            "sofno.asgi:application",
            host=host,
            port=port,
            workers=workers,
            lifespan="off",
            log_level="warning",
            proxy_headers=False,
        )
