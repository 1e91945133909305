"""The queue actions of AMI (QueuePause, QueueAdd, ...), with app_queue's error texts."""

from __future__ import annotations

from callrouter.pbxsim.appqueue import AppQueue
from callrouter.pbxsim.calls import InboundCall, Stage
from callrouter.pbxsim.core import PBXCore
from callrouter.pbxsim.queues import Member, Queue


class QueueAdmin:
    def __init__(self, core: PBXCore, app_queue: AppQueue) -> None:
        self.core = core
        self.app_queue = app_queue

    def _matching(self, interface: str, queue_name: str | None) -> list[tuple[Queue, Member]]:
        if queue_name:
            queue = self.core.queues.get(queue_name)
            queues = [queue] if queue is not None else []
        else:
            queues = list(self.core.queues.values())
        return [(q, m) for q in queues if (m := q.member(interface)) is not None]

    def pause(
        self, interface: str, paused: bool, queue_name: str | None = None, reason: str = ""
    ) -> str | None:
        matched = self._matching(interface, queue_name)
        if not matched:
            return "Interface not found"
        for queue, member in matched:
            member.paused = paused
            member.paused_reason = reason if paused else ""
            if paused:
                member.last_pause = self.core.now()
            self.core.member_event("QueueMemberPause", queue, member)
        if not paused:
            self.core.later(0.0, self.app_queue.dispatch_all)
        return None

    def add(
        self,
        queue_name: str,
        interface: str,
        member_name: str = "",
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
    ) -> str | None:
        queue = self.core.queues.get(queue_name)
        if queue is None:
            return "Unable to add interface to queue: No such queue"
        if queue.member(interface) is not None:
            return "Unable to add interface: Already there"
        member = Member(
            interface,
            member_name or interface,
            self.core.now(),
            dynamic=True,
            penalty=penalty,
            paused=paused,
            paused_reason=reason if paused else "",
        )
        queue.members.append(member)
        self.core.member_event("QueueMemberAdded", queue, member)
        self.core.later(0.0, lambda: self.app_queue.dispatch(queue))
        return None

    def remove(self, queue_name: str, interface: str) -> str | None:
        queue = self.core.queues.get(queue_name)
        if queue is None:
            return "Unable to remove interface from queue: No such queue"
        member = queue.member(interface)
        if member is None:
            return "Unable to remove interface: Not there"
        if not member.dynamic:
            return "Unable to remove interface: Not dynamic"
        queue.members.remove(member)
        self.core.member_event("QueueMemberRemoved", queue, member)
        return None

    def penalty(self, interface: str, penalty: int, queue_name: str | None) -> str | None:
        matched = self._matching(interface, queue_name)
        if not matched:
            return "Invalid interface, queuename or penalty"
        for queue, member in matched:
            member.penalty = penalty
            self.core.member_event("QueueMemberPenalty", queue, member)
        return None

    def ringinuse(self, interface: str, ringinuse: bool, queue_name: str | None) -> str | None:
        matched = self._matching(interface, queue_name)
        if not matched:
            return "Invalid interface, queuename or ringinuse value"
        for queue, member in matched:
            member.ringinuse = ringinuse
            self.core.member_event("QueueMemberRinginuse", queue, member)
        return None

    def change_priority(
        self, queue_name: str, caller: str, priority: int, *, immediate: bool
    ) -> str | None:
        queue = self.core.queues.get(queue_name)
        if queue is None:
            return "Unable to change priority caller on queue: No such queue"
        entry = queue.entry(caller)
        if entry is None:
            return "Unable to change priority caller on queue: No such caller"
        queue.reprioritise(entry, priority, immediate=immediate)
        return None

    def withdraw(self, queue_name: str, caller: str, info: str) -> str | None:
        queue = self.core.queues.get(queue_name)
        call = self.core.owners.get(caller)
        if queue is None or not isinstance(call, InboundCall) or call.queue is not queue:
            return "Unable to request withdraw from queue: No such caller"
        if call.stage is not Stage.QUEUED:
            return "Unable to request withdraw from queue: No such caller"
        self.app_queue.leave(call, abandoned=True)
        call.leg.variables["QUEUE_WITHDRAW_INFO"] = info
        self.core.later(0.0, lambda: self.app_queue.after_queue(call, "WITHDRAW"))
        return None
