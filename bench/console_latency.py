"""Console latency: AMI event to console update, and what 100 consoles cost the routing.

    python bench/console_latency.py [--url postgresql+asyncpg://...|sqlite] [--rate 100]
                                    [--seconds 20] [--consoles 100] [--runs 1]
                                    [--customers 10000]
                                    [--clients-nice 10] [--push-interval 0.2]
                                    [--profile-router PREFIX]

Runs the real hotline against the simulator's traffic (its own process, as in
bench/routing_latency.py, with its `--customers` known callers: one call in ten from an
unknown number) twice: without any console, then with `--consoles` consoles
signed in and streaming (their SSE clients in a third process, as browsers would be on
other machines). Prints routing latency p99 for both runs, and the event-to-update
latency p99 measured at the SSE clients.

How the update latency is measured: a probe panel (the console's own panel contract)
shows the earliest queue join the router received since the previous push; the bench
stamps each QueueCallerJoin when the router's AMI reader hands it out (wall clock) and each
client stamps the first delta carrying that join. The earliest join of a push waited
longest for it, so this is each push's worst case. Targets: p99 <= 1 s; routing p99 with
the consoles within 20 % of without.

What the consoles cost the router, apart from the machine they share: each push's CPU on
the router's loop (all its steps, and its longest step: a call arriving during a push waits
for one step at most; the step's wall time beside it shows how much longer the machine's
other processes made it), and the router process's CPU share. The clients' own CPU share
is printed too: on two shared cores, a routing p99 moved by them is contention, not the
push (`--clients-nice 19` shows it). `--push-interval` sets `[console] push_interval`
(what the pushes cost per second against how fresh the screens are). `--runs N`
alternates N runs without and with consoles and prints the median change.
`--profile-router PREFIX` prints where the router's process spent its CPU in each run
(cProfile, CPU time: it inflates the figures) and keeps each run's profile in
PREFIX-<consoles>-<run>.prof, to compare with and without consoles (`python -m pstats`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import os
import pstats
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import aiohttp
import structlog
from aiohttp import web
from yarl import URL

from callrouter.accounts.operators import OperatorService
from callrouter.ami.message import Message
from callrouter.clock import SimulatedClock
from callrouter.config import Config, ConsoleConfig
from callrouter.console.panel import LIVE, Labels, PanelView
from callrouter.heap import settle_heap
from callrouter.http.access import Role
from callrouter.pbxsim import CallerProfile
from callrouter.server.runtime import Hotline, PBXLink, build_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg import temporary_postgres_database
from routing_latency import CUSTOMERS, percentile, seed, simulator_process

PARIS = ZoneInfo("Europe/Paris")
_PROBE = re.compile(r'"probe":\{"join":"([^"]*)"')


class ProbePanel:
    """The earliest queue join received since the last push (see the module doc)."""

    key = "probe"
    topics = frozenset({LIVE})
    labels: ClassVar[Labels] = {}

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self._pending: list[str] = []
        self._shown = ""

    def on_event(self, event: Message) -> None:
        if event.name == "QueueCallerJoin":
            uniqueid = event.get("Uniqueid") or ""
            self.arrivals[uniqueid] = time.time()
            self._pending.append(uniqueid)

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        if self._pending:
            self._shown, self._pending = self._pending[0], []
        return {"join": self._shown}


def consoles_process(
    base_url: str,
    cookie: str,
    count: int,
    ready: multiprocessing.Queue[int],
    results: multiprocessing.Queue[tuple[list[tuple[str, float]], float]],
    done: EventType,
    nice: int,
) -> None:
    """`count` SSE clients; each reports when it first saw each probe value (and the
    process its CPU share while streaming). Niced like the simulator: browsers would run
    on other machines."""
    os.nice(nice)

    async def client(seen: list[tuple[str, float]], connected: list[int]) -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        jar.update_cookies({"callrouter_console": cookie}, response_url=URL(base_url))
        async with (
            aiohttp.ClientSession(cookie_jar=jar) as http,
            http.get(
                base_url + "/console/stream", timeout=aiohttp.ClientTimeout(total=None)
            ) as response,
        ):
            assert response.status == 200, response.status
            connected.append(1)
            last = ""
            async for line in response.content:
                found = _PROBE.search(line.decode(errors="replace"))
                if found and found.group(1) != last:
                    last = found.group(1)
                    seen.append((last, time.time()))

    async def main() -> None:
        seen: list[tuple[str, float]] = []
        connected: list[int] = []
        tasks = [asyncio.create_task(client(seen, connected)) for _ in range(count)]
        while len(connected) < count:
            await asyncio.sleep(0.05)
        ready.put(count)
        cpu_started, started = time.process_time(), time.perf_counter()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, done.wait)
        cpu = (time.process_time() - cpu_started) / (time.perf_counter() - started)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        results.put((seen, cpu))

    asyncio.run(main())


async def sign_in(base_url: str, hotline: Hotline) -> str:
    operators = OperatorService(hotline.require_sessions(), hotline.clock)
    name = f"Bench {secrets.token_hex(3)}"
    key = (await operators.create(name, Role.SUPERVISOR)).api_key
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession(cookie_jar=jar) as http,
        http.post(
            base_url + "/console/sign-in",
            data={"name": name, "api_key": key},
            allow_redirects=False,
        ) as response,
    ):
        assert response.status == 303, response.status
        return response.cookies["callrouter_console"].value


async def one_run(
    url: str,
    profiles: list[CallerProfile],
    rate: float,
    seconds: float,
    consoles: int,
    nice: int = 10,
    profile: str = "",
    push_interval: float = 0.2,
) -> tuple[list[float], list[float], list[float]]:
    """(routing latencies ms, of the callers queued alone, update latencies ms) of one run."""
    context = multiprocessing.get_context("spawn")
    secret = secrets.token_urlsafe(12)
    ports: multiprocessing.Queue[int] = context.Queue()
    go, done = context.Event(), context.Event()
    pbx = context.Process(
        target=simulator_process, args=(secret, profiles, rate, seconds, ports, go, done)
    )
    pbx.start()
    loop = asyncio.get_running_loop()
    port = await loop.run_in_executor(None, ports.get)
    hotline = Hotline(
        config=Config(console=ConsoleConfig(push_interval=push_interval)),
        database_url=url,
        pbx=PBXLink("127.0.0.1", port, "callrouter", secret),
        clock=SimulatedClock(datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)),
    )
    # Queued callers apart: a message's record is written first (journaled, issue 7 item
    # 12), a wait of its own that varies from run to run by itself.
    queued: list[float] = []
    hotline.on_routed.append(
        lambda routed: None if routed.stored else queued.append(routed.latency_ms)
    )
    app = build_app(hotline)
    probe = ProbePanel()
    assert hotline.console is not None
    hotline.console.register(probe)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    settle_heap()  # as `callrouter serve` does once started
    base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    clients = None
    results: multiprocessing.Queue[tuple[list[tuple[str, float]], float]] = context.Queue()
    client_done = context.Event()
    try:
        while hotline.ami is None or not hotline.ami.connected:
            await asyncio.sleep(0.05)
        unsubscribe = hotline.ami.subscribe(probe.on_event)
        if consoles:
            cookie = await sign_in(base_url, hotline)
            ready: multiprocessing.Queue[int] = context.Queue()
            clients = context.Process(
                target=consoles_process,
                args=(base_url, cookie, consoles, ready, results, client_done, nice),
            )
            clients.start()
            await loop.run_in_executor(None, ready.get)
            print(f"  {hotline.console.hub.consoles} consoles connected")
        assert hotline.router is not None
        profiler = cProfile.Profile(time.thread_time) if profile else None
        go.set()
        cpu_started, started = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        await asyncio.sleep(seconds)
        await hotline.router.wait_idle()
        if profiler is not None:
            profiler.disable()
        cpu = (time.process_time() - cpu_started) / (time.perf_counter() - started)
        if profiler is not None:
            profiler.dump_stats(f"{profile}.prof")
            print(f"  router profile, {consoles} consoles (top 25 by own CPU time):")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        routing = list(hotline.router.latencies_ms)
        unsubscribe()
        hub = hotline.console.hub
        pushes = list(hub.timings)
        updates: list[float] = []
        clients_cpu = ""
        if clients is not None:
            client_done.set()
            seen, share = await loop.run_in_executor(None, results.get)
            updates = [
                (at - probe.arrivals[join]) * 1000 for join, at in seen if join in probe.arrivals
            ]
            clients_cpu = f", clients process {share * 100:.0f}% (nice {nice})"
        print(
            f"  routed {len(routing)} calls, {hub.flushes} console pushes, "
            f"{len(probe.arrivals)} queue joins; CPU: router process {cpu * 100:.1f}% of one "
            f"core{clients_cpu}; load average {os.getloadavg()[0]:.1f}"
        )
        if consoles and pushes:
            cpu_ms = [timing.cpu_ms for timing in pushes]
            step = [timing.longest_cpu_ms for timing in pushes]
            wall = [timing.longest_wall_ms for timing in pushes]
            print(
                f"  push on the router's loop: CPU p50 {percentile(cpu_ms, 0.5):.2f} ms, p99 "
                f"{percentile(cpu_ms, 0.99):.2f} ms; longest step CPU p50 "
                f"{percentile(step, 0.5):.2f} ms, p99 {percentile(step, 0.99):.2f} ms "
                f"(wall p50 {percentile(wall, 0.5):.2f} ms, p99 {percentile(wall, 0.99):.2f} ms)"
            )
            longest = Counter(timing.longest for timing in pushes).most_common(3)
            listed = ", ".join(f"{name} {count}" for name, count in longest)
            print(f"  the longest step of a push was (pushes): {listed}")
            by_step: dict[str, list[float]] = {}
            for timing in pushes:
                for name, step_ms in timing.steps:
                    by_step.setdefault(name, []).append(step_ms)
            listed = "; ".join(
                f"{name} {len(cpus)}x p50 {percentile(cpus, 0.5):.2f} "
                f"p99 {percentile(cpus, 0.99):.2f}"
                for name, cpus in sorted(by_step.items(), key=lambda item: -sum(item[1]))
            )
            print(f"  steps (CPU ms, by total): {listed}")
        return routing, list(queued), updates
    finally:
        done.set()
        client_done.set()
        await runner.cleanup()
        await loop.run_in_executor(None, pbx.join)
        if clients is not None:
            await loop.run_in_executor(None, clients.join)


async def run(url: str, args: argparse.Namespace) -> None:
    rate, seconds, consoles, runs = args.rate, args.seconds, args.consoles, args.runs
    profile = args.profile_router
    print("seeding accounts ...")
    profiles = await seed(url, args.customers)
    load = os.getloadavg()[0]
    print(f"load average before: {load:.1f} on {os.cpu_count()} cores")
    print(f"push interval {args.push_interval:g} s")
    changes: list[float] = []
    for number in range(1, runs + 1):
        print(f"run {number}a: {rate:g} calls/s for {seconds:g} s, no console")
        alone, queued_alone, _ = await one_run(
            url,
            profiles,
            rate,
            seconds,
            0,
            profile=profile and f"{profile}-0-{number}",
            push_interval=args.push_interval,
        )
        print(f"run {number}b: {rate:g} calls/s for {seconds:g} s, {consoles} consoles")
        watched, queued_watched, updates = await one_run(
            url,
            profiles,
            rate,
            seconds,
            consoles,
            args.clients_nice,
            profile and f"{profile}-{consoles}-{number}",
            args.push_interval,
        )
        p99_alone, p99_watched = percentile(alone, 0.99), percentile(watched, 0.99)
        change = (p99_watched - p99_alone) / p99_alone * 100
        changes.append(change)
        print(
            f"routing latency p99: {p99_alone:.2f} ms without consoles, {p99_watched:.2f} ms "
            f"with: {change:+.0f} % (target: at most +20 %) {'met' if change <= 20 else 'MISSED'}"
        )
        if queued_alone and queued_watched:
            q_alone, q_watched = percentile(queued_alone, 0.99), percentile(queued_watched, 0.99)
            print(
                f"  of which callers queued ({len(queued_alone)}, {len(queued_watched)}): p99 "
                f"{q_alone:.2f} ms without consoles, {q_watched:.2f} ms with: "
                f"{(q_watched - q_alone) / q_alone * 100:+.0f} %"
            )
        if updates:
            p50, p99 = percentile(updates, 0.5), percentile(updates, 0.99)
            print(
                f"AMI event -> console update ({len(updates)} updates seen by the clients): "
                f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(updates):.0f} ms "
                f"(target p99 <= 1000 ms: {'met' if p99 <= 1000 else 'MISSED'})"
            )
    if runs > 1:
        listed = ", ".join(f"{change:+.0f} %" for change in changes)
        print(f"routing p99 change per run: {listed}; median {statistics.median(changes):+.0f} %")
    print(f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("CALLROUTER_TEST_POSTGRES_URL"))
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--consoles", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--clients-nice", type=int, default=10)
    parser.add_argument("--push-interval", type=float, default=0.2)
    parser.add_argument("--profile-router", default="", metavar="PREFIX")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    if not args.url:
        sys.exit("set CALLROUTER_TEST_POSTGRES_URL or pass --url (or --url sqlite)")
    if args.url == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
            print(f"database: SQLite ({url})")
            asyncio.run(run(url, args))
        return
    with temporary_postgres_database(args.url) as url:
        print("database: PostgreSQL (temporary database)")
        asyncio.run(run(url, args))


if __name__ == "__main__":
    main()
