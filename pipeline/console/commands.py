"""The console's commands on the command line: `console` and `users add|disable|enable|
reset-password`. `pipeline.cli` registers them with `add_commands` and hands them over with
`dispatch`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import msgspec

from pipeline.config import Config
from pipeline.console.roles import ROLES, parse_sites

COMMANDS = ("console", "users")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                 add_common: Callable[..., None]) -> None:
    """Add `console` and `users` to the command line."""
    console = sub.add_parser(
        "console", help="run the patrol console (web app, ingest, decisions out)",
        description="Serve the patrol console: ingest mod.review.*, mod.actions and "
                    "mod.violations into the store, serve the web app, publish decisions to "
                    "mod.decisions. Stops cleanly on SIGTERM/SIGINT.")
    add_common(console, kafka=True, lists=False)
    console.add_argument("--port", dest="console_port", type=int, metavar="PORT",
                         help="web app port (console.port, default 8080)")
    _add_store(console)
    console.add_argument("--metrics-port", type=int, metavar="PORT",
                         help="port of /metrics (metrics.port; 0 turns it off)")

    users = sub.add_parser("users", help="manage console accounts",
                           description="Add, disable, enable console accounts and reset "
                                       "passwords. Passwords are read from standard input, "
                                       "never from the command line.")
    add_common(users, kafka=False, lists=False)
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an account")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--sites", default="",
                     help="comma-separated site ids the account works on; * for every site")
    add.add_argument("--password-stdin", action="store_true", required=True,
                     help="read the password from standard input (required)")
    reset = actions.add_parser("reset-password", help="set a new password")
    reset.add_argument("name", metavar="NAME")
    reset.add_argument("--password-stdin", action="store_true", required=True,
                       help="read the password from standard input (required)")
    disable = actions.add_parser("disable", help="disable an account (its sessions end)")
    disable.add_argument("name", metavar="NAME")
    enable = actions.add_parser("enable", help="enable a disabled account")
    enable.add_argument("name", metavar="NAME")
    for parser in (add, reset, disable, enable):
        _add_store(parser)


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", dest="store_url", metavar="URL",
                        help="sqlite:///PATH (default sqlite:///mimamori-console.db) or "
                             "postgresql://USER@HOST/DB (console.store_url)")


def _with_flags(config: Config, args: argparse.Namespace) -> Config:
    console = config.console
    if getattr(args, "store_url", None):
        console = msgspec.structs.replace(console, store_url=args.store_url)
    if getattr(args, "console_port", None) is not None:
        console = msgspec.structs.replace(console, port=args.console_port)
    return msgspec.structs.replace(config, console=console)


def _read_password() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def dispatch(args: argparse.Namespace, config: Config) -> int:
    """Run `console` or `users`. Returns the exit status."""
    config = _with_flags(config, args)
    if args.command == "console":
        import uvloop

        from pipeline.console.service import run_console

        uvloop.run(run_console(config))
        return 0
    from pipeline.console.accounts import AccountError
    from pipeline.console.i18n import translate
    from pipeline.console.store import open_store

    store = open_store(config.console.store_url)
    try:
        action = args.users_command
        if action == "add":
            store.add_user(args.name, args.role, _read_password(), parse_sites(args.sites),
                           language=config.console.default_language)
            print(f"added {args.role} {args.name!r} "
                  f"(sites: {args.sites or 'none: assign with --sites'})")
        elif action == "reset-password":
            store.reset_password(args.name, _read_password())
            print(f"password of {args.name!r} reset; its sessions ended")
        else:
            store.set_disabled(args.name, action == "disable")
            print(f"{args.name!r} {action}d")
    except AccountError as exc:
        print(f"mimamori: {translate('en', exc.key)}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
