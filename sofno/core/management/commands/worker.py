from __future__ import annotations

import logging
import threading

from django.core.management.base import BaseCommand
from huey.consumer_options import ConsumerConfig
from huey.contrib.djhuey import HUEY

from sofno.core.hooks import LOOPS, run_loops


class Command(BaseCommand):
    help = "Run the task consumer and the background loops (such as the offline sweeper)."

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=4, help="task worker threads")
        parser.add_argument("--no-loops", action="store_true", help="run only the task consumer")
        parser.add_argument("--data", help="data directory (embedded database and queue)")

    def handle(self, *args, threads: int, no_loops: bool, **options):
        stop = threading.Event()
        if not no_loops:
            run_loops(stop)
            self.stdout.write(f"loops: {', '.join(LOOPS) or 'none'}")
        consumer = build_consumer(threads)
        self.stdout.write(f"worker consuming {HUEY.name!r} with {threads} threads")
        try:
            consumer.run()  # installs its own SIGTERM/SIGINT handlers and blocks
        finally:
            stop.set()


def build_consumer(threads: int):
    """A Huey consumer for SOFNO's queue (also started inside ``sofno demo``)."""
    config = ConsumerConfig(
        workers=threads, worker_type="thread", periodic=True, check_worker_health=True
    )
    config.validate()
    logging.getLogger("huey").setLevel(logging.WARNING)
    return HUEY.create_consumer(**config.values)
