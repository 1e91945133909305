"""The `callrouter` command: one subcommand per job, each feature registers its own."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from callrouter import __version__
from callrouter.errors import CallrouterError
from callrouter.logging import configure_logging

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _registrars() -> list[Registrar]:
    from callrouter.accounts import cli as accounts_cli
    from callrouter.appointments import cli as appointments_cli
    from callrouter.callbacks import cli as callbacks_cli
    from callrouter.db import cli as db_cli
    from callrouter.experts import cli as experts_cli
    from callrouter.identity import cli as identity_cli
    from callrouter.ledger import cli as ledger_cli
    from callrouter.oncall import cli as oncall_cli
    from callrouter.pbxsim import cli as pbxsim_cli
    from callrouter.server import cli as server_cli

    return [
        server_cli.register,
        pbxsim_cli.register,
        db_cli.register,
        identity_cli.register,
        ledger_cli.register,
        accounts_cli.register,
        experts_cli.register,
        appointments_cli.register,
        callbacks_cli.register,
        oncall_cli.register,
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callrouter",
        description="Routes the calls of a technical-support hotline over Asterisk AMI.",
    )
    parser.add_argument("--version", action="version", version=f"callrouter {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        default=_env_path("CALLROUTER_CONFIG"),
        help="TOML configuration file (default: $CALLROUTER_CONFIG, else built-in defaults)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CALLROUTER_DATABASE_URL"),
        help="SQLAlchemy URL, overrides [database] url "
        "(default: $CALLROUTER_DATABASE_URL, else the config file)",
    )
    parser.add_argument("--log-level", default="info", help="debug, info, warning, error")
    parser.add_argument("--log-json", action="store_true", help="log JSON lines")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _registrars():
        register(subparsers)
    return parser


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        configure_logging(level=args.log_level, json=args.log_json)
    except ValueError as error:
        parser.error(str(error))
    try:
        code: int = handler(args)
    except CallrouterError as error:
        print(f"callrouter: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
