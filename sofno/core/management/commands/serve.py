"""``sofno serve``: the web server (ASGI, uvicorn)."""

from __future__ import annotations

import signal
import socket
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

APP = "sofno.asgi:application"


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port``; port 0 picks a free one.

    Binding before uvicorn starts lets the caller print the real address (useful
    with ``--port 0``) and fail with a clear message when the port is taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve_on(sock: socket.socket) -> None:
    """Run uvicorn on an already bound socket until SIGINT or SIGTERM.

    uvicorn handles the signal (finishing requests in flight), then raises it again
    for whatever handler was there before. A plain handler stands in meanwhile, so a
    stop is a normal return (exit code 0), not a ``KeyboardInterrupt`` traceback or
    a death by SIGTERM.
    """
    import uvicorn  # here, not at import: --help answers without the server

    config = uvicorn.Config(
        APP, lifespan="off", log_level="warning", proxy_headers=False, server_header=False
    )
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stopped(signum: int, frame: object) -> None:
    """Stand-in for the re-raised stop signal once uvicorn has shut down."""


def socket_url(sock: socket.socket) -> str:
    """``http://host:port/`` for a bound socket."""
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


class Command(BaseCommand):
    help = "Run the SOFNO web server (ASGI, uvicorn): pages, the API and check-ins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
        parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
        parser.add_argument("--data", help="data directory (embedded database and queue)")

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        if workers > 1:
            # uvicorn's supervisor binds and shares the socket with its children itself.
            self.stdout.write(f"serving on http://{host}:{port}/ with {workers} workers")
            self.stdout.flush()
            import uvicorn

            uvicorn.run(
                APP,
                host=host,
                port=port,
                workers=workers,
                lifespan="off",
                log_level="warning",
                proxy_headers=False,
                server_header=False,
            )
            return
        sock = bind_socket(host, port)
        self.stdout.write(f"serving on {socket_url(sock)}")
        self.stdout.flush()
        serve_on(sock)
