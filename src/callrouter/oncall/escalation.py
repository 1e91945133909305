"""The on-call escalation chain's rules, pure (issue 10, item 2).

Asterisk runs the chain, not callrouter: the technicians on call are members of the
on-call queue with a penalty per layer, the caller is queued allowing penalty 0 only (the
primary), and the queue rule widens that to each next layer after its delay. callrouter
only keeps the members equal to the roster; so an emergency keeps escalating while
callrouter is away. This module says which members the queue must have, what to change
to get there, the queue rule Asterisk reads, and which step a caller has reached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from callrouter.oncall.roster import Layer, OnCallTeam

#: The rule of queuerules.conf the dialplan queues emergencies with.
ESCALATION_RULE = "oncall-escalation"
#: The dialplan context whose extensions dial a technician and ask them to confirm.
TECHNICIAN_CONTEXT = "oncall-technician"
#: Layers in escalation order; a layer's penalty is its place in it.
ESCALATION_ORDER = (Layer.PRIMARY, Layer.SECONDARY, Layer.MANAGER)

_NUMBER = re.compile(r"\+?[0-9]{2,20}")
_PJSIP = re.compile(r"PJSIP/([A-Za-z0-9_.-]{1,64})")


def penalty_of(layer: Layer) -> int:
    return ESCALATION_ORDER.index(layer)


@dataclass(frozen=True)
class EscalationPolicy:
    """`delays[i]` is how many seconds a caller waits before layer i + 1 rings too (the
    secondary after 30 s, the manager after 60 s). A pass of the chain lasts
    `pass_seconds`; after `passes` passes the caller is offered to leave a message. The
    dialplan's ONCALL_PASS_SECS and ONCALL_PASSES must say the same (tests check the
    shipped files)."""

    delays: tuple[int, ...] = (30, 60)
    passes: int = 2
    pass_seconds: int = 90

    def __post_init__(self) -> None:
        if len(self.delays) != len(ESCALATION_ORDER) - 1:
            raise ValueError(
                f"the escalation needs {len(ESCALATION_ORDER) - 1} delays (secondary, then manager)"
            )
        if any(delay < 1 for delay in self.delays) or list(self.delays) != sorted(set(self.delays)):
            raise ValueError("escalation delays are whole seconds, increasing, from 1")
        if self.passes < 1:
            raise ValueError("the chain runs at least once")
        if self.pass_seconds <= self.delays[-1]:
            raise ValueError("a pass must last longer than the last escalation delay")

    def layer_after(self, waited: float) -> Layer:
        """The widest layer a caller who waited `waited` seconds in this pass may reach."""
        reached = sum(1 for delay in self.delays if waited > delay)
        return ESCALATION_ORDER[reached]


def queue_rules(policy: EscalationPolicy) -> str:
    """queuerules.conf for `policy`: dialplans/queuerules.conf is this for the defaults."""
    lines = [
        "; callrouter on-call escalation (app_queue rules). Made by `callrouter oncall",
        "; queuerules` from [oncall] escalation_delays of callrouter.toml: keep the two equal.",
        "; The dialplan queues emergencies with QUEUE_MAX_PENALTY=0 and QUEUE_RAISE_PENALTY=0",
        "; (the primary alone). Each line lets app_queue ring one more layer once that many",
        "; seconds have passed (checked at the start of each ring round: timeout + retry of",
        "; queues.conf), and raises the layers before it to the same penalty: ringall rings",
        "; the lowest penalty first and the next only once those legs are gone, so without the",
        "; raise an unanswered primary, ringing to the round's end, would hide the others.",
        "",
        f"[{ESCALATION_RULE}]",
    ]
    lines += [
        f"penaltychange => {delay},{penalty},,{penalty}"
        for penalty, delay in enumerate(policy.delays, start=1)
    ]
    return "\n".join(lines) + "\n"


def member_interface(contact: str) -> str | None:
    """The queue member that reaches a technician's contact, or None if the dialplan cannot
    dial it: a phone number goes through the trunk, `PJSIP/<endpoint>` to that endpoint.
    Both through [oncall-technician], which asks for the confirmation key."""
    contact = contact.strip()
    if _NUMBER.fullmatch(contact):
        return f"Local/{contact}@{TECHNICIAN_CONTEXT}"
    endpoint = _PJSIP.fullmatch(contact)
    if endpoint:
        return f"Local/pjsip-{endpoint.group(1)}@{TECHNICIAN_CONTEXT}"
    return None


@dataclass(frozen=True)
class Member:
    interface: str
    name: str
    penalty: int
    layer: Layer


def wanted_members(team: OnCallTeam) -> tuple[dict[str, Member], list[str]]:
    """The members the on-call queue must have for `team`, and the names of technicians
    whose contact cannot be dialled. Someone on two layers rings from the first."""
    wanted: dict[str, Member] = {}
    unreachable: list[str] = []
    for layer in ESCALATION_ORDER:
        technician = getattr(team, layer.value)
        if technician is None:
            continue
        interface = member_interface(technician.contact)
        if interface is None:
            unreachable.append(technician.name)
        elif interface not in wanted:
            wanted[interface] = Member(interface, technician.name, penalty_of(layer), layer)
    return wanted, unreachable


@dataclass(frozen=True)
class MemberChanges:
    add: tuple[Member, ...] = ()
    remove: tuple[str, ...] = ()
    penalty: tuple[Member, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.add or self.remove or self.penalty)


def member_changes(current: Mapping[str, int], wanted: Mapping[str, Member]) -> MemberChanges:
    """What turns the queue's members (`current`: interface -> penalty) into `wanted`.
    Applying it twice changes nothing the second time: programming is idempotent."""
    return MemberChanges(
        add=tuple(member for interface, member in wanted.items() if interface not in current),
        remove=tuple(interface for interface in current if interface not in wanted),
        penalty=tuple(
            member
            for interface, member in wanted.items()
            if interface in current and current[interface] != member.penalty
        ),
    )


def layer_of_penalty(penalty: int) -> Layer | None:
    return ESCALATION_ORDER[penalty] if 0 <= penalty < len(ESCALATION_ORDER) else None
