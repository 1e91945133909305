"""An expert's live state, read from the PBX through the live view's queue members.

Never guessed: an expert whose phone is not a member of the experts' queue, or whose device
state the PBX reports as unknown or unavailable, is "unknown", not free.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from callrouter.experts.config import DEFAULT_QUEUE
from callrouter.experts.rules import Expert, on_duty
from callrouter.live.state import LiveState, QueueMember


class ExpertPresence(enum.StrEnum):
    FREE = "free"
    RINGING = "ringing"
    IN_CALL = "in-call"
    PAUSED = "paused"
    OFF_DUTY = "off-duty"
    UNKNOWN = "unknown"


#: Device states (callrouter.live.views.DEVICE_STATES) of a phone that is in a call.
_BUSY_STATES = frozenset({"in-use", "busy", "ringing-in-use", "on-hold"})


def presence_of(expert: Expert, member: QueueMember | None, now: datetime) -> ExpertPresence:
    """Off duty (hours, absences) first: an expert away is not rung whatever their phone
    says. Then what the PBX says of their queue member."""
    if not on_duty(expert, now):
        return ExpertPresence.OFF_DUTY
    if member is None:
        return ExpertPresence.UNKNOWN
    if member.in_call or member.state in _BUSY_STATES:
        return ExpertPresence.IN_CALL
    if member.paused:
        return ExpertPresence.PAUSED
    if member.state == "ringing":
        return ExpertPresence.RINGING
    if member.state == "idle":
        return ExpertPresence.FREE
    return ExpertPresence.UNKNOWN


def queue_members(live: LiveState, queue: str) -> Mapping[str, QueueMember]:
    """The members of `queue` by interface, as the PBX last reported them (none if the PBX
    has not listed that queue)."""
    view = live.queue(queue, limit=0)
    return {} if view is None else {member.interface: member for member in view.members}


def presences(
    experts: Sequence[Expert], live: LiveState, now: datetime, queue: str = DEFAULT_QUEUE
) -> dict[str, ExpertPresence]:
    """Each expert's presence, by name."""
    members = queue_members(live, queue)
    return {e.name: presence_of(e, members.get(e.interface), now) for e in experts}


def free_experts(
    experts: Sequence[Expert], live: LiveState, now: datetime, queue: str = DEFAULT_QUEUE
) -> list[Expert]:
    """The experts free to be rung now, the longest idle first (the PBX's `LastCall`; one
    who never took a call comes first), then by name."""
    members = queue_members(live, queue)
    free = [
        expert
        for expert in experts
        if presence_of(expert, members.get(expert.interface), now) is ExpertPresence.FREE
    ]
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(free, key=lambda e: (members[e.interface].last_call or never, e.name))
