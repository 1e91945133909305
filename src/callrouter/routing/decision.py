"""Where a held caller goes: one pure function of the instant, the caller and the pass.

The rules come from the passes (seeds/000_0e15b6772b2a7f9e.txt) and the emergency service
(seeds/001_26f350c8b1308984.txt); the answer is exactly what the dialplan contract needs:
the channel variables to set, then the Redirect.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from callrouter.calendar import (
    HotlineCalendar,
    describe_fr,
    format_instant_fr,
    is_open,
    next_opening,
)
from callrouter.passes import Pass

#: Dialplan contexts of the contract (dialplans/extensions.conf).
MESSAGE_CONTEXT = "hotline-message"
PIN_RETRY_CONTEXT = "hotline-pin-retry"
QUEUE_CONTEXT_PREFIX = "queue-"

COORDINATORS_WINDOW = "coordinators"
ON_CALL_WINDOW = "on-call"

REFUSAL_FR = (
    "Nous ne parvenons pas à identifier votre compte de services. Vérifiez votre numéro de "
    "compte et votre code d'accès téléphonique, puis rappelez-nous."
)


class CallerStatus(enum.Enum):
    """What identification made of the caller."""

    RECOGNISED = "caller-id"  # a beneficiary's caller ID
    PIN_ACCEPTED = "pin"
    UNKNOWN = "unknown"
    WRONG_PIN = "wrong-pin"


@dataclass(frozen=True)
class Caller:
    status: CallerStatus
    account_number: str | None = None
    beneficiary: str | None = None
    #: None: not checked; False: the balance cannot pay this pass.
    can_pay: bool | None = None

    @property
    def identified(self) -> bool:
        return self.status in (CallerStatus.RECOGNISED, CallerStatus.PIN_ACCEPTED)


@dataclass(frozen=True)
class QueueLoad:
    members: int
    available: int
    waiting: int


class Target(enum.StrEnum):
    COORDINATORS_QUEUE = "coordinators-queue"
    ONCALL_QUEUE = "oncall-queue"
    CLOSED_MESSAGE = "closed-message"
    REFUSAL_MESSAGE = "refusal-message"
    PIN_RETRY = "pin-retry"
    INSUFFICIENT_BALANCE_MESSAGE = "insufficient-balance-message"


def _default_pass_digits() -> Mapping[str, Pass]:
    return MappingProxyType({"1": Pass.FOUR_HOURS, "2": Pass.APPOINTMENT, "3": Pass.PRIORITY})


def _default_priorities() -> Mapping[Pass, int]:
    return MappingProxyType({Pass.FOUR_HOURS: 0, Pass.APPOINTMENT: 0, Pass.PRIORITY: 10})


@dataclass(frozen=True)
class RoutingPolicy:
    """The configurable part of routing ([routing] in the configuration)."""

    pass_digits: Mapping[str, Pass] = field(default_factory=_default_pass_digits)
    #: The pass of a caller who pressed nothing or a digit that means no pass.
    default_pass: Pass = Pass.FOUR_HOURS
    #: Queue priority per pass; higher is served first (Pass Prioritaire, seeds/000).
    priorities: Mapping[Pass, int] = field(default_factory=_default_priorities)
    max_pin_attempts: int = 3
    coordinators_queue: str = "coordinators"
    oncall_queue: str = "oncall"
    closed_sound: str = "callrouter/closed-hours"
    refused_sound: str = "callrouter/refused"
    insufficient_balance_sound: str = "callrouter/insufficient-balance"

    def __post_init__(self) -> None:
        missing = [p.value for p in Pass if p not in self.priorities]
        if missing:
            raise ValueError(f"no queue priority for pass {', '.join(missing)}")
        if self.max_pin_attempts < 1:
            raise ValueError("max_pin_attempts must be at least 1")
        object.__setattr__(self, "pass_digits", MappingProxyType(dict(self.pass_digits)))
        object.__setattr__(self, "priorities", MappingProxyType(dict(self.priorities)))

    @property
    def normal_priority(self) -> int:
        return min(self.priorities.values())


@dataclass(frozen=True)
class RoutingDecision:
    target: Target
    #: The window the instant falls in: "coordinators" when they are open, else "on-call".
    window: str
    #: Short, English, for logs and the call record.
    reason: str
    context: str
    exten: str
    priority: int
    #: Setvar actions to send, in this order, before the Redirect.
    variables: tuple[tuple[str, str], ...]
    queue: str | None
    queue_priority: int | None
    #: What the caller hears, in French.
    message_fr: str | None


def pass_from_digit(digit: str, mapping: Mapping[str, Pass]) -> Pass | None:
    """The pass a DTMF digit stands for; None for nothing pressed or a digit with no pass."""
    return mapping.get(digit.strip())


def decide(
    now: datetime,
    calendar: HotlineCalendar,
    caller: Caller,
    chosen_pass: Pass | None,
    attempt: int,
    queues: Mapping[str, QueueLoad],
    policy: RoutingPolicy,
) -> RoutingDecision:
    """The target of a held call.

    Outside the coordinators' window only Pass Prioritaire opens the on-call service, while
    the on-call window is open (seeds/000: "Assistance d'urgence ... Non disponible" for 4H
    and RDV). A caller who cannot pay reaches a coordinator, who can help recharge, or
    hears why out of hours. (choice) A caller
    who could not be served at this hour anyway hears the closed-hours message before any
    identification failure: the hours are what they need to know.
    """
    effective_pass = chosen_pass or policy.default_pass
    coordinators_open = is_open(calendar.coordinators, now)
    window = COORDINATORS_WINDOW if coordinators_open else ON_CALL_WINDOW
    emergency_possible = (
        not coordinators_open and effective_pass is Pass.PRIORITY and is_open(calendar.on_call, now)
    )
    if not coordinators_open and not emergency_possible:
        return _closed(now, calendar, policy, window, effective_pass)
    if not caller.identified:
        return _unidentified(caller, attempt, policy, window)
    if caller.can_pay is False:
        if coordinators_open:
            # The coordinator can help the caller recharge the account.
            return _queue(
                Target.COORDINATORS_QUEUE,
                policy.coordinators_queue,
                policy.normal_priority,
                "insufficient-balance",
                window,
                queues,
                extra=(("HOTLINE_REASON", "insufficient-balance"),),
            )
        return _insufficient_balance(now, calendar, policy, window)
    if coordinators_open:
        return _queue(
            Target.COORDINATORS_QUEUE,
            policy.coordinators_queue,
            policy.priorities[effective_pass],
            f"pass-{effective_pass.value}",
            window,
            queues,
        )
    return _queue(
        Target.ONCALL_QUEUE,
        policy.oncall_queue,
        policy.priorities[Pass.PRIORITY],
        "emergency",
        window,
        queues,
    )


def _unidentified(
    caller: Caller, attempt: int, policy: RoutingPolicy, window: str
) -> RoutingDecision:
    if caller.status is CallerStatus.WRONG_PIN and attempt < policy.max_pin_attempts:
        return RoutingDecision(
            target=Target.PIN_RETRY,
            window=window,
            reason=f"wrong-pin, attempt {attempt} of {policy.max_pin_attempts}",
            context=PIN_RETRY_CONTEXT,
            exten="s",
            priority=1,
            variables=(("HOTLINE_ROUTE", Target.PIN_RETRY.value),),
            queue=None,
            queue_priority=None,
            message_fr=None,
        )
    reasons = {
        CallerStatus.WRONG_PIN: "wrong-pin, attempts exhausted",
        CallerStatus.UNKNOWN: "unknown-caller",
    }
    return _message(
        Target.REFUSAL_MESSAGE,
        policy.refused_sound,
        None,
        reasons[caller.status],
        window,
        REFUSAL_FR,
    )


def _closed(
    now: datetime,
    calendar: HotlineCalendar,
    policy: RoutingPolicy,
    window: str,
    effective_pass: Pass,
) -> RoutingDecision:
    coordinators = calendar.coordinators
    opens_at = next_opening(coordinators, now)
    text = (
        "Notre service d'assistance est actuellement fermé. Nos coordinateurs vous répondent "
        f"{describe_fr(coordinators)}. Prochaine ouverture : "
        f"{format_instant_fr(opens_at, coordinators.timezone)}."
    )
    if effective_pass is Pass.PRIORITY:
        reason = "closed-hours, on-call window closed"
    else:
        reason = f"closed-hours, no emergency service with pass-{effective_pass.value}"
        text += (
            " L'assistance d'urgence, la nuit, le week-end et les jours fériés, est réservée "
            "au Pass prioritaire."
        )
    return _message(Target.CLOSED_MESSAGE, policy.closed_sound, opens_at, reason, window, text)


def _insufficient_balance(
    now: datetime, calendar: HotlineCalendar, policy: RoutingPolicy, window: str
) -> RoutingDecision:
    coordinators = calendar.coordinators
    opens_at = next_opening(coordinators, now)
    text = (
        "Le solde de votre compte de Points Services ne permet pas de régler ce Pass. "
        f"Nos coordinateurs peuvent vous aider à le recharger {describe_fr(coordinators)}."
    )
    return _message(
        Target.INSUFFICIENT_BALANCE_MESSAGE,
        policy.insufficient_balance_sound,
        opens_at,
        "insufficient-balance",
        window,
        text,
    )


def _message(
    target: Target,
    sound: str,
    opens_at: datetime | None,
    reason: str,
    window: str,
    text: str,
) -> RoutingDecision:
    opens_at_epoch = "" if opens_at is None else str(int(opens_at.timestamp()))
    return RoutingDecision(
        target=target,
        window=window,
        reason=reason,
        context=MESSAGE_CONTEXT,
        exten="s",
        priority=1,
        variables=(
            ("HOTLINE_ROUTE", target.value),
            ("HOTLINE_MESSAGE", sound),
            ("HOTLINE_OPENS_AT", opens_at_epoch),
        ),
        queue=None,
        queue_priority=None,
        message_fr=text,
    )


def _queue(
    target: Target,
    queue: str,
    queue_priority: int,
    reason: str,
    window: str,
    loads: Mapping[str, QueueLoad],
    extra: tuple[tuple[str, str], ...] = (),
) -> RoutingDecision:
    load = loads.get(queue)
    if load is not None and load.members == 0:
        # Queued anyway: the escalation chain for an empty queue is a later issue.
        reason = f"{reason}; queue {queue} has no member"
    return RoutingDecision(
        target=target,
        window=window,
        reason=reason,
        context=f"{QUEUE_CONTEXT_PREFIX}{queue}",
        exten="s",
        priority=1,
        variables=(
            ("HOTLINE_ROUTE", target.value),
            *extra,
            ("QUEUE_PRIO", str(queue_priority)),
        ),
        queue=queue,
        queue_priority=queue_priority,
        message_fr=None,
    )


def with_hold(decision: RoutingDecision, hold_id: int) -> RoutingDecision:
    """An on-call decision whose price is held: the channel carries the hold's id, which
    the technician's confirmation sends back (HOTLINE_HOLD, the on-call contract)."""
    return replace(
        decision,
        reason=f"{decision.reason}; hold {hold_id}",
        variables=(*decision.variables, ("HOTLINE_HOLD", str(hold_id))),
    )


def joining_incident(decision: RoutingDecision, incident_id: int) -> RoutingDecision:
    """An on-call decision for a further call of the night: it joins the incident at no
    cost, so nothing is held and the confirmation posts nothing."""
    return replace(decision, reason=f"{decision.reason}; joins incident {incident_id}")
