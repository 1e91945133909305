"""An expert's live state comes from the PBX's queue members, never from a guess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callrouter.ami.message import Message
from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.experts.presence import ExpertPresence, free_experts, presences
from callrouter.experts.rules import Absence, Expert
from callrouter.live.state import LiveState

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=PARIS).astimezone(UTC)  # a Monday
HOURS = HotlineCalendar.default().coordinators


def _expert(name: str, absences: tuple[Absence, ...] = ()) -> Expert:
    return Expert(name, f"PJSIP/{name}", frozenset({"knx"}), HOURS, absences)


def _member(
    name: str,
    status: str,
    *,
    paused: bool = False,
    calls: int = 0,
    in_call: bool = False,
    last_call: datetime | None = None,
) -> Message:
    return Message.event(
        "QueueMember",
        [
            ("Queue", "experts"),
            ("Name", name),
            ("Location", f"PJSIP/{name}"),
            ("CallsTaken", str(calls)),
            ("LastCall", str(int(last_call.timestamp())) if last_call else "0"),
            ("InCall", "1" if in_call else "0"),
            ("Status", status),
            ("Paused", "1" if paused else "0"),
        ],
    )


def _live(*members: Message) -> LiveState:
    live = LiveState(FakeClock(NOW))
    live.rebuild(
        [Message.event("QueueParams", [("Queue", "experts"), ("Calls", "0")]), *members], []
    )
    return live


def test_each_state_as_the_pbx_reports_it() -> None:
    live = _live(
        _member("anne", "1", calls=4, last_call=NOW - timedelta(minutes=30)),
        _member("bruno", "6"),
        _member("chloe", "2"),
        _member("david", "1", paused=True),
        _member("emma", "1", in_call=True),
        _member("fanny", "5"),
        _member("gilles", "1", calls=1, last_call=NOW - timedelta(minutes=5)),
        _member("jules", "1"),
    )
    away = Absence(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    experts = [
        _expert("anne"),
        _expert("bruno"),
        _expert("chloe"),
        _expert("david"),
        _expert("emma"),
        _expert("fanny"),
        _expert("gilles"),
        _expert("hugo"),  # not a member of the queue: the PBX says nothing of him
        _expert("ines", (away,)),
        _expert("jules"),
    ]
    assert presences(experts, live, NOW) == {
        "anne": ExpertPresence.FREE,
        "bruno": ExpertPresence.RINGING,
        "chloe": ExpertPresence.IN_CALL,
        "david": ExpertPresence.PAUSED,
        "emma": ExpertPresence.IN_CALL,
        "fanny": ExpertPresence.UNKNOWN,
        "gilles": ExpertPresence.FREE,
        "hugo": ExpertPresence.UNKNOWN,
        "ines": ExpertPresence.OFF_DUTY,
        "jules": ExpertPresence.FREE,
    }
    # The longest idle first: jules never took a call, anne's ended 30 minutes ago.
    assert [e.name for e in free_experts(experts, live, NOW)] == ["jules", "anne", "gilles"]
    evening = NOW + timedelta(hours=9)  # 19:00: outside the coordinators' window
    assert free_experts(experts, live, evening) == []


def test_presence_follows_member_events() -> None:
    live = _live(_member("anne", "1"))
    anne = _expert("anne")
    live.apply(
        Message.event(
            "QueueMemberPause",
            [
                ("Queue", "experts"),
                ("MemberName", "anne"),
                ("Interface", "PJSIP/anne"),
                ("Status", "1"),
                ("Paused", "1"),
            ],
        )
    )
    assert presences([anne], live, NOW) == {"anne": ExpertPresence.PAUSED}
    assert presences([anne], LiveState(FakeClock(NOW)), NOW) == {"anne": ExpertPresence.UNKNOWN}


def test_a_mangled_last_call_is_no_time() -> None:
    live = _live(_member("anne", "1"))
    live.apply(
        Message.event(
            "QueueMemberStatus",
            [("Queue", "experts"), ("Interface", "PJSIP/anne"), ("Status", "1"),
             ("LastCall", "99999999999999999999")],
        )
    )  # fmt: skip
    view = live.queue("experts")
    assert view is not None and view.members[0].last_call is None
    assert [e.name for e in free_experts([_expert("anne")], live, NOW)] == ["anne"]
