"""A PIN spray against the throttle: does it hurt the guesser and spare the holders?

    python bench/pin_spray.py [--url sqlite|postgresql+asyncpg://...] [--attempts 10000]

1,000 accounts (the default), each with its holder's own line: half registered as a
confirmed beneficiary, half proven by one earlier good call; each holder also signed in
once on the web from their own address. Then an attacker sprays wrong PINs (and wrong web
codes) from 50 lines (and 50 addresses) over the accounts, as fast as a small robot would:
10,000 tries in one simulated hour (--minutes). The same spray is run a second time, in a
fresh database, with every account number replaced by an invented one. Printed:

- holders locked out who did not fail themselves: each holder, after the attack, calls
  from their own line with the right PIN and signs in from their own address (must be 0);
- how many tries were actually checked (argon2 run) and how many were throttled unchecked;
- whether each account answered every try exactly as its invented twin did (the answer the
  caller hears, and whether a hash was computed, i.e. the timing).

SQLite (a temporary file) by default; PostgreSQL when --url gives a server URL ("pg" uses
$CALLROUTER_TEST_POSTGRES_URL and a throw-away database).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from argon2 import PasswordHasher

from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.db.migrate import upgrade_async
from callrouter.identity.codes import CodeHasher, PinCheck
from callrouter.identity.errors import InvalidCredentials, SignInLocked
from callrouter.identity.service import IdentityService

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg import temporary_postgres_database

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SPRAYED_PINS = ("000000", "123456", "111111", "654321")
SPRAYED_CODES = ("Password-2026", "Azerty-123456")
PEPPER = b"bench-pepper-0123456789-0123456789"


class CountingHasher(CodeHasher):
    """Notes whether the last verification ran argon2 (a throttled try runs none)."""

    def __init__(self) -> None:
        super().__init__(
            web_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
            pin_pepper=PEPPER,
        )
        self.checks = 0

    async def verify_pin(self, stored_hash: str | None, pin: str) -> PinCheck:
        self.checks += 1
        return await super().verify_pin(stored_hash, pin)

    async def verify_web_code(self, stored_hash: str | None, code: str) -> bool:
        self.checks += 1
        return await super().verify_web_code(stored_hash, code)


@dataclass
class Spray:
    """What one run saw: per account index, the answers to its tries, in order."""

    answers: dict[int, list[tuple[str, bool]]] = field(default_factory=dict)
    checked: int = 0
    throttled: int = 0
    attacker_successes: int = 0
    holders_locked_out: int = 0


def _holder_line(index: int) -> str:
    return f"06{index:08d}"


def _holder_address(index: int) -> str:
    return f"10.{index // 250}.{index % 250}.1"


def _pin(index: int) -> str:
    """Each holder's own PIN, never one of the sprayed ones."""
    pin = f"{(index * 7919 + 424242) % 1_000_000:06d}"
    return "999999" if pin in SPRAYED_PINS else pin


async def run_spray(
    url: str, *, accounts: int, lines: int, attempts: int, minutes: int, invented: bool
) -> Spray:
    """One run on a migrated database at `url`; `invented`: the spray aims at numbers that
    do not exist, one twin per real account."""
    engine = create_engine(url)
    clock = FakeClock(START)
    hasher = CountingHasher()
    identity = IdentityService(session_factory(engine), clock, hasher=hasher)
    spray = Spray()
    try:
        numbers: list[str] = []
        for index in range(accounts):
            new = await identity.create_account(
                f"Holder {index}", pin=_pin(index), web_code=f"Right-code-{index:06d}"
            )
            numbers.append(new.number)
            if index % 2 == 0:
                await identity.add_beneficiary(new.number, "Holder", _holder_line(index))
            else:
                await identity.identify_caller(_holder_line(index), new.number, _pin(index))
            await identity.verify_web_code(
                new.number, f"Right-code-{index:06d}", _holder_address(index)
            )
        existing = set(numbers)
        targets = [_twin(number, existing) for number in numbers] if invented else numbers
        step = timedelta(minutes=minutes) / attempts
        for attempt in range(attempts):
            index = (attempt * 37) % accounts
            line = (attempt // 2) % lines  # each channel gets every line
            before = hasher.checks
            if attempt % 2 == 0:
                found = await identity.identify_caller(
                    f"07{line:08d}", targets[index], SPRAYED_PINS[attempt % len(SPRAYED_PINS)]
                )
                answer = found.status.value
                spray.attacker_successes += answer == "pin"
            else:
                answer = await _web_try(
                    identity, targets[index], SPRAYED_CODES[attempt % 2], f"192.0.2.{line}"
                )
                spray.attacker_successes += answer == "signed-in"
            hashed = hasher.checks > before
            spray.checked += hashed
            spray.throttled += not hashed
            spray.answers.setdefault(index, []).append((answer, hashed))
            clock.advance(step)
        for index, number in enumerate(numbers):
            by_phone = await identity.identify_caller(_holder_line(index), number, _pin(index))
            by_web = await _web_try(
                identity, number, f"Right-code-{index:06d}", _holder_address(index)
            )
            spray.holders_locked_out += by_phone.status.value != "pin" or by_web != "signed-in"
    finally:
        await engine.dispose()
    return spray


def _twin(number: str, existing: set[str]) -> str:
    """An 8-digit number that is no account, derived from a real one."""
    candidate = int(number)
    while str(candidate) in existing:
        candidate = 10_000_000 + (candidate * 31 + 7) % 90_000_000
    return str(candidate)


async def _web_try(identity: IdentityService, number: str, code: str, address: str) -> str:
    try:
        await identity.verify_web_code(number, code, address)
    except InvalidCredentials:
        return "401"
    except SignInLocked as locked:
        return f"429 until {locked.locked_until:%H:%M:%S}"
    return "signed-in"


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if url in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'spray.db'}"
        return
    if url == "pg":
        server = os.environ.get("CALLROUTER_TEST_POSTGRES_URL")
        if not server:
            raise SystemExit("--url pg needs CALLROUTER_TEST_POSTGRES_URL")
        with temporary_postgres_database(server) as temporary:
            yield temporary
        return
    yield url


async def _run(url: str, args: argparse.Namespace, invented: bool) -> Spray:
    await upgrade_async(url)
    return await run_spray(
        url,
        accounts=args.accounts,
        lines=args.lines,
        attempts=args.attempts,
        minutes=args.minutes,
        invented=invented,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="sqlite (default), pg, or a PostgreSQL URL")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--minutes", type=int, default=60, help="simulated length of the spray")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    runs = {}
    for invented in (False, True):
        with database(args.url) as url:
            runs[invented] = asyncio.run(_run(url, args, invented))
    real, twin = runs[False], runs[True]
    differing = [index for index in real.answers if real.answers[index] != twin.answers[index]]
    print(
        f"{args.attempts} wrong PINs and web codes from {args.lines} lines and addresses over "
        f"{args.accounts} accounts, in {args.minutes} simulated minutes"
    )
    print(f"  holders locked out who did not fail themselves: {real.holders_locked_out}")
    print(f"  attacker successes: {real.attacker_successes}")
    print(f"  tries checked (argon2 run): {real.checked}; throttled unchecked: {real.throttled}")
    print(
        f"  accounts answering exactly as their invented twin (answer and hashing): "
        f"{len(real.answers) - len(differing)} of {len(real.answers)}"
    )
    if real.holders_locked_out or differing or real.attacker_successes:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
