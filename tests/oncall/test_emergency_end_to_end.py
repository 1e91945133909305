"""The two halves of the night service meet: the router holds the emergency's points, the
escalation runs inside the PBX (primary silent, secondary's voicemail declines), the
manager presses the key, and only then is the account charged, once."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.db.migrate import upgrade_async
from callrouter.oncall.roster import Layer
from callrouter.oncall.service import RosterService
from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorSettings

from ..support.live_hotline import SECRET, hotline_on, new_customer
from ..support.waits import until_async

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_22H = datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)
CALLER = "0622222222"


async def night_roster(url: str) -> None:
    """Primary never answers, the secondary is a voicemail, the manager confirms."""
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        roster = RosterService(
            session_factory(engine), FakeClock(TUESDAY_22H), HotlineCalendar.default().on_call
        )
        for name, number in (("T1", "0700000001"), ("T2", "0700000002"), ("T3", "0700000003")):
            await roster.add_person(name, number)
        for layer, name in ((Layer.PRIMARY, "T1"), (Layer.SECONDARY, "T2"), (Layer.MANAGER, "T3")):
            await roster.set_rotation(
                layer, [name], shift_days=7, handoff_at=time(8), first_handoff=date(2026, 11, 23)
            )
    finally:
        await engine.dispose()


async def test_an_emergency_is_charged_when_the_manager_confirms_after_the_escalation(
    sqlite_url: str,
) -> None:
    await night_roster(sqlite_url)
    simulator = PBXSimulator(
        SimulatorSettings(
            port=0,
            username="callrouter",
            secret=SECRET,
            time_scale=0.02,
            router_wait=5.0,
            login_failure_delay=0.0,
            answer_delay=(2.0, 2.0),
            patience=(100_000.0, 100_000.0),
            seed=11,
            queues={"coordinators": [], "experts": [], "oncall": []},
            technicians={"0700000001": "never", "0700000002": "voicemail"},
        )
    )
    await simulator.start()
    try:
        async with hotline_on(sqlite_url, simulator.port, TUESDAY_22H) as hotline:
            assert hotline.ledger is not None
            ledger = hotline.ledger
            account = await new_customer(hotline, CALLER)

            async def rota_on_the_pbx() -> bool:
                return len(simulator.snapshot()["queues"]["oncall"]["members"]) == 3

            await until_async(rota_on_the_pbx, "the roster's three layers in the on-call queue")
            simulator.place_call(CallerProfile(CALLER, "Bernard", pass_digit="3"))

            async def held() -> bool:
                return len(await ledger.holds.pending()) == 1

            await until_async(held, "the emergency's points held at routing")
            assert await ledger.balance(account) == 500

            async def charged() -> bool:
                return await ledger.balance(account) == 400

            await until_async(charged, "the hold posted when the manager pressed the key")
            assert await ledger.holds.pending() == []
            assert await ledger.check() == [] and await ledger.check_holds() == []
    finally:
        await simulator.stop()
