"""Emergency billing over real TCP: the PBX simulator, the AMI link, the router, SQLite.

- the AMI link cut as the router sends its Redirect (the Redirect never reaches the PBX;
  the dialplan's fail-safe queues the caller to the closed coordinators' queue): nothing
  is charged, 3 times out of 3 (main debited the 100 points at routing every time, and
  nothing gave them back);
- the link cut after the Redirect went through: the caller waits for on-call, the hold is
  kept at the next login and posted when the technician confirms (OnCallConfirmed, sent
  here with the AMI UserEvent action on the caller's behalf, as real Asterisk allows).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from callrouter.clock import FakeClock
from callrouter.config import Config
from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorSettings
from callrouter.server.runtime import Hotline, PBXLink, build_app

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_22H = datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)
SECRET = "s3cret-for-tests"
#: Safety net only: every wait ends on something the system does.
LIMIT = 20.0


def settings() -> SimulatorSettings:
    # Model time runs 50x faster than real time; technicians never answer during a test.
    return SimulatorSettings(
        port=0,
        username="callrouter",
        secret=SECRET,
        router_wait=5.0,
        time_scale=0.02,
        login_failure_delay=0.0,
        answer_delay=(10_000.0, 10_000.0),
        patience=(100_000.0, 100_000.0),
        seed=11,
    )


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(LIMIT):
            while not await condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for: {what}") from None


@contextlib.asynccontextmanager
async def night_hotline(database_url: str, port: int) -> AsyncIterator[Hotline]:
    hotline = Hotline(
        config=Config(),
        database_url=database_url,
        pbx=PBXLink("127.0.0.1", port, "callrouter", SECRET),
        clock=FakeClock(TUESDAY_22H),
    )
    runner = web.AppRunner(build_app(hotline))
    await runner.setup()
    try:

        async def linked() -> bool:
            return hotline.ami is not None and hotline.ami.connected

        await until(linked, "PBX link up")
        yield hotline
    finally:
        await runner.cleanup()


async def prioritaire_customer(hotline: Hotline, caller_id: str) -> str:
    assert hotline.identity is not None and hotline.ledger is not None
    account = await hotline.identity.create_account("Claire Lefèvre", pin="903114")
    await hotline.identity.add_beneficiary(account.number, "Claire Lefèvre", caller_id)
    await hotline.ledger.credit(
        account.number, 500, reason="test", idempotency_key=f"test:{account.number}"
    )
    return account.number


def waiting(simulator: PBXSimulator, queue: str) -> list[str]:
    return [caller["caller_id"] for caller in simulator.snapshot()["queues"][queue]["callers"]]


class Proxy:
    """Between the router and the PBX. Armed with `before_redirect`, it hangs up on both
    sides instead of passing the router's Redirect on; armed without, it passes the
    Redirect and hangs up instead of passing the PBX's answer."""

    def __init__(self, pbx_port: int) -> None:
        self._pbx_port = pbx_port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.armed = False
        self.before_redirect = True
        self.cuts = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pbx_reader, pbx_writer = await asyncio.open_connection("127.0.0.1", self._pbx_port)
        upstream = asyncio.create_task(self._pump(reader, pbx_writer, b"Action: Redirect", True))
        downstream = asyncio.create_task(
            self._pump(pbx_reader, writer, b"Redirect successful", False)
        )
        self._tasks |= {upstream, downstream}
        await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        for task in (upstream, downstream):
            task.cancel()
        await asyncio.gather(upstream, downstream, return_exceptions=True)
        self._tasks -= {upstream, downstream}
        for side in (writer, pbx_writer):
            side.transport.abort()

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        marker: bytes,
        before: bool,
    ) -> None:
        while data := await reader.read(65536):
            if self.armed and self.before_redirect is before and marker in data:
                self.armed = False
                self.cuts += 1
                return
            writer.write(data)
            await writer.drain()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()


@contextlib.asynccontextmanager
async def simulator_and_proxy() -> AsyncIterator[tuple[PBXSimulator, Proxy, int]]:
    """The simulator, the proxy and the proxy's port, where the router connects."""
    simulator = PBXSimulator(settings())
    await simulator.start()
    proxy = Proxy(simulator.port)
    try:
        yield simulator, proxy, await proxy.start()
    finally:
        await proxy.stop()
        await simulator.stop()


async def test_the_link_cut_as_the_router_redirects_charges_nothing_3_times_of_3(
    sqlite_url: str,
) -> None:
    async with (
        simulator_and_proxy() as (simulator, proxy, port),
        night_hotline(sqlite_url, port) as hotline,
    ):
        assert hotline.ledger is not None and hotline.ami is not None
        ledger = hotline.ledger
        account = await prioritaire_customer(hotline, "0611111111")
        for attempt in range(1, 4):
            proxy.armed = True
            simulator.place_call(CallerProfile("0611111111", "Anne", pass_digit="3"))

            async def cut(attempt: int = attempt) -> bool:
                return proxy.cuts == attempt

            await until(cut, "the link cut at the Redirect")

            async def failsafe(attempt: int = attempt) -> bool:
                return len(waiting(simulator, "coordinators")) == attempt

            await until(failsafe, "the fail-safe queued the caller to the coordinators")

            async def resolved() -> bool:
                connected = hotline.ami is not None and hotline.ami.connected
                return connected and await ledger.holds.pending() == []

            await until(resolved, "the hold resolved after the reconnect")
            assert waiting(simulator, "oncall") == []
            assert await ledger.balance(account) == 500, f"attempt {attempt}"
        assert await ledger.check() == [] and await ledger.check_holds() == []


async def test_a_redirect_that_arrived_keeps_its_hold_until_the_technician_confirms(
    sqlite_url: str,
) -> None:
    async with (
        simulator_and_proxy() as (simulator, proxy, port),
        night_hotline(sqlite_url, port) as hotline,
    ):
        assert hotline.ledger is not None and hotline.router is not None
        ledger = hotline.ledger
        account = await prioritaire_customer(hotline, "0622222222")
        proxy.armed, proxy.before_redirect = True, False
        simulator.place_call(CallerProfile("0622222222", "Bernard", pass_digit="3"))

        async def on_call() -> bool:
            return proxy.cuts == 1 and waiting(simulator, "oncall") == ["0622222222"]

        await until(on_call, "the caller waits for on-call, the answer lost")

        async def relinked() -> bool:
            return hotline.ami is not None and hotline.ami.connected

        await until(relinked, "the link back")
        await hotline.router.settle()
        [pending] = await ledger.holds.pending()
        assert await ledger.balance(account) == 500

        # The technician presses the key: the dialplan's UserEvent, on the caller's side.
        _, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
        writer.write(
            (
                f"Action: Login\r\nUsername: callrouter\r\nSecret: {SECRET}\r\n\r\n"
                "Action: UserEvent\r\nUserEvent: OnCallConfirmed\r\n"
                f"CallerUniqueid: {pending.call}\r\nHold: {pending.hold_id}\r\n"
                "Technician: Local/agent5@agents\r\n\r\n"
            ).encode()
        )
        await writer.drain()

        async def charged() -> bool:
            return await ledger.balance(account) == 400

        await until(charged, "the hold posted on the confirmation")
        writer.close()
        assert await ledger.holds.pending() == []
        assert await ledger.check() == [] and await ledger.check_holds() == []


def queued_channel(simulator: PBXSimulator, queue: str, caller_id: str) -> str:
    [channel] = [
        caller["channel"]
        for caller in simulator.snapshot()["queues"][queue]["callers"]
        if caller["caller_id"] == caller_id
    ]
    return channel


async def test_a_caller_who_hangs_up_in_the_on_call_queue_is_charged_nothing(
    sqlite_url: str,
) -> None:
    async with (
        simulator_and_proxy() as (simulator, _, port),
        night_hotline(sqlite_url, port) as hotline,
    ):
        assert hotline.ledger is not None
        ledger = hotline.ledger
        account = await prioritaire_customer(hotline, "0633333333")
        simulator.place_call(CallerProfile("0633333333", "Chloé", pass_digit="3"))

        async def held() -> bool:
            return len(await ledger.holds.pending()) == 1 and waiting(simulator, "oncall") != []

        await until(held, "the caller waits for on-call, the price held")
        simulator.model.hangup(queued_channel(simulator, "oncall", "0633333333"))

        async def voided() -> bool:
            return await ledger.holds.pending() == []

        await until(voided, "the hold voided on the hang-up")
        assert await ledger.balance(account) == 500
        assert await ledger.check_holds() == []


async def test_holds_left_by_a_stopped_router_are_resolved_at_restart(sqlite_url: str) -> None:
    async with simulator_and_proxy() as (simulator, _, port):
        async with night_hotline(sqlite_url, port) as first:
            assert first.ledger is not None
            ledger = first.ledger
            gone = await prioritaire_customer(first, "0644444444")
            stays = await prioritaire_customer(first, "0655555555")
            simulator.place_call(CallerProfile("0644444444", "David", pass_digit="3"))
            simulator.place_call(CallerProfile("0655555555", "Élodie", pass_digit="3"))

            async def both_held() -> bool:
                return (
                    len(await ledger.holds.pending()) == 2
                    and len(waiting(simulator, "oncall")) == 2
                )

            await until(both_held, "both callers wait for on-call, their prices held")
        # The router is stopped; one caller gives up meanwhile, unseen.
        simulator.model.hangup(queued_channel(simulator, "oncall", "0644444444"))

        async with night_hotline(sqlite_url, port) as restarted:
            assert restarted.ledger is not None
            ledger = restarted.ledger

            async def resolved() -> bool:
                return len(await ledger.holds.pending()) == 1

            await until(resolved, "the leftover hold voided at the login")
            [kept] = await ledger.holds.pending()
            assert kept.account_number == stays
            assert await ledger.balance(gone) == 500
            # The caller still waiting keeps the hold; their hang-up voids it as usual.
            simulator.model.hangup(queued_channel(simulator, "oncall", "0655555555"))

            async def none_left() -> bool:
                return await ledger.holds.pending() == []

            await until(none_left, "the kept hold voided on the hang-up")
            assert await ledger.balance(stays) == 500
            assert await ledger.check() == [] and await ledger.check_holds() == []
