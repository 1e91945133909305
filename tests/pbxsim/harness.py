"""The simulated PBX on virtual time, with every event it emits kept for the test."""

from __future__ import annotations

from callrouter.ami import Message
from callrouter.pbxsim import CallerProfile, PBXModel, SimulatorSettings
from callrouter.pbxsim.scheduler import ManualScheduler

EPOCH = 1_795_433_938.0
ANNE = CallerProfile(
    "0611111111", "Anne Client", account="100200", pins=("1111", "2222"), pass_digit="1"
)
BERNARD = CallerProfile(
    "0622222222", "Bernard VIP", account="300400", pins=("9999",), pass_digit="3"
)


class Harness:
    def __init__(self, **overrides: object) -> None:
        values: dict[str, object] = {
            "router_wait": 5.0,
            "answer_delay": (2.0, 2.0),
            "talk_time": (30.0, 30.0),
            "patience": (600.0, 600.0),
            "seed": 3,
        }
        values.update(overrides)
        self.clock = ManualScheduler(EPOCH)
        self.model = PBXModel(SimulatorSettings(**values), self.clock)  # type: ignore[arg-type]
        self.events: list[Message] = []
        self.model.subscribe(self.events.append)

    def named(self, name: str, **headers: str) -> list[Message]:
        return [
            e
            for e in self.events
            if e.name == name and all(e.get(k) == v for k, v in headers.items())
        ]

    def announced(self, profile: CallerProfile) -> str:
        """Place a call and let the IVR read its digits and announce it; returns `;2`."""
        leg = self.model.place_call(profile)
        self.until("UserEvent", UserEvent="HotlineCall", Channel=leg)
        return leg

    def until(self, name: str, **headers: str) -> Message:
        """Run model time in small steps until the event comes (at most 10 minutes)."""
        seen = 0
        for _ in range(6000):
            for event in self.events[seen:]:
                if event.name == name and all(event.get(k) == v for k, v in headers.items()):
                    return event
            seen = len(self.events)
            self.clock.advance(0.1)
        raise AssertionError(f"no {name} {headers}")

    def route(self, leg: str, queue: str, priority: int = 0) -> None:
        assert self.model.setvar(leg, "QUEUE_PRIO", str(priority)) is None
        assert self.model.redirect(leg, f"queue-{queue}") is None
