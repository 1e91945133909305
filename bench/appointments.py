"""Pass RDV: availability query time and bookings per second, on PostgreSQL.

    python bench/appointments.py [--url postgresql+asyncpg://...] [--bookings 2000]

Sets up 10 domains and 50 experts (each covering 2 domains, so 10 per domain, with one
absence each), then books with 20 concurrent clients (each booking = incident opened and
debited + appointment + the expert's quarter hours, one transaction; clients that share a
domain compete for its experts), then times `AppointmentService.availability` over the whole
8-week horizon of one domain (40 working days x 35 slots x 10 experts, database reads
included), round-robin over the domains, with the process CPU each query took and the load
average (wall times on a loaded machine are mostly waiting); then what the route adds
(the answer's models and JSON, as the API sends it) and the pure rules alone. Without
--url it uses $CALLROUTER_TEST_POSTGRES_URL and creates (then drops) its own database;
`--url sqlite` runs on a temporary SQLite file.
Targets (issue "Pass RDV"): availability p99 <= 20 ms; bookings/s reported.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import insert

from callrouter.appointments.api import build_services
from callrouter.appointments.config import AppointmentsConfig
from callrouter.appointments.errors import SlotFull
from callrouter.appointments.queries import domain_duty
from callrouter.appointments.routes import availability_answer
from callrouter.appointments.rules import availability, slot_starts
from callrouter.appointments.service import AppointmentService, BookingRequest
from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.db.migrate import upgrade_async
from callrouter.experts.config import ExpertsConfig
from callrouter.experts.directory import ExpertDirectory
from callrouter.experts.rules import Domain
from callrouter.heap import settle_heap
from callrouter.http.endpoint import json_body
from callrouter.identity.models import Account
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.prices import AssistanceLevel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg import bench_database

DOMAINS = 10
EXPERTS = 50
CLIENTS = 20
QUERIES = 200
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=PARIS).astimezone(UTC)


async def _accounts(engine: object, count: int) -> list[str]:
    numbers = [f"{90000000 + index}" for index in range(count)]
    sessions = session_factory(engine)  # type: ignore[arg-type]
    async with sessions.begin() as session:
        await session.execute(
            insert(Account),
            [
                {
                    "number": number,
                    "holder_name": f"Client {number}",
                    "pin_hash": "x",
                    "web_code_hash": "x",
                    "balance": 1_000_000,
                    "created_at": NOW,
                }
                for number in numbers
            ],
        )
    return numbers


async def _book_all(
    service: AppointmentService, accounts: list[str], bookings: int, starts: list[datetime]
) -> tuple[int, int, float]:
    booked = full = 0

    async def client(index: int) -> None:
        nonlocal booked, full
        domain = f"d{index % DOMAINS}"
        for turn in range(bookings // CLIENTS):
            start = starts[(turn * 7 + index) % len(starts)]
            try:
                await service.book(
                    BookingRequest(
                        account_number=accounts[index],
                        domain=domain,
                        level=AssistanceLevel.STANDARD,
                        start=start,
                        number_to_call="0612345678",
                        summary="bench",
                        idempotency_key=f"bench-{index}-{turn}",
                        booked_by="bench",
                    )
                )
                booked += 1
            except SlotFull:
                full += 1

    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client(index) for index in range(CLIENTS)))
    seconds = time.perf_counter() - began
    print(f"  process CPU per booking: {(time.process_time() - cpu) / bookings * 1000:.2f} ms")
    return booked, full, seconds


async def run(url: str, bookings: int) -> None:
    await upgrade_async(url)
    engine = create_engine(url)
    clock = FakeClock(NOW)
    config = AppointmentsConfig()
    experts_config = ExpertsConfig(
        domains=tuple(Domain(f"d{index}", f"Domain {index}") for index in range(DOMAINS))
    )
    try:
        directory, service = build_services(
            session_factory(engine),
            clock,
            HotlineCalendar.default(),
            experts_config,
            config,
            LedgerConfig(),
        )
        for index in range(EXPERTS):
            name = f"Expert {index:02d}"
            await directory.add(
                name, f"PJSIP/expert{index}", [f"d{index % DOMAINS}", f"d{(index + 3) % DOMAINS}"]
            )
            away = NOW + timedelta(days=8 + index % 40, hours=1)
            await directory.absent(name, away, away + timedelta(hours=3), "bench")
        accounts = await _accounts(engine, CLIENTS)
        window = service.window
        start, end = NOW, NOW + timedelta(weeks=8, days=1)
        starts = slot_starts(config.policy, window, start, end, NOW)
        booked, full, seconds = await _book_all(service, accounts, bookings, starts)
        print(
            f"bookings, {CLIENTS} clients: {booked} booked + {full} refused full "
            f"in {seconds:.2f} s = {(booked + full) / seconds:,.0f} requests/s "
            f"({booked / seconds:,.0f} bookings/s)"
        )
        settle_heap()  # as `callrouter serve` does once started
        await _availability(service, start, end)
        await _rules_alone(service, directory, start, end)
    finally:
        await engine.dispose()


def _percentiles(durations: list[float]) -> str:
    durations = sorted(durations)
    return (
        f"p50 {statistics.median(durations):.1f} ms, "
        f"p99 {durations[int(len(durations) * 0.99) - 1]:.1f} ms"
    )


async def _availability(service: AppointmentService, start: datetime, end: datetime) -> None:
    """`AppointmentService.availability` (database reads included), then the route's JSON
    answer built from it and written as http/endpoint.py does; the process CPU says how much
    of the wall time is ours rather than waiting for the database or for other processes (load)."""
    durations: list[float] = []
    cpu: list[float] = []
    answers: list[float] = []
    answers_cpu: list[float] = []
    slots = 0
    load = os.getloadavg()[0]
    for query in range(QUERIES):
        domain = f"d{query % DOMAINS}"
        began, used = time.perf_counter(), time.process_time()
        found = await service.availability(domain, start, end)
        durations.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        began, used = time.perf_counter(), time.process_time()
        json_body(
            availability_answer(domain, service.policy.slot_length, found),
            service.window.timezone,
        )
        answers.append((time.perf_counter() - began) * 1000)
        answers_cpu.append((time.process_time() - used) * 1000)
        slots = len(found)
    print(
        f"availability, 8 weeks of one domain ({slots} slots, 10 experts each, "
        f"{EXPERTS} experts, {DOMAINS} domains): {_percentiles(durations)}, "
        f"max {max(durations):.1f} ms over {QUERIES} queries (target p99 <= 20)"
    )
    print(
        f"  process CPU per query: {_percentiles(cpu)} "
        f"(load average {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print(
        f"  the route's JSON answer on top: {_percentiles(answers)} "
        f"(process CPU {_percentiles(answers_cpu)})"
    )


async def _rules_alone(
    service: AppointmentService, directory: ExpertDirectory, start: datetime, end: datetime
) -> None:
    """The same answer without the database: what the pure rules cost on their own."""
    async with service.engine.connect() as connection:
        experts, booked = await domain_duty(
            connection, "d0", start, end + service.policy.slot_length, directory.hours_window
        )
    durations: list[float] = []
    for _ in range(QUERIES):
        began = time.perf_counter()
        availability(service.policy, service.window, experts, booked, start, end, NOW)
        durations.append((time.perf_counter() - began) * 1000)
    print(f"  of which the pure rules: {_percentiles(durations)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL, 'sqlite', or $CALLROUTER_TEST_POSTGRES_URL")
    parser.add_argument("--bookings", type=int, default=2000)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with bench_database(args.url) as url:
        asyncio.run(run(url, args.bookings))


if __name__ == "__main__":
    main()
