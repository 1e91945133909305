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
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorSettings

from ..support.live_hotline import SECRET, CuttingProxy, hotline_on, new_customer
from ..support.waits import until_async

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_22H = datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)
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


def waiting(simulator: PBXSimulator, queue: str) -> list[str]:
    return [caller["caller_id"] for caller in simulator.snapshot()["queues"][queue]["callers"]]


@contextlib.asynccontextmanager
async def simulator_and_proxy() -> AsyncIterator[tuple[PBXSimulator, CuttingProxy, int]]:
    """The simulator, the proxy and the proxy's port, where the router connects."""
    simulator = PBXSimulator(settings())
    await simulator.start()
    proxy = CuttingProxy(simulator.port)
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
        hotline_on(sqlite_url, port, TUESDAY_22H) as hotline,
    ):
        assert hotline.ledger is not None and hotline.ami is not None
        ledger = hotline.ledger
        account = await new_customer(hotline, "0611111111")
        for attempt in range(1, 4):
            proxy.armed = True
            simulator.place_call(CallerProfile("0611111111", "Anne", pass_digit="3"))

            async def cut(attempt: int = attempt) -> bool:
                return proxy.cuts == attempt

            await until_async(cut, "the link cut at the Redirect")

            async def failsafe(attempt: int = attempt) -> bool:
                return len(waiting(simulator, "coordinators")) == attempt

            await until_async(failsafe, "the fail-safe queued the caller to the coordinators")

            async def resolved() -> bool:
                connected = hotline.ami is not None and hotline.ami.connected
                return connected and await ledger.holds.pending() == []

            await until_async(resolved, "the hold resolved after the reconnect")
            assert waiting(simulator, "oncall") == []
            assert await ledger.balance(account) == 500, f"attempt {attempt}"
        assert await ledger.check() == [] and await ledger.check_holds() == []


async def test_a_redirect_that_arrived_keeps_its_hold_until_the_technician_confirms(
    sqlite_url: str,
) -> None:
    async with (
        simulator_and_proxy() as (simulator, proxy, port),
        hotline_on(sqlite_url, port, TUESDAY_22H) as hotline,
    ):
        assert hotline.ledger is not None and hotline.router is not None
        ledger = hotline.ledger
        account = await new_customer(hotline, "0622222222")
        proxy.armed, proxy.before_redirect = True, False
        simulator.place_call(CallerProfile("0622222222", "Bernard", pass_digit="3"))

        async def on_call() -> bool:
            return proxy.cuts == 1 and waiting(simulator, "oncall") == ["0622222222"]

        await until_async(on_call, "the caller waits for on-call, the answer lost")

        async def relinked() -> bool:
            return hotline.ami is not None and hotline.ami.connected

        await until_async(relinked, "the link back")
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

        await until_async(charged, "the hold posted on the confirmation")
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
        hotline_on(sqlite_url, port, TUESDAY_22H) as hotline,
    ):
        assert hotline.ledger is not None
        ledger = hotline.ledger
        account = await new_customer(hotline, "0633333333")
        simulator.place_call(CallerProfile("0633333333", "Chloé", pass_digit="3"))

        async def held() -> bool:
            return len(await ledger.holds.pending()) == 1 and waiting(simulator, "oncall") != []

        await until_async(held, "the caller waits for on-call, the price held")
        simulator.model.hangup(queued_channel(simulator, "oncall", "0633333333"))

        async def voided() -> bool:
            return await ledger.holds.pending() == []

        await until_async(voided, "the hold voided on the hang-up")
        assert await ledger.balance(account) == 500
        assert await ledger.check_holds() == []


async def test_holds_left_by_a_stopped_router_are_resolved_at_restart(sqlite_url: str) -> None:
    async with simulator_and_proxy() as (simulator, _, port):
        async with hotline_on(sqlite_url, port, TUESDAY_22H) as first:
            assert first.ledger is not None
            ledger = first.ledger
            gone = await new_customer(first, "0644444444")
            stays = await new_customer(first, "0655555555")
            simulator.place_call(CallerProfile("0644444444", "David", pass_digit="3"))
            simulator.place_call(CallerProfile("0655555555", "Élodie", pass_digit="3"))

            async def both_held() -> bool:
                return (
                    len(await ledger.holds.pending()) == 2
                    and len(waiting(simulator, "oncall")) == 2
                )

            await until_async(both_held, "both callers wait for on-call, their prices held")
        # The router is stopped; one caller gives up meanwhile, unseen.
        simulator.model.hangup(queued_channel(simulator, "oncall", "0644444444"))

        async with hotline_on(sqlite_url, port, TUESDAY_22H) as restarted:
            assert restarted.ledger is not None
            ledger = restarted.ledger

            async def resolved() -> bool:
                return len(await ledger.holds.pending()) == 1

            await until_async(resolved, "the leftover hold voided at the login")
            [kept] = await ledger.holds.pending()
            assert kept.account_number == stays
            assert await ledger.balance(gone) == 500
            # The caller still waiting keeps the hold; their hang-up voids it as usual.
            simulator.model.hangup(queued_channel(simulator, "oncall", "0655555555"))

            async def none_left() -> bool:
                return await ledger.holds.pending() == []

            await until_async(none_left, "the kept hold voided on the hang-up")
            assert await ledger.balance(stays) == 500
            assert await ledger.check() == [] and await ledger.check_holds() == []
