"""AMI Originate towards the lab's `[agents]` and `[customers]` (callbacks and calls to
technicians), with the outcomes and OriginateResponse reasons of ami-traces 05.

A callback placed by callrouter (CALLBACK_ATTEMPT set, callbacks/pbx.py) runs our
`[callback]` (dialplans/extensions.conf) once the expert answers: UserEvent(CallbackAnswered),
the announcement, then the customer's Dial; the lab's `[callback]` (traces 05) dials at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from callrouter.ami import Message
from callrouter.pbxsim import events as ev
from callrouter.pbxsim.calls import (
    OriginateRequest,
    OutboundCall,
    Outcome,
    parse_caller_id,
    to_float,
    wait_seconds,
)
from callrouter.pbxsim.channels import Channel, ChannelState, HangupCause
from callrouter.pbxsim.core import PBXCore

# [agents] matches _age[n]t. : "agent" followed by at least one character.
_AGENT_EXTEN = re.compile(r"^agent.+$")
_DIGITS = re.compile(r"^\d+$")
_BEHAVIOURS = {"never": Outcome.NEVER, "busy": Outcome.BUSY}

OnResult = Callable[[bool], None] | None


def originate_response(
    request: OriginateRequest,
    response: str,
    channel: str,
    reason: int,
    uniqueid: str,
    number: str,
    name: str,
) -> Message:
    headers: list[tuple[str, str]] = []
    if request.action_id is not None:
        headers.append(("ActionID", request.action_id))
    headers += [("Response", response), ("Channel", channel)]
    if request.application:
        headers += [("Application", request.application), ("Data", request.data)]
    else:
        headers += [("Context", request.context), ("Exten", request.exten)]
    headers += [
        ("Reason", str(reason)),
        ("Uniqueid", uniqueid),
        ("CallerIDNum", number),
        ("CallerIDName", name),
    ]
    return ev.event("OriginateResponse", ev.CALL, headers)


def originate_success(request: OriginateRequest, channel: Channel) -> Message:
    return originate_response(
        request,
        "Success",
        channel.name,
        4,
        channel.uniqueid,
        channel.caller_num,
        channel.caller_name,
    )


class Originator:
    def __init__(self, core: PBXCore) -> None:
        self.core = core
        self._endpoints = [
            (context, re.compile(pattern), _BEHAVIOURS[behaviour])
            for context, pattern, behaviour in core.settings.endpoints
        ]

    def outcome(self, exten: str, context: str) -> tuple[Outcome, float]:
        """How the lab's [agents] and [customers] answer (configs/extensions.conf), with
        the never-answering and busy ones of `settings.endpoints`."""
        for where, pattern, outcome in self._endpoints:
            if where == context and pattern.fullmatch(exten):
                return outcome, 0.0
        answer = self.core.settings.answer_delay
        if context == "oncall-technician":
            if self.core.settings.technicians.get(exten, "confirms") == "never":
                return Outcome.NEVER, 0.0
            return Outcome.ANSWER, self.core.uniform(answer)
        if (context == "agents" and _AGENT_EXTEN.match(exten)) or (
            context == "customers" and _DIGITS.match(exten)
        ):
            return Outcome.ANSWER, self.core.uniform(answer)
        return Outcome.INVALID, 0.0

    def originate(
        self, request: OriginateRequest, exten: str, context: str, on_result: OnResult
    ) -> None:
        core = self.core
        interface = f"Local/{exten}@{context}"
        one, two = core.new_pair(exten, context, None)
        # Asterisk sets the Originate's variables on both halves (traces 05, VarSet events).
        for channel in (one, two):
            channel.variables.update(request.variables)
        out = OutboundCall(request, on_result, interface, one, two)
        core.own(out, one, two)
        number, name = parse_caller_id(request.caller_id)
        outcome, delay = self.outcome(exten, context)
        if outcome is Outcome.INVALID:
            core.hangup(two, HangupCause.UNKNOWN)
            self.failed(request, on_result, reason=0)
            core.hangup(one, HangupCause.UNKNOWN)
            return
        if request.caller_id:
            for channel in (one, two):
                channel.set_caller(number, name)
                channel.set_connected(number, name)
        core.emit(
            ev.dial_event("DialBegin", ev.CALL, None, one, [("DialString", f"{exten}@{context}")])
        )
        if outcome is Outcome.BUSY or (context == "agents" and core.device_use.get(interface)):
            # ringinuse=no for people too: an agent already on a call does not pick up.
            core.later(0.0, lambda: self._busy(out))
            return
        one.state = ChannelState.RINGING
        core.emit(ev.channel_event("Newstate", ev.CALL, one))
        core.emit(ev.dial_event("DialState", ev.CALL, None, one, [("DialStatus", "RINGING")]))
        core.device_up(interface)
        out.holds_device = True
        if outcome is Outcome.ANSWER and delay <= request.timeout:
            out.timer = core.later(delay, lambda: self._answered(out))
        else:
            out.timer = core.later(request.timeout, lambda: self._no_answer(out))

    def failed(self, request: OriginateRequest, on_result: OnResult, reason: int) -> None:
        if request.asynchronous:
            unknown = "<unknown>"
            self.core.emit(
                originate_response(
                    request, "Failure", request.channel, reason, unknown, unknown, unknown
                )
            )
        if on_result is not None:
            on_result(False)

    def _busy(self, out: OutboundCall) -> None:
        core = self.core
        out.two.state = ChannelState.BUSY
        core.emit(ev.channel_event("Newstate", ev.CALL, out.two))
        core.emit(ev.dial_event("DialEnd", ev.CALL, None, out.one, [("DialStatus", "BUSY")]))
        core.hangup(out.two, HangupCause.USER_BUSY)
        self.failed(out.request, out.on_result, reason=5)
        core.hangup(out.one, HangupCause.UNKNOWN)

    def _no_answer(self, out: OutboundCall) -> None:
        self.failed(out.request, out.on_result, reason=3)
        self.core.pair_down(out.two, out.one, HangupCause.NO_ANSWER, from_dialplan=True)
        self._release_device(out)

    def _answered(self, out: OutboundCall) -> None:
        core, request, one, two = self.core, out.request, out.one, out.two
        out.answered = True
        two.state, two.priority = ChannelState.UP, 4
        core.emit(ev.channel_event("Newstate", ev.CALL, two))
        if request.asynchronous:
            core.emit(originate_success(request, one))
        if out.on_result is not None:
            out.on_result(True)
        one.state = ChannelState.UP
        core.emit(ev.channel_event("Newstate", ev.CALL, one))
        core.emit(ev.dial_event("DialEnd", ev.CALL, None, one, [("DialStatus", "ANSWER")]))
        if request.application:
            one.application, one.application_data = request.application, request.data
            stay = wait_seconds(request) or core.uniform(core.settings.talk_time)
            out.timer = core.later(stay, lambda: self.done(out))
        elif request.context == "callback" and _DIGITS.match(request.exten):
            one.context, one.exten, one.priority = "callback", request.exten, 4
            one.set_caller(core.settings.hotline_did, "Hotline")
            out.timer = core.later(self._announce(out), lambda: self._dial_customer(out))
        else:
            out.timer = core.later(0.0, lambda: self.done(out))

    def _announce(self, out: OutboundCall) -> float:
        """Our [callback]: ties the channel to its attempt, then the expert hears what the
        call is. Returns how long that plays."""
        attempt = out.request.variable("CALLBACK_ATTEMPT")
        if not attempt:
            return 0.0
        one, exten = out.one, out.request.exten
        self.core.emit(
            ev.user_event(one, "CallbackAnswered", [("Attempt", attempt), ("Number", exten)])
        )
        appointment = out.request.variable("CALLBACK_ANNOUNCEMENT") == "appointment"
        sound = "callrouter/annonce-rendez-vous" if appointment else "callrouter/annonce-rappel"
        return self.core.settings.prompts.get(sound, 0.0)

    def _dial_customer(self, out: OutboundCall) -> None:
        core = self.core
        customer = out.request.exten
        one = out.one
        b1, b2 = core.new_pair(customer, "customers", one.linkedid)
        core.own(out, b1, b2)
        out.customer = (b1, b2)
        caller_name = one.connected_name
        for channel in (b1, b2):
            channel.set_caller(customer, caller_name)
            channel.set_connected(core.settings.hotline_did, "Hotline")
        core.emit(
            ev.dial_event("DialBegin", ev.CALL, one, b1, [("DialString", f"{customer}@customers")])
        )
        outcome, delay = self.outcome(customer, "customers")
        if outcome is Outcome.BUSY:
            b2.state = ChannelState.BUSY
            core.emit(ev.channel_event("Newstate", ev.CALL, b2))
            core.emit(ev.dial_event("DialEnd", ev.CALL, one, b1, [("DialStatus", "BUSY")]))
            core.hangup(b1, HangupCause.UNKNOWN)
            core.hangup(b2, HangupCause.USER_BUSY)
            self.done(out)
            return
        b1.state = ChannelState.RINGING
        core.emit(ev.channel_event("Newstate", ev.CALL, b1))
        core.emit(ev.dial_event("DialState", ev.CALL, one, b1, [("DialStatus", "RINGING")]))
        ring_limit = to_float(
            out.request.variable("CALLBACK_RING_SECS"), core.settings.callback_ring_time
        )
        if outcome is Outcome.ANSWER and delay <= ring_limit:
            out.timer = core.later(delay, lambda: self._customer_answers(out))
        else:
            out.timer = core.later(ring_limit, lambda: self._customer_no_answer(out))

    def _customer_no_answer(self, out: OutboundCall) -> None:
        assert out.customer is not None
        b1, b2 = out.customer
        core = self.core
        core.emit(ev.dial_event("DialEnd", ev.CALL, out.one, b1, [("DialStatus", "NOANSWER")]))
        core.hangup(b1, HangupCause.UNKNOWN)
        self.done(out)
        core.hangup(b2, HangupCause.UNKNOWN)

    def _customer_answers(self, out: OutboundCall) -> None:
        assert out.customer is not None
        b1, b2 = out.customer
        core = self.core
        b2.state, b2.priority = ChannelState.UP, 3
        core.emit(ev.channel_event("Newstate", ev.CALL, b2))
        b1.state = ChannelState.UP
        core.emit(ev.channel_event("Newstate", ev.CALL, b1))
        core.emit(ev.dial_event("DialEnd", ev.CALL, out.one, b1, [("DialStatus", "ANSWER")]))
        out.bridge_id = core.bridge(b1, out.one)
        talk = to_float(out.request.variable("CUSTOMER_TALK_SECS"), 0.0) or core.uniform(
            core.settings.talk_time
        )
        out.timer = core.later(talk, lambda: self.hangup(out, b2, HangupCause.NORMAL_CLEARING))

    def done(self, out: OutboundCall) -> None:
        """The agent's half finishes its dialplan: both agent channels hang up."""
        self.core.cancel(out.timer)
        self.core.pair_down(out.one, out.two, HangupCause.NORMAL_CLEARING, from_dialplan=True)
        self._release_device(out)

    def hangup(self, out: OutboundCall, target: Channel, cause: HangupCause) -> None:
        """A leg of an originated call hangs up (AMI Hangup, or the customer ends the talk);
        the others follow, each leaving the bridge first."""
        core = self.core
        core.cancel(out.timer)
        if not out.answered:
            self.failed(out.request, out.on_result, reason=1)
        legs = [*(out.customer or ()), out.one, out.two]
        self._drop(target, cause)
        for channel in legs:
            if channel is not target:
                self._drop(channel, HangupCause.NORMAL_CLEARING)
        if out.bridge_id:
            core.emit(ev.bridge_event("BridgeDestroy", out.bridge_id, 0))
        self._release_device(out)

    def _drop(self, channel: Channel, cause: HangupCause) -> None:
        core = self.core
        if not core.alive(channel):
            return
        if channel.bridge_id:
            still = sum(
                1
                for c in core.channels.values()
                if c.bridge_id == channel.bridge_id and c is not channel
            )
            core.leave_bridge(channel, still)
        core.hangup(channel, cause)

    def _release_device(self, out: OutboundCall) -> None:
        if out.holds_device:
            out.holds_device = False
            self.core.device_down(out.interface)
