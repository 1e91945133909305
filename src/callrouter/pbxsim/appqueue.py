"""app_queue: callers waiting, members rung, answered, bridged and completed.

Where Asterisk's threads make an order vary, a seeded coin picks it (`PBXCore.coin`):
- AgentComplete comes before the member's QueueMemberStatus (ami-traces 02, 03, 06), or
  after it: with every snapshot and the member's new CallsTaken already in the status, or,
  when app_queue handled the hangup late, without the snapshots of channels already gone
  (no caller headers, no Dest* headers) and after a status that still has the old total;
- BridgeDestroy comes before or after the agent's last Hangup (02 vs 03).
A caller Redirected out of a queue bridge leaves the member idle at once (the agent's
channels hang up, QueueMemberStatus 1) but app_queue only completes that call, without
Dest* headers, when the caller finally hangs up; until then the member's list row says
InCall: 1 and CallsTaken is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import structlog

from callrouter.ami import Message
from callrouter.pbxsim import events as ev
from callrouter.pbxsim.calls import AgentOffer, InboundCall, Outcome, Stage
from callrouter.pbxsim.channels import Channel, ChannelState, HangupCause
from callrouter.pbxsim.core import PBXCore
from callrouter.pbxsim.queues import Member, Queue

log = structlog.get_logger(__name__)

_LOCAL = re.compile(r"^Local/(?P<exten>[^@/]+)@(?P<context>[^/]+)(?:/\w+)?$")
#: Priority of Queue() in [hotline-queue] (dialplans/extensions.conf).
QUEUE_PRIORITY = 4
#: The context of the on-call queue's members (dialplans/extensions.conf).
TECHNICIAN_CONTEXT = "oncall-technician"

Outcomes = Callable[[str, str], tuple[Outcome, float]]
Later = Callable[[], None] | None


class AppQueue:
    def __init__(self, core: PBXCore, outcome: Outcomes) -> None:
        self.core = core
        self._outcome = outcome
        self._retry_pending: set[str] = set()
        #: The caller's dialplan after Queue() returns (set by the hotline dialplan).
        self.after_queue: Callable[[InboundCall, str], None] = lambda call, status: None
        #: Whoever follows the callers (the traffic's redials) learns each call's end.
        self.on_caller_gone: Callable[[InboundCall], None] = lambda call: None

    # ------------------------------------------------------------------ callers

    def enter(
        self,
        call: InboundCall,
        queue: Queue,
        priority: int,
        *,
        timeout: float | None = None,
        rule: str = "",
    ) -> None:
        """Queue(name,,,,timeout,,,rule): a rule needs QUEUE_MAX_PENALTY (the on-call
        dialplan sets 0), as app_queue widens only a penalty the caller has."""
        core, leg = self.core, call.leg
        timeout = core.settings.queue_timeout if timeout is None else timeout
        leg.priority, leg.application = QUEUE_PRIORITY, "Queue"
        leg.application_data = f"{queue.name},,,,{int(timeout)}" + (f",,,{rule}" if rule else "")
        call.stage, call.queue = Stage.QUEUED, queue
        call.entry = queue.join(leg, priority, core.now())
        if rule:
            call.entry.max_penalty = 0
            call.entry.rules = list(core.settings.queue_rules.get(rule, ()))
        core.emit(
            ev.channel_event(
                "QueueCallerJoin",
                ev.AGENT,
                leg,
                [
                    ("Queue", queue.name),
                    ("Position", str(queue.position(call.entry))),
                    ("Count", str(len(queue.entries))),
                ],
            )
        )
        core.emit(ev.music_on_hold(leg, start=True))
        call.queue_timeout = core.later(timeout, lambda: self._timed_out(call))
        if call.patient:
            call.patience = core.later(
                core.uniform(core.settings.patience), lambda: self.abandon(call)
            )
        self.dispatch(queue)

    def _timed_out(self, call: InboundCall) -> None:
        """Queue()'s timeout: the caller leaves the queue (no abandon) and the dialplan goes on."""
        if call.stage is Stage.QUEUED:
            self.leave(call, abandoned=False)
            self.after_queue(call, "TIMEOUT")

    def abandon(self, call: InboundCall) -> None:
        """A waiting caller puts the phone down."""
        call.stop_timers()
        core = self.core
        if core.alive(call.leg):
            core.emit(ev.hangup_request(call.leg, HangupCause.NORMAL_CLEARING))
        core.hangup(call.handset, HangupCause.NORMAL_CLEARING)
        self.leave(call, abandoned=True)
        self.caller_gone(call)
        if core.alive(call.leg):
            core.emit(ev.hangup_request(call.leg, HangupCause.NORMAL_CLEARING, soft=True))
        core.hangup(call.leg, HangupCause.NORMAL_CLEARING)
        call.stage = Stage.GONE

    def leave(self, call: InboundCall, *, abandoned: bool) -> None:
        queue, entry, core = call.queue, call.entry, self.core
        if queue is None or entry is None:
            return
        core.cancel(call.patience, call.queue_timeout)
        for offer in list(call.offers):
            self._end_offer(offer, "CANCEL")
        position = str(queue.position(entry))
        if abandoned:
            queue.abandoned += 1
            core.emit(
                ev.channel_event(
                    "QueueCallerAbandon",
                    ev.AGENT,
                    call.leg,
                    [
                        ("Queue", queue.name),
                        ("Position", position),
                        ("OriginalPosition", str(entry.original_position)),
                        ("HoldTime", str(int(core.now() - entry.joined_at))),
                    ],
                )
            )
        core.emit(ev.music_on_hold(call.leg, start=False))
        queue.entries.remove(entry)
        call.entry = None
        core.emit(
            ev.channel_event(
                "QueueCallerLeave",
                ev.AGENT,
                call.leg,
                [("Queue", queue.name), ("Position", position), ("Count", str(len(queue.entries)))],
            )
        )

    # ------------------------------------------------------------------ ringing members

    def dispatch_all(self) -> None:
        for queue in self.core.queues.values():
            self.dispatch(queue)

    def dispatch(self, queue: Queue) -> None:
        for entry in list(queue.entries):
            call = self.core.owners.get(entry.channel.name)
            if not isinstance(call, InboundCall) or call.offers:
                continue
            entry.apply_rules(self.core.now())
            members = queue.pick(self.core.available, entry)
            if not members:
                if entry.max_penalty is not None:
                    # nobody in this caller's layers: app_queue tries again after `retry`
                    # (the rule may have widened them by then); the next caller may differ
                    self._retry_later(queue)
                    continue
                return
            for member in members:
                self._ring(call, queue, member)

    def _retry_later(self, queue: Queue) -> None:
        if queue.name in self._retry_pending:
            return
        self._retry_pending.add(queue.name)

        def retry() -> None:
            self._retry_pending.discard(queue.name)
            self.dispatch(queue)

        self.core.later(self.core.settings.retry, retry)

    def _ring(self, call: InboundCall, queue: Queue, member: Member) -> None:
        core, leg = self.core, call.leg
        match = _LOCAL.match(member.interface)
        exten, context = (match["exten"], match["context"]) if match else (member.interface, "")
        one, two = core.new_pair(exten, context or "agents", leg.linkedid)
        offer = AgentOffer(call, queue, member, one, two, core.now())
        core.own(offer, one, two)
        call.offers.append(offer)
        for channel in (one, two):
            channel.set_caller(leg.caller_num, leg.caller_name)
        core.emit(ev.new_callerid(one))
        core.emit(ev.new_callerid(two))
        two.set_connected(leg.caller_num, leg.caller_name)
        core.emit(ev.new_connected_line(two))
        member_headers = [
            ("Queue", queue.name),
            ("Interface", member.interface),
            ("MemberName", member.name),
        ]
        core.emit(ev.dial_event("AgentCalled", ev.AGENT, leg, one, member_headers))
        core.emit(ev.dial_event("DialBegin", ev.CALL, leg, one, [("DialString", member.interface)]))
        outcome, delay = self._outcome(exten, context)
        rings = outcome is Outcome.ANSWER or outcome is Outcome.NEVER
        if rings:
            one.state = ChannelState.RINGING
            core.emit(ev.channel_event("Newstate", ev.CALL, one))
            one.set_connected(leg.caller_num, leg.caller_name)
            core.emit(ev.new_connected_line(one))
        ringing = ev.dial_event("DialState", ev.CALL, leg, one, [("DialStatus", "RINGING")])
        # The member's busy status and the caller's DialState come from two threads (03).
        if rings and core.coin():
            core.emit(ringing)
            core.device_up(member.interface)
        else:
            core.device_up(member.interface)
            if rings:
                core.emit(ringing)
        if context == TECHNICIAN_CONTEXT and outcome is Outcome.ANSWER:
            # [oncall-technician]: the phone answers, [oncall-confirm] asks for the key, and
            # only then does app_queue see an answer; its ring timeout still runs meanwhile
            offer.timer = core.later(core.settings.ring_timeout, lambda: self._ring_timeout(offer))
            offer.confirm = core.later(delay, lambda: self._technician_answers(offer, exten))
        elif outcome is Outcome.ANSWER and delay <= core.settings.ring_timeout:
            offer.timer = core.later(delay, lambda: self._agent_answers(offer))
        elif rings:
            offer.timer = core.later(core.settings.ring_timeout, lambda: self._ring_timeout(offer))
        else:
            status = "BUSY" if outcome is Outcome.BUSY else "CHANUNAVAIL"
            offer.timer = core.later(0.0, lambda: self.fail_offer(offer, status))

    def _technician_answers(self, offer: AgentOffer, number: str) -> None:
        """[oncall-confirm] on the technician's answered phone: `callrouter/astreinte-
        confirmer`, then 1 (OnCallConfirmed, and the queue connects) or no key within
        ONCALL_CONFIRM_SECS (OnCallDeclined, the leg hangs up, the queue goes on)."""
        core, settings = self.core, self.core.settings
        confirms = settings.technicians.get(number, "confirms") == "confirms"
        prompt = settings.prompts.get("callrouter/astreinte-confirmer", settings.message_time)
        # the key comes as the prompt starts; a voicemail stays silent to the timeout
        listening = 1.0 if confirms else prompt + settings.oncall_confirm_seconds
        leg = offer.call.leg
        headers = [("CallerUniqueid", leg.uniqueid), ("Technician", offer.member.interface)]

        def decided() -> None:
            offer.confirm = None
            if confirms:
                hold = ("Hold", leg.variables.get("HOTLINE_HOLD", ""))
                core.emit(
                    ev.user_event(offer.two, "OnCallConfirmed", [headers[0], hold, headers[1]])
                )
                core.cancel(offer.timer)
                self._agent_answers(offer)
            else:
                core.emit(ev.user_event(offer.two, "OnCallDeclined", headers))
                core.cancel(offer.timer)
                self._ring_timeout(offer)

        offer.confirm = core.later(listening, decided)

    def _ring_timeout(self, offer: AgentOffer) -> None:
        headers = [
            ("Queue", offer.queue.name),
            ("Interface", offer.member.interface),
            ("MemberName", offer.member.name),
            ("RingTime", str(int(self.core.now() - offer.started))),
        ]
        self.core.emit(
            ev.dial_event("AgentRingNoAnswer", ev.AGENT, offer.call.leg, offer.one, headers)
        )
        self.fail_offer(offer, "NOANSWER")

    def fail_offer(self, offer: AgentOffer, status: str) -> None:
        self._end_offer(offer, status)
        self._retry_later(offer.queue)

    def _end_offer(self, offer: AgentOffer, status: str) -> None:
        """Stop ringing one member (no answer, busy, or cancelled)."""
        core = self.core
        core.cancel(offer.timer, offer.confirm)
        if offer in offer.call.offers:
            offer.call.offers.remove(offer)
        core.emit(
            ev.dial_event("DialEnd", ev.CALL, offer.call.leg, offer.one, [("DialStatus", status)])
        )
        core.pair_down(offer.one, offer.two, HangupCause.NORMAL_CLEARING, from_dialplan=True)
        core.device_down(offer.member.interface)

    def _agent_answers(self, offer: AgentOffer) -> None:
        core = self.core
        call, queue, member = offer.call, offer.queue, offer.member
        one, two = offer.one, offer.two
        two.state, two.priority = ChannelState.UP, 4
        core.emit(ev.channel_event("Newstate", ev.CALL, two))
        one.state = ChannelState.UP
        core.emit(ev.channel_event("Newstate", ev.CALL, one))
        core.emit(ev.dial_event("DialEnd", ev.CALL, call.leg, one, [("DialStatus", "ANSWER")]))
        call.offers.remove(offer)
        for other in list(call.offers):
            self._end_offer(other, "CANCEL")
        entry = call.entry
        holdtime = core.now() - entry.joined_at if entry is not None else 0.0
        self.leave(call, abandoned=False)
        queue.record_answer(holdtime)
        offer.answered_at, offer.holdtime = core.now(), holdtime
        call.stage, call.connection, call.served = Stage.CONNECTED, offer, True
        core.emit(
            ev.dial_event(
                "AgentConnect",
                ev.AGENT,
                call.leg,
                one,
                [
                    ("Queue", queue.name),
                    ("Interface", member.interface),
                    ("MemberName", member.name),
                    ("HoldTime", str(int(holdtime))),
                    ("RingTime", str(int(offer.answered_at - offer.started))),
                ],
            )
        )
        offer.bridge_id = core.bridge(one, call.leg)
        core.in_call.add(member.interface)
        log.debug("pbxsim.call.connected", channel=call.leg.name, member=member.name)
        if call.patient:
            talk = core.uniform(core.settings.talk_time)
            call.talk = core.later(talk, lambda: self._talk_ends(call))

    def _talk_ends(self, call: InboundCall) -> None:
        if call.stage is not Stage.CONNECTED or call.connection is None:
            return
        if self.core.rng.random() < 0.5:
            self.caller_hangs_up(call, HangupCause.NORMAL_CLEARING, handset=True)
        else:
            offer = call.connection
            self.agent_hangs_up(offer, offer.two, HangupCause.NORMAL_CLEARING)

    # ------------------------------------------------------------------ completion

    def _complete_message(
        self, offer: AgentOffer, reason: str, caller: Channel | None, agent: Channel | None
    ) -> Message:
        talk = int(self.core.now() - offer.answered_at)
        return ev.dial_event(
            "AgentComplete",
            ev.AGENT,
            caller,
            agent,
            [
                ("Queue", offer.queue.name),
                ("Interface", offer.member.interface),
                ("MemberName", offer.member.name),
                ("HoldTime", str(int(offer.holdtime))),
                ("TalkTime", str(talk)),
                ("Reason", reason),
            ],
        )

    def _update_queue(self, offer: AgentOffer) -> None:
        """app_queue's update_queue(): the member's totals, and no longer in a call."""
        core, member = self.core, offer.member
        core.in_call.discard(member.interface)
        member.calls_taken += 1
        member.last_call = core.now()
        offer.queue.record_completion(core.now() - offer.answered_at)

    def _complete(self, offer: AgentOffer, reason: str) -> Later:
        """Complete the call now, or return what to do once the member's status is out."""
        core = self.core
        caller, agent = offer.call.leg, offer.one
        if core.coin():
            core.emit(self._complete_message(offer, reason, caller, agent))
            self._update_queue(offer)
            return None
        if core.coin():
            message = self._complete_message(offer, reason, caller, agent)
            self._update_queue(offer)
            return lambda: core.emit(message)

        def late() -> None:
            alive = [c if core.alive(c) else None for c in (caller, agent)]
            core.emit(self._complete_message(offer, reason, alive[0], alive[1]))
            self._update_queue(offer)

        return late

    def _release_agent(self, offer: AgentOffer, later: Later) -> None:
        """The agent's half leaves the bridge and hangs up; the member is free again."""
        core = self.core
        offer.call.connection = None
        core.leave_bridge(offer.one, 0)
        destroy = ev.bridge_event("BridgeDestroy", offer.bridge_id, 0)
        early = core.coin()
        if early:
            core.emit(destroy)
        core.pair_down(offer.one, offer.two, HangupCause.NORMAL_CLEARING)
        if not early:
            core.emit(destroy)
        core.device_down(offer.member.interface)
        if later is not None:
            later()

    def caller_hangs_up(self, call: InboundCall, cause: HangupCause, *, handset: bool) -> None:
        """The connected caller hangs up: the handset (`;1`) or, by AMI, the `;2` half."""
        offer = call.connection
        assert offer is not None
        call.stop_timers()
        core = self.core
        first, second = (call.handset, call.leg) if handset else (call.leg, call.handset)
        if core.alive(second):
            core.emit(ev.hangup_request(second, cause))
        later = self._complete(offer, "caller")
        core.hangup(first, cause)
        core.leave_bridge(call.leg, 1)
        if core.alive(second):
            core.emit(ev.hangup_request(second, HangupCause.NORMAL_CLEARING, soft=True))
        core.hangup(second, HangupCause.NORMAL_CLEARING)
        self._release_agent(offer, later)
        self.caller_gone(call)
        call.stage = Stage.GONE

    def agent_hangs_up(self, offer: AgentOffer, target: Channel, cause: HangupCause) -> None:
        """The agent ends the call: Queue() was started without `c`, so the caller is hung up."""
        core, call = self.core, offer.call
        call.stop_timers()
        other = offer.one if target is offer.two else offer.two
        core.emit(ev.hangup_request(other, cause))
        later = self._complete(offer, "agent")
        core.hangup(target, cause)
        core.leave_bridge(offer.one, 1)
        if core.alive(other):
            core.emit(ev.hangup_request(other, HangupCause.NORMAL_CLEARING, soft=True))
        core.hangup(other, HangupCause.NORMAL_CLEARING)
        core.leave_bridge(call.leg, 0)
        core.emit(ev.bridge_event("BridgeDestroy", offer.bridge_id, 0))
        call.connection = None
        core.pair_down(call.leg, call.handset, HangupCause.NORMAL_CLEARING, from_dialplan=True)
        core.device_down(offer.member.interface)
        if later is not None:
            later()
        self.caller_gone(call)
        call.stage = Stage.GONE

    def redirected_out(self, call: InboundCall) -> None:
        """A Redirect takes the connected caller out of the bridge (an escalation)."""
        offer = call.connection
        assert offer is not None
        self.core.cancel(call.talk)
        self.core.leave_bridge(call.leg, 1)
        call.deferred.append(offer)
        self._release_agent(offer, None)

    def caller_gone(self, call: InboundCall) -> None:
        """The caller's channel is gone: app_queue completes the calls it was Redirected out
        of, with the caller's last snapshot and nothing about the agent."""
        self.on_caller_gone(call)
        for offer in call.deferred:
            self.core.emit(self._complete_message(offer, "caller", call.leg, None))
            self._update_queue(offer)
        call.deferred.clear()
