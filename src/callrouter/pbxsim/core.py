"""What every part of the simulated PBX shares: channels, the event stream, device states,
bridges, and the seeded coin that picks an order where Asterisk's own order varies."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

from callrouter.ami import Message
from callrouter.pbxsim import events as ev
from callrouter.pbxsim.calls import Owner
from callrouter.pbxsim.channels import Channel, ChannelFactory, HangupCause
from callrouter.pbxsim.queues import Member, MemberStatus, Queue
from callrouter.pbxsim.scheduler import Scheduler, Timer
from callrouter.pbxsim.settings import SimulatorSettings

EventSink = Callable[[Message], None]


class PBXCore:
    def __init__(
        self, settings: SimulatorSettings, scheduler: Scheduler, rng: random.Random
    ) -> None:
        self.settings = settings
        self.scheduler = scheduler
        self.rng = rng
        # Orders are drawn from their own stream, so that varying them does not change which
        # callers arrive or how long they talk for a given seed.
        self._orders = random.Random(rng.getrandbits(64))
        self.started_at = scheduler.now()
        self.channels: dict[str, Channel] = {}
        self.owners: dict[str, Owner] = {}
        self.queues: dict[str, Queue] = {}
        for name, members in settings.queues.items():
            queue = Queue(name, strategy=settings.strategy(name))
            queue.members = [Member(i, n, self.started_at) for i, n in members]
            self.queues[name] = queue
        self.device_use: dict[str, int] = {}
        self.in_call: set[str] = set()
        self.calls_placed = 0
        self._factory = ChannelFactory()
        self._sinks: list[EventSink] = []
        #: Called when a member may take a call again (device idle, unpaused, added).
        self.on_member_free: Callable[[], None] = lambda: None
        #: Whether anyone reads events of a privilege class (the AMI server narrows it to
        #: its sessions' classes): events nobody reads, DTMF above all, are not built.
        self.wants: Callable[[str], bool] = lambda privilege: True

    # ------------------------------------------------------------------ events and time

    def subscribe(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def unsubscribe(self, sink: EventSink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)

    def emit(self, message: Message) -> None:
        for sink in self._sinks:
            sink(message)

    def now(self) -> float:
        return self.scheduler.now()

    def later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.scheduler.call_later(delay, callback)

    def uniform(self, bounds: tuple[float, float]) -> float:
        return self.rng.uniform(*bounds)

    def coin(self) -> bool:
        """Which of two orders Asterisk's threads happen to produce this time."""
        return self._orders.random() < 0.5

    @staticmethod
    def cancel(*timers: Timer | None) -> None:
        for timer in timers:
            if timer is not None:
                timer.cancel()

    # ------------------------------------------------------------------ channels

    def new_pair(self, exten: str, context: str, linkedid: str | None) -> tuple[Channel, Channel]:
        one, two = self._factory.local_pair(exten, context, self.now(), linkedid)
        self.channels[one.name] = one
        self.channels[two.name] = two
        self.emit(ev.channel_event("Newchannel", ev.CALL, one))
        self.emit(ev.channel_event("Newchannel", ev.CALL, two))
        return one, two

    def own(self, owner: Owner, *channels: Channel) -> None:
        for channel in channels:
            self.owners[channel.name] = owner

    def alive(self, channel: Channel) -> bool:
        return channel.name in self.channels

    def hangup(self, channel: Channel, cause: HangupCause) -> None:
        if self.channels.pop(channel.name, None) is None:
            return
        self.owners.pop(channel.name, None)
        self.emit(ev.hangup(channel, cause))

    def pair_down(
        self,
        first: Channel,
        second: Channel,
        cause: HangupCause,
        *,
        from_dialplan: bool = False,
        second_cause: HangupCause = HangupCause.NORMAL_CLEARING,
    ) -> None:
        """A Local pair goes down as the traces show it. Hung up from outside (AMI, the
        far end): `HangupRequest` of the other half, `Hangup` of this one, then the other
        half's `SoftHangupRequest` and `Hangup`. Ended by its own dialplan (Hangup(), a
        Redirect nowhere): `SoftHangupRequest` of this half, `HangupRequest` of the other."""
        if from_dialplan:
            if self.alive(first):
                self.emit(ev.hangup_request(first, HangupCause.NORMAL_CLEARING, soft=True))
            if self.alive(second):
                self.emit(ev.hangup_request(second, cause))
            self.hangup(first, cause)
            self.hangup(second, cause)
            return
        if self.alive(second):
            self.emit(ev.hangup_request(second, cause))
        self.hangup(first, cause)
        if self.alive(second):
            self.emit(ev.hangup_request(second, HangupCause.NORMAL_CLEARING, soft=True))
        self.hangup(second, second_cause)

    # ------------------------------------------------------------------ bridges

    def new_bridge_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def bridge(self, first: Channel, second: Channel) -> str:
        bridge_id = self.new_bridge_id()
        self.emit(ev.bridge_event("BridgeCreate", bridge_id, 0))
        for count, channel in enumerate((first, second), start=1):
            channel.bridge_id = bridge_id
            self.emit(ev.bridge_event("BridgeEnter", bridge_id, count, channel))
        return bridge_id

    def leave_bridge(self, channel: Channel, remaining: int) -> None:
        if not channel.bridge_id:
            return
        self.emit(ev.bridge_event("BridgeLeave", channel.bridge_id, remaining, channel))
        channel.bridge_id = ""

    # ------------------------------------------------------------------ devices and members

    def member_status(self, interface: str) -> int:
        return MemberStatus.INUSE if self.device_use.get(interface) else MemberStatus.NOT_INUSE

    def member_event(self, name: str, queue: Queue, member: Member) -> None:
        status = self.member_status(member.interface)
        headers = [("Queue", queue.name), *member.headers(status, list_item=False)]
        self.emit(ev.event(name, ev.AGENT, headers))

    def memberships(self, interface: str) -> list[tuple[Queue, Member]]:
        found = []
        for queue in self.queues.values():
            member = queue.member(interface)
            if member is not None:
                found.append((queue, member))
        return found

    def device_up(self, interface: str) -> None:
        self.device_use[interface] = self.device_use.get(interface, 0) + 1
        if self.device_use[interface] == 1:
            for queue, member in self.memberships(interface):
                self.member_event("QueueMemberStatus", queue, member)

    def device_down(self, interface: str) -> None:
        left = self.device_use.get(interface, 0) - 1
        if left > 0:
            self.device_use[interface] = left
            return
        self.device_use.pop(interface, None)
        for queue, member in self.memberships(interface):
            self.member_event("QueueMemberStatus", queue, member)
        self.later(0.0, self.on_member_free)

    def available(self, member: Member) -> bool:
        if member.paused:
            return False
        return member.ringinuse or not self.device_use.get(member.interface)
