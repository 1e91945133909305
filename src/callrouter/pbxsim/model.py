"""The simulated PBX: our hotline dialplan, app_queue and the lab's agents and customers.

Plain synchronous Python on a `Scheduler`: every change emits AMI events (as `Message`s) to
the subscribed sinks, in the orders the Asterisk 22 traces show (and, where Asterisk's own
order varies, in either of them, picked by a seeded coin). The TCP side (`server.py`) and
tests both drive it; tests can run it on virtual time.

The parts: `core.py` (channels, events, devices), `hotline.py` (extensions.conf),
`appqueue.py` and `queue_admin.py` (app_queue), `originate.py` (callbacks and agents).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypedDict

from callrouter.ami import Message
from callrouter.pbxsim import events as ev
from callrouter.pbxsim.appqueue import AppQueue
from callrouter.pbxsim.callers import CallerMemory
from callrouter.pbxsim.calls import AgentOffer, InboundCall, OriginateRequest, OutboundCall
from callrouter.pbxsim.channels import Channel, HangupCause
from callrouter.pbxsim.core import EventSink, PBXCore
from callrouter.pbxsim.hotline import HotlineDialplan, dtmf_for, inbound_profile, inbound_target
from callrouter.pbxsim.originate import Originator
from callrouter.pbxsim.queue_admin import QueueAdmin
from callrouter.pbxsim.queues import Queue
from callrouter.pbxsim.scheduler import Scheduler, Timer
from callrouter.pbxsim.settings import CallerProfile, SimulatorSettings

__all__ = ["OriginateRequest", "PBXModel", "Snapshot"]


class CallerView(TypedDict):
    channel: str
    uniqueid: str
    caller_id: str
    priority: int
    wait: float


class MemberView(TypedDict):
    interface: str
    name: str
    paused: bool
    paused_reason: str
    status: int
    in_call: bool
    calls_taken: int


class QueueView(TypedDict):
    strategy: str
    callers: list[CallerView]
    members: list[MemberView]
    completed: int
    abandoned: int


class Snapshot(TypedDict):
    queues: dict[str, QueueView]
    channels: list[str]
    calls_placed: int


class PBXModel:
    def __init__(
        self, settings: SimulatorSettings, scheduler: Scheduler, rng: random.Random | None = None
    ) -> None:
        self.settings = settings
        self.scheduler = scheduler
        self.rng = rng or random.Random(settings.seed)
        self.core = PBXCore(settings, scheduler, self.rng)
        self.originator = Originator(self.core)
        self.app_queue = AppQueue(self.core, self.originator.outcome)
        self.core.on_member_free = self.app_queue.dispatch_all
        self.dialplan = HotlineDialplan(self.core, self.app_queue)
        self.admin = QueueAdmin(self.core, self.app_queue)
        self.globals: dict[str, str] = {}
        self._arrivals: _Arrivals | None = None
        self._callers = CallerMemory()
        #: Calls the traffic's callers placed again on their own (not drawn arrivals).
        self.redials = 0
        self.app_queue.on_caller_gone = self._caller_gone

    # ------------------------------------------------------------------ plumbing

    @property
    def started_at(self) -> float:
        return self.core.started_at

    @property
    def channels(self) -> dict[str, Channel]:
        return self.core.channels

    @property
    def queues(self) -> dict[str, Queue]:
        return self.core.queues

    @property
    def calls_placed(self) -> int:
        return self.core.calls_placed

    def subscribe(self, sink: EventSink) -> None:
        self.core.subscribe(sink)

    def unsubscribe(self, sink: EventSink) -> None:
        self.core.unsubscribe(sink)

    def emit(self, message: Message) -> None:
        """Send one event to every subscriber (the model's own events, and AMI UserEvents)."""
        self.core.emit(message)

    def now(self) -> float:
        return self.core.now()

    def member_status(self, interface: str) -> int:
        return self.core.member_status(interface)

    def in_call(self, interface: str) -> bool:
        return interface in self.core.in_call

    # ------------------------------------------------------------------ calls

    def place_call(self, profile: CallerProfile) -> str:
        """A caller dials the hotline now, through the trunk, and keys account, PIN and pass
        as a caller does; returns the `;2` channel the router will redirect."""
        call = self.dialplan.start(
            profile, context="from-trunk", did=self.settings.hotline_did, dtmf=dtmf_for(profile, 1)
        )
        return call.leg.name

    def originate(
        self, request: OriginateRequest, on_result: Callable[[bool], None] | None = None
    ) -> None:
        """AMI Originate. The outcome comes as an OriginateResponse event (async) or through
        `on_result` (synchronous Originate, which emits no OriginateResponse)."""
        inbound = inbound_target(request.channel)
        if inbound is not None:
            context, did = inbound
            self.dialplan.start(
                inbound_profile(request),
                context=context,
                did=did or self.settings.hotline_did,
                dtmf=request.variable("TEST_DTMF"),
                originate=request,
            )
            if on_result is not None:
                on_result(True)
            return
        if not request.channel.startswith("Local/") or "@" not in request.channel:
            self.originator.failed(request, on_result, reason=0)
            return
        exten, _, context = request.channel.removeprefix("Local/").partition("@")
        self.originator.originate(request, exten, context.split("/")[0], on_result)

    def redirect(self, channel_name: str, context: str) -> str | None:
        """AMI Redirect; returns an error message, or None for `Redirect successful`.

        Like Asterisk, the target is not validated (07-errors): an unknown context hangs the
        call up after the success response. Channels whose dialplan is not simulated (agent
        and customer legs, the caller's handset) are hung up the same way."""
        channel = self.core.channels.get(channel_name)
        if channel is None:
            return f"Channel does not exist: {channel_name}"
        owner = self.core.owners.get(channel_name)
        if isinstance(owner, InboundCall) and owner.leg is channel:
            self.dialplan.redirect(owner, context)
        else:
            self.hangup(channel_name)
        return None

    def setvar(self, channel_name: str | None, variable: str, value: str) -> str | None:
        if not channel_name:
            self.globals[variable] = value
            return None
        channel = self.core.channels.get(channel_name)
        if channel is None:
            return "No such channel"
        channel.variables[variable] = value
        self.core.emit(
            ev.channel_event(
                "VarSet", ev.DIALPLAN, channel, [("Variable", variable), ("Value", value)]
            )
        )
        return None

    def getvar(self, channel_name: str | None, variable: str) -> tuple[str | None, str]:
        """(error, value)."""
        if not channel_name:
            return None, self.globals.get(variable, "")
        channel = self.core.channels.get(channel_name)
        if channel is None:
            return "No such channel", ""
        return None, channel.variables.get(variable, "")

    def hangup(self, channel_name: str) -> str | None:
        channel = self.core.channels.get(channel_name)
        if channel is None:
            return "No such channel"
        owner = self.core.owners.get(channel_name)
        if isinstance(owner, InboundCall):
            if channel is owner.handset:
                self.dialplan.handset_hangs_up(owner)
            else:
                self.dialplan.leg_hung_up(owner)
        elif isinstance(owner, AgentOffer):
            if owner.call.connection is owner:
                self.app_queue.agent_hangs_up(owner, channel, HangupCause.UNKNOWN)
            else:
                self.app_queue.fail_offer(owner, "NOANSWER")
        elif isinstance(owner, OutboundCall):
            self.originator.hangup(owner, channel, HangupCause.UNKNOWN)
        else:
            self.core.hangup(channel, HangupCause.UNKNOWN)
        return None

    # ------------------------------------------------------------------ queue actions

    def queue_pause(
        self, interface: str, paused: bool, queue_name: str | None = None, reason: str = ""
    ) -> str | None:
        return self.admin.pause(interface, paused, queue_name, reason)

    def queue_add(
        self,
        queue_name: str,
        interface: str,
        member_name: str = "",
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
    ) -> str | None:
        return self.admin.add(queue_name, interface, member_name, penalty, paused, reason)

    def queue_remove(self, queue_name: str, interface: str) -> str | None:
        return self.admin.remove(queue_name, interface)

    def queue_penalty(self, interface: str, penalty: int, queue_name: str | None) -> str | None:
        return self.admin.penalty(interface, penalty, queue_name)

    def queue_ringinuse(
        self, interface: str, ringinuse: bool, queue_name: str | None
    ) -> str | None:
        return self.admin.ringinuse(interface, ringinuse, queue_name)

    def change_priority(
        self, queue_name: str, caller: str, priority: int, *, immediate: bool
    ) -> str | None:
        return self.admin.change_priority(queue_name, caller, priority, immediate=immediate)

    def withdraw(self, queue_name: str, caller: str, info: str) -> str | None:
        return self.admin.withdraw(queue_name, caller, info)

    # ------------------------------------------------------------------ traffic

    def start_traffic(self, calls_per_second: float, profiles: Sequence[CallerProfile]) -> None:
        """Poisson arrivals in model time: known profiles, plus `unknown_caller_share` of
        numbers nobody registered."""
        if calls_per_second <= 0:
            raise ValueError("the call rate must be positive")
        self.stop_traffic()
        known = {profile.caller_id: profile for profile in profiles}
        self._callers.track(known, self.now())
        # Arrival times are drawn on the model's timeline, not from whenever the previous
        # arrival ran: a late event loop catches up instead of lowering the rate asked.
        self._arrivals = _Arrivals(self.core, calls_per_second, partial(self._arrive, known))

    def _arrive(self, known: dict[str, CallerProfile]) -> None:
        profile = self._pick_caller(known)
        self._callers.called(profile.caller_id)
        self.place_call(profile)

    def stop_traffic(self) -> None:
        if self._arrivals is not None:
            self._arrivals.stop()
            self._arrivals = None

    def _caller_gone(self, call: InboundCall) -> None:
        """A traffic caller hung up: served ones stay away, others call back a few times."""
        caller = call.profile.caller_id
        if not call.patient or caller not in self._callers.in_call:
            return
        now = self.now()
        again = self._callers.hung_up(
            caller,
            served=call.served,
            now=now,
            retry_in=self.rng.uniform(*self._callers.rules.retry_after),
        )
        if again is not None and self._arrivals is not None:
            profile = call.profile

            def redial() -> None:
                if self._arrivals is not None:
                    self.redials += 1
                    self._callers.called(profile.caller_id)
                    self.place_call(profile)

            self.core.later(again - now, redial)

    def _pick_caller(self, known: dict[str, CallerProfile]) -> CallerProfile:
        if known and self.rng.random() >= self.settings.unknown_caller_share:
            # One of the known callers free to call, each as likely as the others. (A scan
            # of the population per call, once most were busy or away, was most of the
            # simulator's CPU at 10,000 customers and 400 calls/s.)
            caller = self._callers.draw(self.rng, self.now())
            if caller is not None:
                return known[caller]
        number = f"06{self.rng.randrange(10**8):08d}"
        return CallerProfile(number, "", pass_digit=self.rng.choice("123"))

    # ------------------------------------------------------------------ views

    def snapshot(self) -> Snapshot:
        now = self.now()
        queues: dict[str, QueueView] = {}
        for name, queue in self.core.queues.items():
            queues[name] = QueueView(
                strategy=queue.strategy,
                callers=[
                    CallerView(
                        channel=e.channel.name,
                        uniqueid=e.channel.uniqueid,
                        caller_id=e.channel.caller_num,
                        priority=e.priority,
                        wait=now - e.joined_at,
                    )
                    for e in queue.entries
                ],
                members=[
                    MemberView(
                        interface=m.interface,
                        name=m.name,
                        paused=m.paused,
                        paused_reason=m.paused_reason,
                        status=self.member_status(m.interface),
                        in_call=self.in_call(m.interface),
                        calls_taken=m.calls_taken,
                    )
                    for m in queue.members
                ],
                completed=queue.completed,
                abandoned=queue.abandoned,
            )
        return Snapshot(
            queues=queues, channels=list(self.core.channels), calls_placed=self.calls_placed
        )


class _Arrivals:
    """The traffic's Poisson arrivals, one timer at a time. An object rather than two
    closures calling each other, which made a reference cycle: the simulator leaves no
    cyclic garbage, so its serving process runs without the collector (callrouter.heap)."""

    __slots__ = ("_arrive", "_core", "_next_at", "_rate", "_timer")

    def __init__(self, core: PBXCore, rate: float, arrive: Callable[[], None]) -> None:
        self._core = core
        self._rate = rate
        self._arrive = arrive
        self._next_at = core.now()
        self._timer: Timer | None = None
        self._schedule()

    def _schedule(self) -> None:
        core = self._core
        self._next_at += core.rng.expovariate(self._rate)
        self._timer = core.later(self._next_at - core.now(), self._call)

    def _call(self) -> None:
        self._arrive()
        self._schedule()

    def stop(self) -> None:
        self._core.cancel(self._timer)
        self._timer = None
