"""structlog set-up: key=value lines for people, JSON lines for machines."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(*, level: str = "info", json: bool = False) -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(message)s")
    # Alembic narrates every migration step; our own "db.upgraded" line says what matters.
    logging.getLogger("alembic").setLevel(max(numeric, logging.WARNING))
    # APScheduler narrates every run of the callbacks' one-second sweep; the dispatcher logs
    # what it decides.
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else _console_renderer(sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def _console_renderer(terminal: bool) -> structlog.dev.ConsoleRenderer:
    # Rich tracebacks cost milliseconds each on the event loop: when many calls fail at once
    # (a database gone) they starved the loop. Plain ones unless a person is watching.
    return structlog.dev.ConsoleRenderer(
        colors=terminal,
        exception_formatter=(
            structlog.dev.rich_traceback if terminal else structlog.dev.plain_traceback
        ),
    )
