"""``sofno worker``: the Huey task consumer plus the registered background loops."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import autodiscover_modules

from sofno.core.hooks import LOOPS, run_loops

if TYPE_CHECKING:  # the queue loads when the worker starts: --help answers without it
    from huey.consumer import Consumer


class Command(BaseCommand):
    help = "Run the task consumer and the background loops (such as the offline sweeper)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--threads", type=int, default=4, help="task worker threads")
        parser.add_argument("--no-loops", action="store_true", help="run only the task consumer")
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="do not enqueue periodic tasks (with several workers, let one do it)",
        )
        parser.add_argument("--data", help="data directory (embedded database and queue)")

    def handle(
        self, *args: Any, threads: int, no_loops: bool, no_periodic: bool, **options: Any
    ) -> None:
        from huey.contrib.djhuey import HUEY

        if threads < 1:
            raise CommandError("--threads must be at least 1")
        if HUEY.immediate:
            raise CommandError(
                "SOFNO_QUEUE_URL is memory:// (tasks run inline); a worker needs a "
                "sqlite://, redis:// or postgres:// queue"
            )
        consumer = build_consumer(threads, periodic=not no_periodic)
        stop = threading.Event()
        loops = [] if no_loops else run_loops(stop)
        self.stdout.write(f"loops: {', '.join(LOOPS) if loops else 'none'}")
        self.stdout.write(f"worker consuming {HUEY.name!r} with {threads} threads")
        self.stdout.flush()
        try:
            consumer.run()  # installs its own SIGTERM/SIGINT handlers and blocks
        finally:
            stop.set()
            for thread in loops:
                thread.join(timeout=5)
        self.stdout.write("worker stopped")


def build_consumer(threads: int, periodic: bool = True) -> Consumer:
    """A Huey consumer for SOFNO's queue (also started inside ``sofno demo``).

    Every app's ``tasks`` module is imported first, as huey's own ``run_huey`` does,
    so a task defined in any app is known to the consumer.

    Each consumer with ``periodic`` enqueues the periodic tasks on schedule, so with
    several workers on one queue exactly one should have it.
    """
    from huey.consumer_options import ConsumerConfig
    from huey.contrib.djhuey import HUEY

    autodiscover_modules("tasks")
    config = ConsumerConfig(
        workers=threads, worker_type="thread", periodic=periodic, check_worker_health=True
    )
    config.validate()
    logging.getLogger("huey").setLevel(logging.WARNING)
    return HUEY.create_consumer(**config.values)
