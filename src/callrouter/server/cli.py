"""`callrouter serve` (a real PBX) and `callrouter demo` (the built-in simulator)."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import structlog
from aiohttp import web

from callrouter.callbacks.pbx import AMIPlacer
from callrouter.clock import Clock, SimulatedClock, SystemClock
from callrouter.config import Config, MetricsConfig, load_config
from callrouter.errors import CallrouterError
from callrouter.identity.pepper import demo_pin_pepper, pin_pepper
from callrouter.pbxsim import SimulatorSettings
from callrouter.server.demo import DEMO_QUEUES, build_demo_app, default_demo_start
from callrouter.server.hotline import Hotline, PBXLink
from callrouter.server.runtime import build_app, serve_until_stopped

API_SECRET_ENV = "CALLROUTER_API_SECRET"
DEMO_DATABASE_URL = "sqlite+aiosqlite:///callrouter-demo.db"
DEMO_LOG_FILE = Path("callrouter-demo.log")

log = structlog.get_logger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="route the calls of a real Asterisk (AMI) and serve the HTTP API",
        description="Connects to Asterisk's AMI, routes every HotlineCall and serves the "
        "HTTP API. Options override the [ami] and [http] sections of the config file.",
    )
    serve.add_argument("--ami-host", help="Asterisk host (default: [ami] host)")
    serve.add_argument("--ami-port", type=int, help="AMI port (default: [ami] port, 5038)")
    serve.add_argument("--ami-user", help="AMI user (default: [ami] username)")
    serve.add_argument(
        "--ami-secret",
        default=os.environ.get("CALLROUTER_AMI_SECRET"),
        help="AMI secret (default: $CALLROUTER_AMI_SECRET, else [ami] secret)",
    )
    _http_options(serve)
    serve.set_defaults(handler=serve_command)

    demo = subparsers.add_parser(
        "demo",
        help="run the router against the built-in PBX simulator with live traffic",
        description="Starts the PBX simulator with inbound traffic, the router, a SQLite "
        "database with demo accounts and the HTTP API, and shows the queues live until "
        "Ctrl-C. By default the clock starts at 17:50 on the latest weekday and runs 10x "
        "faster, so daytime routing and the 18:00 hand-over to on-call are both visible.",
    )
    demo.add_argument(
        "--start",
        help="simulated start, local time 'YYYY-MM-DDTHH:MM' or 'now' "
        "(default: 17:50 on the latest weekday)",
    )
    demo.add_argument(
        "--speed", type=float, default=10.0, help="simulated clock speed (default: 10x)"
    )
    demo.add_argument(
        "--rate", type=float, default=0.3, help="new inbound calls per second (default: 0.3)"
    )
    demo.add_argument("--seed", type=int, help="random seed of the simulated traffic")
    _http_options(demo)
    demo.set_defaults(handler=demo_command)


def _http_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="HTTP listen address (default: [http] host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port (default: [http] port, 8080)")


def serve_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    pbx = PBXLink(
        host=args.ami_host or config.ami.host,
        port=args.ami_port or config.ami.port,
        username=args.ami_user or config.ami.username,
        secret=args.ami_secret or config.ami.secret,
    )
    hotline = Hotline(
        config=config,
        database_url=args.database_url or config.database.url,
        pbx=pbx,
        clock=SystemClock(),
        api_secret=_api_secret(),
        # Checked before anything starts: without it no PIN could be verified.
        pin_pepper=pin_pepper(os.environ),
        callback_placer=lambda client, on_result: AMIPlacer(client, on_result),
    )
    app = build_app(hotline)
    return _run(app, args.host or config.http.host, args.port or config.http.port)


def _api_secret() -> bytes:
    """The key that signs account holders' sign-in tokens, shared by every instance."""
    text = os.environ.get(API_SECRET_ENV, "")
    if not text:
        log.warning(
            "http.api_secret.generated",
            hint=f"set {API_SECRET_ENV} (32+ characters) so sign-ins survive a restart",
        )
        return secrets.token_bytes(32)
    if len(text) < 32:
        raise CallrouterError(f"{API_SECRET_ENV} must be at least 32 characters long")
    return text.encode("utf-8")


def demo_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not config.metrics.enabled:
        # The demo serves its metrics on its HTTP port, behind a token made for this run.
        config = replace(
            config, metrics=MetricsConfig(enabled=True, token=secrets.token_urlsafe(32))
        )
    clock = _demo_clock(config, args.start, args.speed)
    start = clock.now().astimezone(config.calendar_settings.timezone)
    interactive = sys.stdout.isatty()
    if interactive:
        # The screen is redrawn on stdout; log lines would tear it, so they go to a file.
        _log_to_file(DEMO_LOG_FILE)
    settings = SimulatorSettings(
        host="127.0.0.1",
        port=0,
        username="callrouter",
        # The simulator lives and dies with the demo: a fresh secret each run.
        secret=secrets.token_urlsafe(16),
        seed=args.seed,
        # Calls move 4x faster than real time so queues fill and drain while you watch.
        time_scale=0.25,
        queues=DEMO_QUEUES,
    )
    hotline = Hotline(
        config=config,
        database_url=args.database_url or DEMO_DATABASE_URL,
        pbx=PBXLink(settings.host, settings.port, settings.username, settings.secret),
        clock=clock,
        pin_pepper=demo_pin_pepper(os.environ),
        callback_placer=lambda client, on_result: AMIPlacer(client, on_result, clock=clock),
    )
    host, port = args.host or config.http.host, args.port or config.http.port
    metrics = (
        [
            f"Metrics: curl -H 'Authorization: Bearer {config.metrics.token}' "
            f"http://{host}:{port}/metrics"
        ]
        if config.metrics.token
        else []
    )
    app = build_demo_app(
        hotline,
        settings,
        args.rate,
        interactive=interactive,
        console_url=f"http://{host}:{port}/console/",
        footer=metrics,
        start=start,
    )
    print(
        f"callrouter demo: simulated clock from {start:%A %d %B %Y %H:%M} at {args.speed:g}x,"
        f" {args.rate:g} calls/s; API on http://{host}:{port}/api/queues"
        + (f"; log in {DEMO_LOG_FILE}" if interactive else "")
        + ". Ctrl-C stops.",
        flush=True,
    )
    for line in metrics:
        print(line, flush=True)
    return _run(app, host, port)


def _demo_clock(config: Config, start: str | None, speed: float) -> Clock:
    zone = config.calendar_settings.timezone
    if speed <= 0:
        raise CallrouterError("--speed must be positive")
    if start == "now":
        return SimulatedClock(datetime.now(zone), speed)
    if start is None:
        latest = default_demo_start(datetime.now(zone), config.calendar().coordinators)
        return SimulatedClock(latest, speed)
    try:
        parsed = datetime.fromisoformat(start)
    except ValueError:
        raise CallrouterError(
            f"--start {start!r} is not a local time like 2026-11-23T17:50 (or 'now')"
        ) from None
    return SimulatedClock(parsed if parsed.tzinfo else parsed.replace(tzinfo=zone), speed)


def _log_to_file(path: Path) -> None:
    handle = path.open("a", encoding="utf-8")
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(file=handle),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
    )


def _run(app: web.Application, host: str, port: int) -> int:
    try:
        asyncio.run(serve_until_stopped(app, host, port))
    except OSError as error:
        raise CallrouterError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return 0
