"""The ``sofno`` command.

``sofno agent ...`` runs the client-computer agent (standard library only, no
Django). Every other command is a Django management command run with SOFNO's
settings, so ``sofno demo --help`` and ``sofno manage migrate`` both work.
"""

from __future__ import annotations

import os
import sys

COMMANDS = {
    "demo": "run the web server and the worker with sample data on the embedded defaults",
    "serve": "run the web server (ASGI, uvicorn)",
    "worker": "run the task consumer and the background loops (offline sweeper)",
    "org": "manage organizations: org create SLUG --name NAME",
    "apikey": "manage API keys: apikey create --org SLUG --name NAME",
    "oncall": "on-call timetable and phone queue: oncall schedule|queue|extensions",
    "check": "validate the configuration and the connections before start-up",
    "backup": "back up the database: backup [-o FILE]",
    "restore": "restore the database from a backup: restore FILE",
    "agent": "run the agent on a client computer: agent enroll|run",
    "manage": "run any Django management command: manage migrate, manage shell, ...",
}


MANAGE_USAGE = (
    "usage: sofno manage COMMAND [ARGS...]\n\n"
    "Runs any Django management command with SOFNO's settings;\n"
    "sofno manage COMMAND --help shows its options."
)


def _usage() -> str:
    lines = ["usage: sofno COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<8} {text}" for name, text in COMMANDS.items()]
    lines += ["", "sofno COMMAND --help shows a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``sofno`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return
    command, rest = args[0], args[1:]
    if command == "agent":
        from sofno.agent.main import main as agent_main

        sys.exit(agent_main(rest))
    prog = "sofno"
    if command == "manage":
        prog = "sofno manage"
        if not rest or (rest[0] in {"-h", "--help", "help"} and len(rest) == 1):
            print(MANAGE_USAGE)
            rest = ["help"]
        command, rest = rest[0], rest[1:]
    # Any other Django command works too (``sofno migrate``), as under ``manage``.
    _apply_data_option(rest)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line([prog, command, *rest])


def _apply_data_option(args: list[str]) -> None:
    """``--data DIR`` must reach the settings before Django loads them."""
    for index, arg in enumerate(args):
        if arg == "--data" and index + 1 < len(args):
            os.environ["SOFNO_DATA_DIR"] = args[index + 1]
        elif arg.startswith("--data="):
            os.environ["SOFNO_DATA_DIR"] = arg.split("=", 1)[1]


if __name__ == "__main__":
    main()
