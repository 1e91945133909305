"""Following a callback attempt's two legs through AMI events (pure: no I/O, no clock).

The expert's leg is an async `Originate` into our `[callback]` context; once the expert
answers, that channel announces the callback and dials the customer. Real Asterisk
(shared/ami-traces 05) shows the order this must cope with:

- `OriginateResponse` (its ActionID carries the attempt id) says how the expert's leg went:
  Reason 4 answered, 3 no answer, 5 busy, 0 failed. When it says answered it can come
  *after* the customer's `DialBegin` (05, customer busy), so facts about a channel of the
  callback context are kept until the response ties the channel to its attempt.
- `DialEnd` on the expert's channel gives the customer's `DialStatus`.
- `BridgeEnter` of the customer's channel and of the expert's channel into one bridge: the
  two are connected, which is when the guarantee is met (SPEC "Pass 4H"). The customer's
  channel is known by the bridge it shares (its DialBegin may have been missed while the
  link was down), so the tracker counts who is in each bridge while attempts are under way.
- `Hangup` of the expert's channel ends the attempt.

One `AttemptResult` per attempt: CONNECTED at the bridge (ended_at None), any other outcome
when the expert's leg ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from callrouter.ami.message import Message
from callrouter.callbacks.placing import AttemptResult
from callrouter.callbacks.rules import Outcome, customer_leg_outcome, expert_leg_outcome

#: The user event our `[callback]` context sends once the expert has answered.
ANSWERED_EVENT = "CallbackAnswered"

_TAG = re.compile(r"(?:^|-)callback-(\d+)$")


def action_id_tag(attempt_id: int) -> str:
    """The end of an Originate's ActionID that names its attempt (the database id, so it
    still means the same attempt for a restarted process)."""
    return f"callback-{attempt_id}"


def attempt_of_action(action_id: str) -> int | None:
    match = _TAG.search(action_id)
    return int(match[1]) if match else None


@dataclass
class _Leg:
    """What was seen of one expert channel (times are when the event was read)."""

    customer_channel: str | None = None
    dial_status: str | None = None
    customer_answered_at: datetime | None = None
    bridge: str | None = None
    #: When the second of the two entered their bridge.
    connected_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class _Attempt:
    channel: str | None = None
    expert_answered_at: datetime | None = None
    reported: bool = False


@dataclass
class LegTracker:
    """Feed it every AMI event; it answers with the results it can now tell."""

    #: Our dialplan contexts the expert's channel runs in once answered.
    contexts: frozenset[str] = frozenset({"callback"})
    attempt_of: Callable[[str], int | None] = attempt_of_action
    _attempts: dict[int, _Attempt] = field(default_factory=dict)
    _legs: dict[str, _Leg] = field(default_factory=dict)
    _attempt_by_channel: dict[str, int] = field(default_factory=dict)
    #: Channels in each bridge, and the expert's channel in it (while attempts are tracked).
    _bridge_size: dict[str, int] = field(default_factory=dict)
    _leg_in_bridge: dict[str, str] = field(default_factory=dict)

    def expect(self, attempt_id: int) -> None:
        """An Originate for this attempt is about to be sent."""
        self._attempts.setdefault(attempt_id, _Attempt())

    def channel_of(self, attempt_id: int) -> str | None:
        attempt = self._attempts.get(attempt_id)
        return attempt.channel if attempt else None

    def in_flight(self) -> list[int]:
        return list(self._attempts)

    def forget(self, attempt_id: int) -> None:
        attempt = self._attempts.pop(attempt_id, None)
        if attempt is not None and attempt.channel is not None:
            self._drop_channel(attempt.channel)
        if not self._attempts:
            self._bridge_size.clear()

    def resume(
        self, attempt_id: int, channel: str, *, bridged: bool, at: datetime
    ) -> list[AttemptResult]:
        """Found still up on the PBX after a reconnection or a restart: follow it again.

        Already bridged with the customer: connected, as seen now (its bridge was missed).
        Expected (`expect`) before the PBX was asked, what happened meanwhile counts too.
        """
        attempt = self._attempts.setdefault(attempt_id, _Attempt())
        # Events followed since `expect` may already tell (a bridge formed meanwhile).
        results = self._bind(attempt_id, channel)
        if not bridged or attempt.reported:
            return results
        attempt.reported = True
        return [
            AttemptResult(
                attempt_id=attempt_id,
                outcome=Outcome.CONNECTED,
                expert_answered_at=attempt.expert_answered_at,
                customer_answered_at=None,
                connected_at=at,
                ended_at=None,
            )
        ]

    def feed(self, message: Message, at: datetime) -> list[AttemptResult]:
        if not self._attempts:
            return []  # the hotline's own calls, while no callback is under way
        name = message.name
        if name == "OriginateResponse":
            return self._originate_response(message, at)
        if name == "UserEvent" and message.get("UserEvent") == ANSWERED_EVENT:
            attempt_id = _int(message.get("Attempt"))
            channel = message.get("Channel")
            if attempt_id is None or channel is None or attempt_id not in self._attempts:
                return []
            attempt = self._attempts[attempt_id]
            attempt.expert_answered_at = attempt.expert_answered_at or at
            return self._bind(attempt_id, channel)
        if name == "DialBegin":
            return self._dial_begin(message)
        if name == "DialEnd":
            return self._dial_end(message, at)
        if name == "BridgeEnter":
            return self._bridge_enter(message, at)
        if name in ("BridgeLeave", "BridgeDestroy"):
            self._bridge_left(message)
            return []
        if name == "Hangup":
            return self._hangup(message, at)
        return []

    # -- events ------------------------------------------------------------------------------

    def _originate_response(self, message: Message, at: datetime) -> list[AttemptResult]:
        attempt_id = self.attempt_of(message.get("ActionID") or "")
        if attempt_id is None or attempt_id not in self._attempts:
            return []
        attempt = self._attempts[attempt_id]
        outcome = expert_leg_outcome(_int(message.get("Reason")) or 0)
        if outcome is not None:
            return self._finish(attempt_id, outcome, at)
        attempt.expert_answered_at = attempt.expert_answered_at or at
        channel = message.get("Channel")
        return self._bind(attempt_id, channel) if channel else []

    def _dial_begin(self, message: Message) -> list[AttemptResult]:
        leg = self._leg(message)
        destination = message.get("DestChannel")
        if leg is not None and destination:
            leg.customer_channel = destination
        return []

    def _dial_end(self, message: Message, at: datetime) -> list[AttemptResult]:
        leg = self._leg(message)
        # The expert's own answer has no Channel (no leg); a resumed leg missed DialBegin.
        if leg is None or leg.customer_channel not in (None, message.get("DestChannel")):
            return []
        leg.dial_status = (message.get("DialStatus") or "").upper()
        if leg.dial_status == "ANSWER":
            leg.customer_answered_at = at
        return []

    def _bridge_enter(self, message: Message, at: datetime) -> list[AttemptResult]:
        channel = message.get("Channel") or ""
        bridge = message.get("BridgeUniqueid")
        if not bridge or not self._attempts:
            return []
        self._bridge_size[bridge] = self._bridge_size.get(bridge, 0) + 1
        leg = self._leg(message)
        if leg is not None:
            leg.bridge = bridge
            self._leg_in_bridge[bridge] = channel
        expert = self._leg_in_bridge.get(bridge)
        if expert is None or self._bridge_size[bridge] < 2:
            return []
        joined = self._legs[expert]
        joined.connected_at = joined.connected_at or at
        return self._evaluate(expert)

    def _bridge_left(self, message: Message) -> None:
        bridge = message.get("BridgeUniqueid") or ""
        left = self._bridge_size.get(bridge, 0) - 1
        if message.name == "BridgeDestroy" or left <= 0:
            self._bridge_size.pop(bridge, None)
            self._leg_in_bridge.pop(bridge, None)
        else:
            self._bridge_size[bridge] = left

    def _hangup(self, message: Message, at: datetime) -> list[AttemptResult]:
        channel = message.get("Channel") or ""
        leg = self._leg(message)
        if leg is None:
            return []
        leg.ended_at = at
        if channel not in self._attempt_by_channel and not self._awaiting_response():
            self._drop_channel(channel)
            return []
        return self._evaluate(channel)

    # -- state -------------------------------------------------------------------------------

    def _leg(self, message: Message) -> _Leg | None:
        """The facts kept about this event's channel: one tied to an attempt, or one of our
        context while some attempt still waits for its OriginateResponse."""
        channel = message.get("Channel")
        if not channel:
            return None
        leg = self._legs.get(channel)
        if leg is None and message.get("Context") in self.contexts and self._awaiting_response():
            leg = self._legs[channel] = _Leg()
        return leg

    def _awaiting_response(self) -> bool:
        return any(attempt.channel is None for attempt in self._attempts.values())

    def _bind(self, attempt_id: int, channel: str) -> list[AttemptResult]:
        self._attempts[attempt_id].channel = channel
        self._attempt_by_channel[channel] = attempt_id
        self._legs.setdefault(channel, _Leg())
        results = self._evaluate(channel)
        if not self._awaiting_response():
            # Facts of channels no attempt of ours claimed (another process's calls).
            for stray in [c for c in self._legs if c not in self._attempt_by_channel]:
                self._drop_channel(stray)
        return results

    def _evaluate(self, channel: str) -> list[AttemptResult]:
        attempt_id = self._attempt_by_channel.get(channel)
        if attempt_id is None:
            return []
        attempt, leg = self._attempts[attempt_id], self._legs[channel]
        results: list[AttemptResult] = []
        if not attempt.reported and leg.connected_at is not None:
            attempt.reported = True
            results.append(self._result(attempt_id, Outcome.CONNECTED, leg, ended_at=None))
        if leg.ended_at is not None:
            if not attempt.reported:
                results += self._finish(attempt_id, self._failure(leg), leg.ended_at)
            self.forget(attempt_id)
        return results

    def _failure(self, leg: _Leg) -> Outcome:
        """The expert's leg ended without the two being bridged."""
        if leg.dial_status is None or leg.dial_status == "ANSWER":
            # Hung up before or during the announcement, or the bridge never came.
            return Outcome.FAILED
        return customer_leg_outcome(leg.dial_status)

    def _finish(self, attempt_id: int, outcome: Outcome, at: datetime) -> list[AttemptResult]:
        attempt = self._attempts[attempt_id]
        channel = attempt.channel
        leg = self._legs.get(channel) if channel else None
        result = self._result(attempt_id, outcome, leg or _Leg(), ended_at=at)
        self.forget(attempt_id)
        return [] if attempt.reported else [result]

    def _result(
        self, attempt_id: int, outcome: Outcome, leg: _Leg, ended_at: datetime | None
    ) -> AttemptResult:
        return AttemptResult(
            attempt_id=attempt_id,
            outcome=outcome,
            expert_answered_at=self._attempts[attempt_id].expert_answered_at,
            customer_answered_at=leg.customer_answered_at,
            connected_at=leg.connected_at if outcome is Outcome.CONNECTED else None,
            ended_at=ended_at,
        )

    def _drop_channel(self, channel: str) -> None:
        leg = self._legs.pop(channel, None)
        self._attempt_by_channel.pop(channel, None)
        if leg is not None and leg.bridge is not None:
            self._leg_in_bridge.pop(leg.bridge, None)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
