"""The ``sofno`` command.

``sofno agent ...`` runs the client-computer agent (standard library only, no
Django). Every other command is a Django management command run with SOFNO's
settings, so ``sofno demo --help`` and ``sofno manage migrate`` both work.
"""

from __future__ import annotations

import importlib
import os
import sys

COMMANDS = {
    "demo": "run the web server and the worker with sample data on the embedded defaults",
    "serve": "run the web server (ASGI, uvicorn)",
    "worker": "run the task consumer and the background loops (offline sweeper)",
    "org": "manage organizations: org create SLUG --name NAME",
    "member": "manage an organization's people: member add|list|remove",
    "apikey": "manage API keys: apikey create --org SLUG --name NAME",
    "oncall": "on-call timetable and phone queue: oncall schedule|queue|import|export",
    "import": "customers, contacts or devices from CSV or XLSX: import KIND FILE [--dry-run]",
    "export": "customers, contacts or devices as CSV or XLSX: export KIND [-o FILE]",
    "check": "validate the configuration and the connections before start-up",
    "backup": "back up the database: backup [-o FILE]",
    "restore": "restore the database from a backup: restore FILE",
    "agent": "run the agent on a client computer: agent enroll|run",
    "manage": "run any Django management command: manage migrate, manage shell, ...",
}


# Where each command lives, so ``sofno COMMAND --help`` can answer without setting
# Django up (loading every app, OR-Tools, Twilio, Apprise: seconds, not milliseconds).
COMMAND_MODULES = {
    "demo": "sofno.core.management.commands.demo",
    "serve": "sofno.core.management.commands.serve",
    "worker": "sofno.core.management.commands.worker",
    "org": "sofno.core.management.commands.org",
    "member": "sofno.core.management.commands.member",
    "apikey": "sofno.core.management.commands.apikey",
    "oncall": "sofno.oncall.management.commands.oncall",
    "import": "sofno.transfer.management.commands.import",
    "export": "sofno.transfer.management.commands.export",
    "check": "sofno.ops.management.commands.check",
    "backup": "sofno.ops.management.commands.backup",
    "restore": "sofno.ops.management.commands.restore",
    "prune_events": "sofno.events.management.commands.prune_events",
}
HELP_FLAGS = {"-h", "--help"}

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
            print(_django_commands())
            return
        command, rest = rest[0], rest[1:]
    # Any other Django command works too (``sofno migrate``), as under ``manage``.
    _apply_data_option(rest)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
    if command in COMMAND_MODULES and _asks_for_help(rest):
        _print_help(prog, command, rest)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line([prog, command, *rest])


def _asks_for_help(args: list[str]) -> bool:
    """``-h``/``--help`` among the arguments (before a ``--`` that ends the options)."""
    for arg in args:
        if arg == "--":
            return False
        if arg in HELP_FLAGS:
            return True
    return False


def _print_help(prog: str, command: str, args: list[str]) -> None:
    """Print the help the arguments ask for (a subcommand's too) and exit.

    The command's module is imported without ``django.setup()``; the commands keep
    their heavy imports inside ``handle``. One that cannot be imported that way still
    gets its help, after the (slower) full set-up.
    """
    from django.core.exceptions import AppRegistryNotReady

    try:
        module = importlib.import_module(COMMAND_MODULES[command])
    except AppRegistryNotReady:
        import django

        django.setup()
        module = importlib.import_module(COMMAND_MODULES[command])
    parser = module.Command().create_parser(prog, command)
    # argparse prints the help of the level that ``--help`` follows, then exits 0.
    parser.parse_args(args)


def _django_commands() -> str:
    """The management commands of every installed app, found without loading the apps."""
    import importlib.util
    from pathlib import Path

    import django
    from django.conf import settings
    from django.core.management import find_commands

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
    django_dir = Path(django.__file__).parent
    found = {"django": find_commands(str(django_dir / "core" / "management"))}
    for entry in settings.INSTALLED_APPS:
        # An entry is a package ("sofno.core") or an AppConfig path ("x.apps.XConfig").
        package = entry.split(".apps.")[0]
        # Only the top-level package is located: find_spec("a.b") would import "a",
        # and some packages' __init__ load a great deal (huey: its storages).
        top, *rest = package.split(".")
        spec = importlib.util.find_spec(top)
        if spec is None or not spec.submodule_search_locations:
            continue
        names = find_commands(
            str(Path(spec.submodule_search_locations[0]).joinpath(*rest, "management"))
        )
        if names:
            found.setdefault(package, []).extend(names)
    lines = ["", "available commands:"]
    for package, names in found.items():
        lines += ["", f"[{package}]", *(f"    {name}" for name in sorted(set(names)))]
    return "\n".join(lines)


def _apply_data_option(args: list[str]) -> None:
    """``--data DIR`` must reach the settings before Django loads them."""
    for index, arg in enumerate(args):
        if arg == "--data" and index + 1 < len(args):
            os.environ["SOFNO_DATA_DIR"] = args[index + 1]
        elif arg.startswith("--data="):
            os.environ["SOFNO_DATA_DIR"] = arg.split("=", 1)[1]


if __name__ == "__main__":
    main()
