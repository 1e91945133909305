"""Running one `callrouter` subcommand's handler as the main command does, without a
process: the same global options, then the subcommand's own parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def run_command(register: Register, url: str, *argv: str, config: Path | None = None) -> int:
    """The exit code of `callrouter --database-url URL [--config CONFIG] ARGV...`."""
    parser = argparse.ArgumentParser(prog="callrouter")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["--database-url", url, *(["--config", str(config)] if config else []), *argv]
    )
    code: int = args.handler(args)
    return code
