"""`callrouter pbxsim`: run the simulated PBX until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

import structlog

from callrouter.errors import ConfigError
from callrouter.heap import settle_heap
from callrouter.pbxsim.queues_conf import parse_queues_conf
from callrouter.pbxsim.server import PBXSimulator
from callrouter.pbxsim.settings import SimulatorSettings

log = structlog.get_logger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "pbxsim",
        help="run a simulated Asterisk that speaks AMI (for the demo and tests)",
        description="A simulated PBX: hotline dialplan, queues, agents and customers, "
        "speaking AMI like Asterisk 22. Runs until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=5038, help="AMI port (0 picks a free one)")
    parser.add_argument("--username", default="callrouter", help="AMI user name")
    parser.add_argument("--secret", default="callrouter", help="AMI secret")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="inbound calls per model second from unknown callers (0: none)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="real seconds per model second (0.1 runs ten times faster)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable runs")
    parser.add_argument(
        "--router-wait",
        type=float,
        default=5.0,
        help="model seconds before the dialplan's fail-safe queues an unrouted call",
    )
    parser.add_argument(
        "--queues-conf",
        type=Path,
        default=None,
        help="ring the queues, members and strategies of this queues.conf, as app_queue "
        "really applies them (e.g. dialplans/queues.conf)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.rate < 0:
            raise ConfigError(f"--rate must not be negative, got {args.rate}")
        settings = SimulatorSettings(
            host=args.host,
            port=args.port,
            username=args.username,
            secret=args.secret,
            time_scale=args.time_scale,
            seed=args.seed,
            router_wait=args.router_wait,
            login_failure_delay=1.0,
        )
        if args.queues_conf is not None:
            try:
                conf = parse_queues_conf(args.queues_conf.read_text(encoding="utf-8"))
            except OSError as error:
                raise ConfigError(f"cannot read {args.queues_conf}: {error.strerror}") from error
            settings = dataclasses.replace(
                settings, queues=conf.members, strategies=conf.strategies
            )
    except ConfigError as error:
        print(f"callrouter pbxsim: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(settings, args.rate))
    except OSError as error:
        print(
            f"callrouter pbxsim: cannot listen on {args.host}:{args.port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        log.info("pbxsim.interrupted")
    return 0


async def serve(settings: SimulatorSettings, rate: float) -> None:
    """Run the simulator until the task is cancelled (Ctrl-C)."""
    simulator = PBXSimulator(settings)
    await simulator.start()
    settle_heap(collect_cycles=False)
    try:
        if rate > 0:
            simulator.start_traffic(rate, ())
        await asyncio.Event().wait()
    finally:
        await simulator.stop()
