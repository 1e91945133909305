"""The hotline dialplan of dialplans/extensions.conf, context by context, on model time.

`[from-trunk]` (or `[hotline]`) -> `[hotline-answer]`: Answer, Playback(bienvenue), account
and PIN by `[hotline-identify]`, the pass digit, all read by DTMF as Read() does (`ivr.py`)
-> `[hotline-hold]`: UserEvent(HotlineCall), MusicOnHold for HOTLINE_ROUTER_WAIT, then the
fail-safe -> `[queue-<name>]` -> `[hotline-queue]`: UserEvent(HotlineQueued), Queue().
The router Redirects to `queue-<name>`, `hotline-message` or `hotline-pin-retry`.
"""

from __future__ import annotations

import re
from functools import partial

import structlog

from callrouter.pbxsim import events as ev
from callrouter.pbxsim.appqueue import AppQueue
from callrouter.pbxsim.calls import InboundCall, OriginateRequest, Stage, parse_caller_id
from callrouter.pbxsim.channels import ChannelState, HangupCause
from callrouter.pbxsim.core import PBXCore
from callrouter.pbxsim.ivr import Identification, identify, keying
from callrouter.pbxsim.originate import originate_success
from callrouter.pbxsim.settings import CallerProfile

log = structlog.get_logger(__name__)

#: Seconds SayUnixTime takes to say "lundi 24 novembre à 8 heures".
SAY_UNIX_TIME = 3.0
#: HOTLINE_MAX_ATTEMPTS: account + PIN entries per call, then the dialplan refuses.
MAX_PIN_ATTEMPTS = 3
#: The queue [queue-oncall] sends callers to, through [oncall-queue].
ONCALL_QUEUE = "oncall"
#: Extensions the inbound contexts match: `_[0-9+].` in [from-trunk] and [hotline].
INBOUND_EXTEN = re.compile(r"^[0-9+].+$")
INBOUND_CONTEXTS = frozenset({"from-trunk", "hotline"})
#: ${FILTER(\x20-\x21\x23-\x2b\x2d-\x5b\x5d-\x7e\x80-\xff,...)} on the caller's name.
_NAME_DROPPED = re.compile(r'[",\\\x00-\x1f]')


def dtmf_for(profile: CallerProfile, attempt: int) -> str:
    """What a traffic caller keys: account then `#`, PIN then `#`, then the pass digit
    (first attempt only: [hotline-pin-retry] keeps it). A beneficiary, known by caller
    ID, presses `#` alone at the account prompt, as told, and is asked no PIN."""
    keys = f"{profile.account}#{profile.pin_for(attempt)}#" if profile.account else "#"
    return keys + profile.pass_digit if attempt == 1 else keys


class HotlineDialplan:
    def __init__(self, core: PBXCore, app_queue: AppQueue) -> None:
        self.core = core
        self.app_queue = app_queue
        app_queue.after_queue = self._after_queue

    # ------------------------------------------------------------------ entry

    def start(
        self,
        profile: CallerProfile,
        *,
        context: str,
        did: str,
        dtmf: str,
        originate: OriginateRequest | None = None,
    ) -> InboundCall:
        """A call reaches `context` (from-trunk or hotline) for `did`; the handset keys `dtmf`."""
        core = self.core
        core.calls_placed += 1
        handset, leg = core.new_pair(did, context, None)
        patient = originate is None
        call = InboundCall(handset, leg, profile, core.now(), patient, did=did)
        core.own(call, handset, leg)
        for channel in (handset, leg):
            channel.set_caller(profile.caller_id, profile.name)
            channel.set_connected(profile.caller_id, profile.name)
            core.emit(ev.new_callerid(channel))
            core.emit(ev.new_connected_line(channel))
        core.emit(
            ev.dial_event("DialBegin", ev.CALL, None, handset, [("DialString", f"{did}@{context}")])
        )
        leg.context, leg.exten, leg.priority = "hotline-answer", "s", 1
        leg.state = ChannelState.UP
        core.emit(ev.newexten(leg, "Answer", ""))
        handset.state = ChannelState.UP
        # Both halves go Up from two threads: either Newstate may come first (02 vs 03).
        halves = (leg, handset) if core.coin() else (handset, leg)
        for channel in halves:
            core.emit(ev.channel_event("Newstate", ev.CALL, channel))
        # OriginateResponse comes from the originating thread: before or after the DialEnd
        # (02 vs 03).
        response = None
        if originate is not None and originate.asynchronous:
            response = originate_success(originate, handset)
        early = core.coin()
        if response is not None and early:
            core.emit(response)
        core.emit(ev.dial_event("DialEnd", ev.CALL, None, handset, [("DialStatus", "ANSWER")]))
        if response is not None and not early:
            core.emit(response)
        wait = self.core.settings.dtmf_delay
        if originate is not None:
            wait = self._handset_runs(call, originate)
        leg.priority, leg.application = 7, "Playback"
        self._identify(call, dtmf, wait, first=True)
        log.debug("pbxsim.call.placed", caller=profile.caller_id, channel=leg.name)
        return call

    def _handset_runs(self, call: InboundCall, originate: OriginateRequest) -> float:
        """The `;1` half runs what the Originate asked: Application=Wait hangs up when the
        Wait ends; Context/Exten is the project's test caller (Wait TEST_WAIT, SendDTMF
        TEST_DTMF, Wait TEST_STAY, Hangup). Returns when its keying starts."""
        core, handset, settings = self.core, call.handset, self.core.settings
        if originate.application:
            handset.application, handset.application_data = originate.application, originate.data
            stay = _float(originate.data, 0.0) if originate.application.lower() == "wait" else 0.0
            wait = settings.test_wait
        else:
            handset.context, handset.exten = originate.context, originate.exten
            handset.application = "Wait"
            wait = _float(originate.variable("TEST_WAIT"), settings.test_wait)
            keys = keying(originate.variable("TEST_DTMF"), wait, settings.dtmf_gap)
            stay = keys[-1].ends + settings.dtmf_gap if keys else wait
            stay += _float(originate.variable("TEST_STAY"), settings.test_stay)
        if stay > 0:
            call.handset_timer = core.later(stay, lambda: self.handset_hangs_up(call))
        return wait

    # ------------------------------------------------------------------ IVR

    def _identify(self, call: InboundCall, dtmf: str, wait: float, *, first: bool) -> None:
        """[hotline-answer] (first) or [hotline-pin-retry]: a Playback nobody can cut, then
        [hotline-identify]'s Read()s; the handset keys `dtmf` from `wait` seconds on."""
        core, settings = self.core, self.core.settings
        call.stage = Stage.IVR
        now = core.now()
        sound = "callrouter/bienvenue" if first else "callrouter/code-incorrect"
        keys = keying(dtmf, now + wait, settings.dtmf_gap)
        result = identify(
            keys,
            now + settings.prompts.get(sound, 0.0),
            settings.prompts,
            settings.digit_timeout,
            with_pass=first,
        )
        for key in keys if core.wants(ev.DTMF) else ():
            call.keying.append(
                core.later(key.begins - now, partial(self._tone, call, key.digit, end=False))
            )
            call.keying.append(
                core.later(key.ends - now, partial(self._tone, call, key.digit, end=True))
            )
        call.step = core.later(result.ends_at - now, lambda: self._identified(call, result))

    def _tone(self, call: InboundCall, digit: str, *, end: bool) -> None:
        core = self.core
        if core.alive(call.handset) and core.alive(call.leg):
            core.emit(ev.dtmf(call.handset, digit, end=end, received=False))
            core.emit(ev.dtmf(call.leg, digit, end=end, received=True))

    def _identified(self, call: InboundCall, result: Identification) -> None:
        call.account, call.pin = result.account, result.pin
        if call.attempt == 1:
            call.pass_digit = result.pass_digit
        # The channel variables the dialplan leaves (Getvar reads them, as reconcile does).
        call.leg.variables.update(
            HOTLINE_DID=call.did,
            HOTLINE_ARRIVAL=str(int(call.arrival)),
            HOTLINE_ATTEMPT=str(call.attempt),
            HOTLINE_ACCOUNT=call.account,
            HOTLINE_PIN=call.pin,
            HOTLINE_PASS=call.pass_digit,
        )
        self._hold(call)

    # ------------------------------------------------------------------ hold and fail-safe

    def _hold(self, call: InboundCall) -> None:
        core, leg, profile = self.core, call.leg, call.profile
        leg.context, leg.exten, leg.priority = "hotline-hold", "s", 1
        core.emit(ev.newexten(leg, "Set", f"HOTLINE_HELD_AT={int(core.now())}"))
        held_at = core.now()
        leg.priority = 2
        core.emit(
            ev.user_event(
                leg,
                "HotlineCall",
                [
                    ("Caller", "".join(c for c in profile.caller_id if c.isdigit() or c == "+")),
                    ("CallerName", _NAME_DROPPED.sub("", profile.name)),
                    ("HotlineDID", call.did),
                    ("Arrival", str(int(call.arrival))),
                    ("Account", call.account),
                    ("Pin", call.pin),
                    ("Pass", call.pass_digit),
                    ("Attempt", str(call.attempt)),
                ],
            )
        )
        leg.priority, leg.application = 3, "MusicOnHold"
        core.emit(ev.music_on_hold(leg, start=True))
        call.stage = Stage.WAITING_ROUTER
        call.step = core.later(core.settings.router_wait, lambda: self._failsafe(call, held_at))

    def _failsafe(self, call: InboundCall, held_at: float) -> None:
        core, leg = self.core, call.leg
        waited = str(int(core.now()) - int(held_at))
        core.emit(ev.music_on_hold(leg, start=False))
        leg.priority = 4
        core.emit(
            ev.user_event(
                leg, "HotlineFailsafe", [("Caller", call.profile.caller_id), ("Waited", waited)]
            )
        )
        leg.variables["HOTLINE_ROUTE"] = "failsafe"
        log.info("pbxsim.call.failsafe", channel=leg.name, waited=waited)
        self._enter_queue(call, "coordinators")

    def _enter_queue(self, call: InboundCall, name: str) -> None:
        core, leg = self.core, call.leg
        queue = core.queues[name]
        leg.context, leg.exten, leg.priority = f"queue-{name}", "s", 1
        core.emit(ev.newexten(leg, "Set", f"HOTLINE_QUEUE={name}"))
        leg.context, leg.priority = "hotline-queue", 3
        leg.variables["HOTLINE_QUEUE"] = name
        if not leg.variables.get("QUEUE_PRIO"):
            leg.variables["QUEUE_PRIO"] = "0"
        try:
            priority = int(leg.variables["QUEUE_PRIO"])
        except ValueError:
            priority = 0
        core.emit(ev.newexten(leg, "UserEvent", "HotlineQueued"))
        core.emit(
            ev.user_event(
                leg, "HotlineQueued", [("Queue", queue.name), ("QueuePriority", str(priority))]
            )
        )
        if name == ONCALL_QUEUE and core.settings.oncall_escalation:
            leg.context = "oncall-queue"
            leg.variables["ONCALL_PASS"] = "1"
            self._oncall_pass(call, priority)
            return
        self.app_queue.enter(call, queue, priority)

    def _oncall_pass(self, call: InboundCall, priority: int) -> None:
        """[oncall-queue]: one pass of the escalation chain, the primary alone at first
        (QUEUE_MAX_PENALTY=0, rule oncall-escalation); nobody on call at all: JOINEMPTY
        (queues.conf joinempty = invalid)."""
        core, leg = self.core, call.leg
        queue = core.queues[ONCALL_QUEUE]
        core.emit(
            ev.user_event(
                leg,
                "OnCallPass",
                [("CallerUniqueid", leg.uniqueid), ("Pass", leg.variables["ONCALL_PASS"])],
            )
        )
        if not queue.members:
            self._oncall_unanswered(call, "JOINEMPTY")
            return
        self.app_queue.enter(
            call,
            queue,
            priority,
            timeout=core.settings.oncall_pass_seconds,
            rule="oncall-escalation",
        )

    def _oncall_unanswered(self, call: InboundCall, status: str) -> None:
        """[oncall-unanswered]: callrouter owes a callback; the caller may leave a message."""
        core, leg = self.core, call.leg
        leg.variables["QUEUESTATUS"] = status
        call.stage = Stage.MESSAGE
        message = f"/var/spool/asterisk/oncall/{leg.uniqueid}.gsm"
        core.emit(
            ev.user_event(
                leg,
                "OnCallUnanswered",
                [
                    ("CallerUniqueid", leg.uniqueid),
                    ("Caller", leg.variables.get("HOTLINE_CALLER", leg.caller_num)),
                    ("Status", status),
                    ("Message", message),
                ],
            )
        )
        seconds = self._playing("callrouter/astreinte-message") + core.settings.message_time
        call.step = core.later(seconds, lambda: self.finish(call))

    def _after_queue(self, call: InboundCall, status: str) -> None:
        """Queue() returned without an agent: WITHDRAW plays `rappel-programme`, anything
        else (TIMEOUT) `aucun-agent`; then the dialplan hangs up. The on-call queue runs
        its next pass, or after the last one offers the message."""
        leg = call.leg
        escalates = self.core.settings.oncall_escalation
        if (
            escalates
            and leg.variables.get("HOTLINE_QUEUE") == ONCALL_QUEUE
            and status != "WITHDRAW"
        ):
            passed = int(leg.variables.get("ONCALL_PASS", "1"))
            if status == "TIMEOUT" and passed < self.core.settings.oncall_passes:
                leg.variables["ONCALL_PASS"] = str(passed + 1)
                self._oncall_pass(call, int(leg.variables.get("QUEUE_PRIO") or 0))
            else:
                self._oncall_unanswered(call, status)
            return
        call.leg.variables["QUEUESTATUS"] = status
        call.stage = Stage.MESSAGE
        sound = "callrouter/rappel-programme" if status == "WITHDRAW" else "callrouter/aucun-agent"
        self.core.emit(ev.newexten(call.leg, "Playback", sound))
        call.step = self.core.later(self._playing(sound), lambda: self.finish(call))

    # ------------------------------------------------------------------ the router's Redirect

    def redirect(self, call: InboundCall, context: str) -> None:
        core = self.core
        core.cancel(call.step, *call.keying)
        call.keying.clear()
        if call.stage is Stage.WAITING_ROUTER:
            core.emit(ev.music_on_hold(call.leg, start=False))
        elif call.stage is Stage.QUEUED:
            self.app_queue.leave(call, abandoned=False)
        elif call.stage is Stage.CONNECTED and call.connection is not None:
            self.app_queue.redirected_out(call)
        leg = call.leg
        name = context.removeprefix("queue-")
        if context.startswith("queue-") and name in core.queues:
            self._enter_queue(call, name)
            return
        if context == "hotline-message":
            self._message(call)
        elif context == "hotline-pin-retry":
            leg.context, leg.exten, leg.priority = context, "s", 1
            call.attempt += 1
            core.emit(ev.newexten(leg, "Set", f"HOTLINE_ATTEMPT={call.attempt}"))
            if call.attempt > MAX_PIN_ATTEMPTS:
                leg.variables["HOTLINE_MESSAGE"] = "callrouter/refused"
                leg.variables["HOTLINE_OPENS_AT"] = ""
                self._message(call)
            else:
                # A traffic caller keys again; the test caller keyed its digits once.
                again = dtmf_for(call.profile, call.attempt) if call.patient else ""
                self._identify(call, again, core.settings.dtmf_delay, first=False)
        elif context == "hotline-hold":
            self._hold(call)
        else:
            # Redirect is not validated: a context that does not exist hangs up (07-errors).
            leg.context, leg.exten, leg.priority = context, "s", 1
            self.finish(call, HangupCause.UNKNOWN)

    def _message(self, call: InboundCall) -> None:
        leg = call.leg
        leg.context, leg.exten, leg.priority = "hotline-message", "s", 2
        call.stage = Stage.MESSAGE
        sound = leg.variables.get("HOTLINE_MESSAGE", "")
        self.core.emit(ev.newexten(leg, "Playback", sound))
        seconds = self._playing(sound)
        if leg.variables.get("HOTLINE_OPENS_AT"):
            seconds += self._playing("callrouter/reouverture") + SAY_UNIX_TIME
        call.step = self.core.later(seconds, lambda: self.finish(call))

    def _playing(self, sound: str) -> float:
        """How long a Playback() of `sound` lasts (`message_time` for a sound not listed)."""
        return self.core.settings.prompts.get(sound, self.core.settings.message_time)

    # ------------------------------------------------------------------ hanging up

    def finish(self, call: InboundCall, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        """The `;2` half's dialplan ends (Hangup(), or a context that does not exist)."""
        call.stage = Stage.GONE
        call.stop_timers()
        self.core.pair_down(call.leg, call.handset, cause, from_dialplan=True)
        self.app_queue.caller_gone(call)

    def handset_hangs_up(self, call: InboundCall, cause: HangupCause = HangupCause.UNKNOWN) -> None:
        """The caller puts the phone down (Wait over, AMI Hangup of `;1`)."""
        if call.stage is Stage.CONNECTED and call.connection is not None:
            self.app_queue.caller_hangs_up(call, cause, handset=True)
        elif call.stage is Stage.QUEUED:
            self.app_queue.abandon(call)
        else:
            call.stop_timers()
            if call.stage is Stage.WAITING_ROUTER:
                self.core.emit(ev.music_on_hold(call.leg, start=False))
            self.core.pair_down(call.handset, call.leg, cause)
            self.app_queue.caller_gone(call)
        call.stage = Stage.GONE

    def leg_hung_up(self, call: InboundCall) -> None:
        """AMI Hangup of the `;2` half."""
        cause = HangupCause.UNKNOWN
        if call.stage is Stage.CONNECTED and call.connection is not None:
            self.app_queue.caller_hangs_up(call, cause, handset=False)
        else:
            call.stop_timers()
            if call.stage is Stage.QUEUED:
                self.app_queue.leave(call, abandoned=True)
            self.core.pair_down(call.leg, call.handset, cause)
            self.app_queue.caller_gone(call)
        call.stage = Stage.GONE


def inbound_target(channel: str) -> tuple[str, str] | None:
    """`Local/<exten>@from-trunk` or `Local/<exten>@hotline` -> (context, DID); `s` at
    from-trunk is the hotline's own number. None for anything else."""
    match = re.match(r"^Local/(?P<exten>[^@/]+)@(?P<context>[^/]+?)(?:/\w+)?$", channel)
    if match is None or match["context"] not in INBOUND_CONTEXTS:
        return None
    exten, context = match["exten"], match["context"]
    if context == "from-trunk" and exten == "s":
        return context, ""
    return (context, exten) if INBOUND_EXTEN.match(exten) else None


def inbound_profile(request: OriginateRequest) -> CallerProfile:
    number, name = parse_caller_id(request.caller_id)
    return CallerProfile(number, name)


def _float(text: str, default: float) -> float:
    try:
        return float(text)
    except ValueError:
        return default
