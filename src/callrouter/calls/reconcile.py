"""What the call records must say, given where the PBX holds the hotline's calls.

Plain synchronous functions, no I/O (`calls/recovery.py` reads the PBX and the database).
After every AMI login the router compares the calls the PBX holds in a queue, hearing a
message or told their PIN was wrong with their latest records:

- no record, and the dialplan's fail-safe queued the caller (HOTLINE_ROUTE empty or
  `failsafe`): the call was never routed by us (the router was down): a fail-safe record;
- no record, and HOTLINE_ROUTE names a target the router set: the decision was carried
  out but its record was lost (router killed before writing it): recovered from the
  channel's HOTLINE_* variables;
- a record saying the Redirect failed while the caller sits where it sent them: the link
  dropped after the Redirect took effect, before its answer: the record is corrected;
- a record whose Redirect failed while the fail-safe queued the caller: flagged fail-safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from callrouter.ami.message import Message
from callrouter.calls.records import CallRecordData, LatestRecord
from callrouter.passes import Pass
from callrouter.routing.decision import (
    MESSAGE_CONTEXT,
    PIN_RETRY_CONTEXT,
    QUEUE_CONTEXT_PREFIX,
    RoutingPolicy,
    Target,
    pass_from_digit,
)

#: The dialplan's own queue context (the `queue-<name>` contexts Goto it).
_QUEUE_APPLICATION_CONTEXT = "hotline-queue"
#: What HOTLINE_ROUTE holds when the dialplan, not the router, queued the caller.
FAILSAFE_ROUTES = frozenset({"", "failsafe"})
_TARGETS = frozenset(target.value for target in Target)
#: The channel variables read from each held call (Getvar), in this order.
VARIABLES = ("HOTLINE_ROUTE", "QUEUE_PRIO", "HOTLINE_ACCOUNT", "HOTLINE_PASS")
#: The caller_status of a record the router wrote without identifying the caller.
FAILSAFE_STATUS = "failsafe"
RECOVERED_STATUS = "recovered"


@dataclass(frozen=True)
class PlacedChannel:
    """A channel of the hotline where routing puts callers: a queue, or a message."""

    channel: str
    uniqueid: str
    linkedid: str
    caller_id: str
    #: The queue it waits in (or talks from); None: it hears a message.
    queue: str | None
    #: How long the channel has existed (CoreShowChannel's Duration).
    seconds: int


@dataclass(frozen=True)
class HeldCall:
    """A placed channel and the HOTLINE_* variables the PBX holds for it."""

    placed: PlacedChannel
    route: str
    queue_priority: int | None
    account: str | None
    pass_digit: str


@dataclass(frozen=True)
class CreateRecord:
    record: CallRecordData


@dataclass(frozen=True)
class ConfirmRedirect:
    record_id: int


@dataclass(frozen=True)
class FlagFailsafe:
    record_id: int


Fix = CreateRecord | ConfirmRedirect | FlagFailsafe


def placed_channel(item: Message) -> PlacedChannel | None:
    """A CoreShowChannel item, if the channel is in a queue, hearing a message or told its
    PIN was wrong."""
    context = item.get("Context") or ""
    if context.startswith(QUEUE_CONTEXT_PREFIX):
        queue: str | None = context.removeprefix(QUEUE_CONTEXT_PREFIX)
    elif context == _QUEUE_APPLICATION_CONTEXT:
        if item.get("Application") != "Queue":
            return None  # between the priorities before Queue(): missed until the next login
        # Queue(<name>,,,,<timeout>) in [hotline-queue].
        queue = (item.get("ApplicationData") or "").split(",", 1)[0]
    elif context in (MESSAGE_CONTEXT, PIN_RETRY_CONTEXT):
        # A message, or "code incorrect" before the account and PIN are asked again (about
        # 3 s, ample for a reconnect; once the caller keys again the Gosub'd contexts are
        # not looked at).
        queue = None
    else:
        return None
    uniqueid = item.get("Uniqueid") or ""
    channel = item.get("Channel") or ""
    if not uniqueid or not channel or queue == "":
        return None
    return PlacedChannel(
        channel=channel,
        uniqueid=uniqueid,
        linkedid=item.get("Linkedid") or uniqueid,
        caller_id=(item.get("CallerIDNum") or "").strip(),
        queue=queue,
        seconds=_seconds(item.get("Duration") or ""),
    )


def needs_variables(latest: LatestRecord | None) -> bool:
    """Whether the channel's variables can change anything: a call whose latest record
    is a fail-safe, or says its Redirect took effect and was no PIN retry, is settled."""
    if latest is None:
        return True
    if latest.failsafe:
        return False
    return not latest.redirected or latest.target == Target.PIN_RETRY.value


def held_call(placed: PlacedChannel, values: Sequence[str]) -> HeldCall:
    """`values` are the channel's VARIABLES, in order."""
    route, priority, account, pass_digit = (value.strip() for value in values)
    return HeldCall(
        placed=placed,
        route=route,
        queue_priority=int(priority) if priority.lstrip("-").isdigit() else None,
        account=account or None,
        pass_digit=pass_digit,
    )


def plan(
    held: Sequence[HeldCall],
    latest: Mapping[str, LatestRecord],
    *,
    now: datetime,
    window: str,
    policy: RoutingPolicy,
) -> list[Fix]:
    fixes: list[Fix] = []
    for call in held:
        record = latest.get(call.placed.uniqueid)
        # In a queue with no route of ours, or with our "ask the PIN again": only the
        # dialplan's fail-safe puts callers there.
        failsafe = call.placed.queue is not None and (
            call.route in FAILSAFE_ROUTES or call.route == Target.PIN_RETRY.value
        )
        if record is None:
            if failsafe:
                fixes.append(CreateRecord(_failsafe_record(call, now, window)))
            elif call.route in _TARGETS:
                fixes.append(CreateRecord(_recovered_record(call, now, window, policy)))
        elif failsafe:
            if record.failsafe:
                continue
            if not record.redirected:
                fixes.append(FlagFailsafe(record.id))
            elif record.target == Target.PIN_RETRY.value:
                # The caller keyed the PIN again while we were away.
                fixes.append(CreateRecord(_failsafe_record(call, now, window)))
        elif call.route == record.target and call.placed.queue == record.queue:
            if not record.redirected:
                fixes.append(ConfirmRedirect(record.id))
        elif record.target == Target.PIN_RETRY.value and call.route in _TARGETS:
            # The decision after a PIN retry was carried out; its record was lost.
            fixes.append(CreateRecord(_recovered_record(call, now, window, policy)))
    return fixes


def failsafe_record(
    *,
    channel: str,
    uniqueid: str,
    linkedid: str,
    caller_id: str,
    queue: str,
    arrived_at: datetime | None,
    now: datetime,
    window: str,
    waited_ms: float,
    reconciled: bool,
) -> CallRecordData:
    """The record of a call the dialplan queued by itself, no decision of ours on file."""
    return CallRecordData(
        channel=channel,
        uniqueid=uniqueid,
        linkedid=linkedid,
        caller_id=caller_id,
        account_number=None,
        caller_status=FAILSAFE_STATUS,
        chosen_pass=None,
        window=window,
        target=Target.COORDINATORS_QUEUE.value,
        queue=queue,
        queue_priority=0,
        reason="queued by the dialplan's fail-safe: no Redirect from the router in time",
        arrived_at=arrived_at,
        decided_at=now,
        latency_ms=waited_ms,
        failsafe=True,
        redirected=False,
        reconciled_at=now if reconciled else None,
    )


def _failsafe_record(call: HeldCall, now: datetime, window: str) -> CallRecordData:
    placed = call.placed
    assert placed.queue is not None, "the fail-safe queues callers"
    return failsafe_record(
        channel=placed.channel,
        uniqueid=placed.uniqueid,
        linkedid=placed.linkedid,
        caller_id=placed.caller_id,
        queue=placed.queue,
        arrived_at=now - timedelta(seconds=placed.seconds),
        now=now,
        window=window,
        waited_ms=0.0,
        reconciled=True,
    )


def _recovered_record(
    call: HeldCall, now: datetime, window: str, policy: RoutingPolicy
) -> CallRecordData:
    placed = call.placed
    chosen: Pass | None = pass_from_digit(call.pass_digit, policy.pass_digits)
    return CallRecordData(
        channel=placed.channel,
        uniqueid=placed.uniqueid,
        linkedid=placed.linkedid,
        caller_id=placed.caller_id,
        account_number=call.account,
        caller_status=RECOVERED_STATUS,
        chosen_pass=chosen.value if chosen is not None else None,
        window=window,
        target=call.route,
        queue=placed.queue,
        queue_priority=call.queue_priority if placed.queue is not None else None,
        reason="recovered from the PBX after a restart: the decision's record was lost",
        arrived_at=now - timedelta(seconds=placed.seconds),
        decided_at=now,
        latency_ms=0.0,
        reconciled_at=now,
    )


def _seconds(duration: str) -> int:
    """CoreShowChannel's Duration, HH:MM:SS; 0 when garbled."""
    parts = duration.split(":")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return 0
    hours, minutes, seconds = (int(part) for part in parts)
    return hours * 3600 + minutes * 60 + seconds
