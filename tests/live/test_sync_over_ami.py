"""The synchronisation over a real AMI link (the PBX simulator over TCP, our AMIClient)."""

from __future__ import annotations

from callrouter.ami.client import AMIClient
from callrouter.clock import FakeClock
from callrouter.live.state import LiveState
from callrouter.live.sync import LiveSync
from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorSettings

from ..support.waits import until
from .test_sync import Sleeper, members_of

SECRET = "s3cret-for-tests"


async def test_a_reload_without_event_is_caught_by_the_periodic_resync(
    clock: FakeClock,
) -> None:
    simulator = PBXSimulator(
        SimulatorSettings(
            port=0,
            username="callrouter",
            secret=SECRET,
            router_wait=5.0,
            time_scale=0.02,
            login_failure_delay=0.0,
            answer_delay=(1000.0, 1000.0),
            patience=(10_000.0, 10_000.0),
            seed=7,
        )
    )
    await simulator.start()
    client = AMIClient("127.0.0.1", simulator.port, "callrouter", SECRET)
    live = LiveState(clock)
    sleeper = Sleeper()
    sync = LiveSync(client, live, resync_interval=30, sleep=sleeper)
    undo = sync.attach()
    sync.start()
    try:
        simulator.place_call(CallerProfile("0611111111", "Anne", pass_digit="1"))
        await client.connect()
        await until(lambda: "coordinators" in live.queue_names(), "rebuilt after login")
        # `queue reload all` after queues.conf lost a member: Asterisk says nothing.
        coordinators = simulator.model.queues["coordinators"]
        gone = coordinators.members.pop()
        assert gone.name in members_of(live, "coordinators")
        await sleeper.tick()
        await until(lambda: gone.name not in members_of(live, "coordinators"), "resynced")
        assert members_of(live, "coordinators") == sorted(m.name for m in coordinators.members)
        assert live.calls().total == len(simulator.snapshot()["channels"])
    finally:
        for unsubscribe in undo:
            unsubscribe()
        await sync.close()
        await client.close()
        await simulator.stop()
